//! How a demo server's contents scale with its users, and the names both
//! the registry and the file areas must agree on.

const HANDLER_AREAS: &[&str] = &["Routing", "IVR", "CRM", "Utilities"];
const HANDLER_SUBFOLDERS: &[&str] = &["Inbound", "Outbound", "Shared\\Common"];

/// Counts that scale with the number of users.
pub(crate) struct Scale {
    pub workgroups: u64,
    pub line_groups: u64,
    pub skills: u64,
    pub reports: u64,
    pub client_buttons: u64,
    pub handlers: u64,
    pub attendant_profiles: u64,
    pub registration_groups: u64,
}

impl Scale {
    pub fn new(users: u64) -> Scale {
        Scale {
            workgroups: (users / 20).max(3),
            line_groups: (users / 50).max(2),
            skills: (users / 50).max(3),
            reports: (users / 10).max(10),
            client_buttons: (users / 100).max(5),
            handlers: (users / 10).max(6),
            attendant_profiles: (users / 200).max(2),
            registration_groups: (users / 250).max(2),
        }
    }
}

/// The name of report `r`; even reports are production reports.
pub(crate) fn report_name(r: u64) -> String {
    let kind = if r.is_multiple_of(2) {
        "Agent Performance"
    } else {
        "Custom Analysis"
    };
    format!("{kind} {:04}", r + 1)
}

/// Where custom handler `h` lives: its folder (relative to the custom
/// handlers area, `/`-separated) and its name.
pub fn handler_location(h: u64) -> (String, String) {
    let area = HANDLER_AREAS[(h % HANDLER_AREAS.len() as u64) as usize];
    let sub =
        HANDLER_SUBFOLDERS[((h / 4) % HANDLER_SUBFOLDERS.len() as u64) as usize].replace('\\', "/");
    (format!("{area}/{sub}"), format!("Custom{area}{:05}", h + 1))
}
