//! The registry of a demo CIC server.

use super::{dw, entry, multi, names, sz, Sink, LANGUAGES};
use crate::error::Result;
use crate::layout::{self, files};
use crate::machine_key::MachineKey;
use crate::root::ServerRoot;
use rand::{Rng, RngCore};
use transit_registry::{KeyPath, Registry, ValueData, WriteTxn};

/// Roughly how many values [`registry`] writes for `users` users.
pub fn estimated_values(users: u64) -> u64 {
    users * 50 + 2000
}

/// Counts that scale with the number of users.
pub(super) struct Scale {
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

fn key(text: &str) -> KeyPath {
    KeyPath::parse(text).expect("generated key paths are valid")
}

/// Writes the whole registry, committing container by container.
pub(super) fn registry(
    registry: &mut Registry,
    root: &ServerRoot,
    machine_key: &MachineKey,
    users: u64,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let scale = Scale::new(users);
    let salt = rng.next_u64();
    let site = root.site_name().to_string();
    let server = root.name().to_string();
    let ds = |container: &str, entry_name: &str| {
        root.ds_container(container)
            .join(entry_name)
            .expect("entry names are valid key segments")
    };

    // Users, in batches so one transaction never grows unbounded.
    for batch_start in (0..users).step_by(20_000) {
        let mut txn = registry.write()?;
        for i in batch_start..(batch_start + 20_000).min(users) {
            let (first, last, id) = names::user(salt, i);
            let wg1 = names::workgroup(i % scale.workgroups);
            let wg2 = names::workgroup((i * 7 + 3) % scale.workgroups);
            let mut groups = vec![wg1.clone()];
            if wg2 != wg1 && i % 3 == 0 {
                groups.push(wg2);
            }
            let role = if i % 10 < 7 {
                "Agent"
            } else {
                ROLES[(i % ROLES.len() as u64) as usize]
            };
            let skills: Vec<String> = (0..(i % 3))
                .map(|k| format!("Skill {}", (i + k) % scale.skills + 1))
                .collect();
            let mut pin = [0u8; 16];
            rng.fill_bytes(&mut pin);
            let ext = 10_000 + i;
            let mut values = vec![
                ("Display Name", sz(format!("{first} {last}"))),
                ("First Name", sz(first)),
                ("Last Name", sz(last)),
                ("Extension", sz(ext.to_string())),
                ("Email", sz(format!("{id}@example.com"))),
                ("Department", sz(names::department(salt, i))),
                ("Title", sz(names::title(salt, i))),
                ("Home Site", sz(site.clone())),
                ("Workgroups", multi(groups)),
                ("Roles", multi([role])),
                ("Default Station", sz(format!("STA-{:06}", i + 1))),
                ("Status", sz(STATUSES[rng.gen_range(0..STATUSES.len())])),
                ("Status Message", sz("")),
                (
                    "Status Changed",
                    sz(format!("2015-0{}-1{}T08:30:00Z", i % 9 + 1, i % 10)),
                ),
                ("NT Domain User", sz(format!("CORP\\{id}"))),
                ("Mailbox", sz(format!("{id}@mail.example.com"))),
                ("Voicemail PIN Hash", ValueData::Binary(pin.to_vec())),
                ("License Flags", dw(rng.gen_range(1..64))),
                ("Security Rights", dw(rng.gen_range(0..0xffff))),
                ("Access Flags", dw(rng.gen_range(0..256))),
                ("Language", sz(LANGUAGES[(i % 3) as usize])),
                ("Time Zone", sz("Eastern Standard Time")),
                ("Outbound ANI", sz(format!("317555{:04}", i % 10_000))),
                ("Cost Center", sz(format!("CC-{}", 100 + i % 40))),
                (
                    "Created",
                    ValueData::Qword(130_000_000_000_000_000 + i * 10_000_000),
                ),
            ];
            if !skills.is_empty() {
                values.push(("Skills", multi(skills)));
            }
            entry(&mut txn, sink, &ds("Users", &id), &values)?;
        }
        txn.commit()?;
    }

    let mut txn = registry.write()?;
    for w in 0..scale.workgroups {
        let name = names::workgroup(w);
        let members: Vec<String> = (w..users)
            .step_by(scale.workgroups as usize)
            .take(400)
            .map(|i| names::user(salt, i).2)
            .collect();
        let supervisors: Vec<String> = members.iter().take(2).cloned().collect();
        let mut values = vec![
            ("Extension", sz((5000 + w).to_string())),
            ("Queue Type", sz("ACD")),
            ("Description", sz(format!("{name} queue"))),
            ("Has Queue", dw(1)),
            ("Alert Timeout", dw(rng.gen_range(10..40))),
            ("Wrap Up Time", dw(rng.gen_range(0..120))),
            ("Mailbox", sz(format!("wg{w}@example.com"))),
        ];
        if !members.is_empty() {
            values.push(("Members", multi(members)));
            values.push(("Supervisors", multi(supervisors)));
        }
        entry(&mut txn, sink, &ds("Workgroups", &name), &values)?;
    }
    for (r, role) in ROLES.iter().enumerate() {
        entry(
            &mut txn,
            sink,
            &ds("Roles", role),
            &[
                ("Description", sz(format!("{role} role"))),
                ("Rights", multi(RIGHTS.iter().take(3 + r).copied())),
            ],
        )?;
    }
    for s in 0..scale.skills {
        entry(
            &mut txn,
            sink,
            &ds("Skills", &format!("Skill {}", s + 1)),
            &[
                ("Description", sz(format!("Proficiency area {}", s + 1))),
                (
                    "Category",
                    sz(["Language", "Product", "Tier"][(s % 3) as usize]),
                ),
            ],
        )?;
    }
    for (n, sched) in SCHEDULES.iter().enumerate() {
        entry(
            &mut txn,
            sink,
            &ds("Schedules", sched),
            &[
                ("Description", sz(format!("{sched} hours"))),
                ("Start", sz(format!("{:02}:00", 6 + n % 4))),
                ("End", sz(format!("{:02}:00", 16 + n % 6))),
                ("Recurrence", sz(["Daily", "Weekdays", "Weekends"][n % 3])),
            ],
        )?;
    }
    txn.commit()?;

    // Stations, lines and managed phones: one of each per user.
    for batch_start in (0..users).step_by(20_000) {
        let mut txn = registry.write()?;
        for i in batch_start..(batch_start + 20_000).min(users) {
            let sta = format!("STA-{:06}", i + 1);
            let line = format!("SIP-{:06}", i + 1);
            let ext = (10_000 + i).to_string();
            let mac = format!(
                "00:04:f2:{:02x}:{:02x}:{:02x}",
                (i >> 16) & 0xff,
                (i >> 8) & 0xff,
                i & 0xff
            );
            entry(
                &mut txn,
                sink,
                &ds("Stations", &sta),
                &[
                    ("Type", sz("SIP Station")),
                    ("Extension", sz(ext.clone())),
                    (
                        "Address",
                        sz(format!(
                            "sip:{ext}@10.20.{}.{}",
                            (i / 250) % 250,
                            i % 250 + 1
                        )),
                    ),
                    ("Line", sz(line.clone())),
                    ("Managed Phone", sz(format!("Phone-{:06}", i + 1))),
                    ("Location", sz(format!("Floor {}", i % 5 + 1))),
                    ("Active", dw(1)),
                ],
            )?;
            entry(
                &mut txn,
                sink,
                &ds("Lines", &line),
                &[
                    ("Type", sz("SIP")),
                    ("Address", sz(format!("sip:{ext}@pbx.example.com"))),
                    ("Direction", sz("Both")),
                    ("Max Calls", dw(2)),
                    (
                        "Line Group",
                        sz(format!("Line Group {}", i % scale.line_groups + 1)),
                    ),
                    ("Codec", sz(["G.711", "G.729", "Opus"][(i % 3) as usize])),
                    ("Active", dw(1)),
                ],
            )?;
            entry(
                &mut txn,
                sink,
                &ds("Managed IP Phones", &format!("Phone-{:06}", i + 1)),
                &[
                    ("MAC Address", sz(mac)),
                    (
                        "Model",
                        sz(["Polycom VVX 410", "Polycom VVX 500", "Yealink T46"][(i % 3) as usize]),
                    ),
                    (
                        "Registration Group",
                        sz(format!(
                            "Registration Group {}",
                            i % scale.registration_groups + 1
                        )),
                    ),
                    ("Station", sz(sta)),
                    ("Firmware", sz("5.9.5")),
                    ("Proxy Group", sz(format!("Proxy Group {}", i % 2 + 1))),
                ],
            )?;
        }
        txn.commit()?;
    }

    let mut txn = registry.write()?;
    for g in 0..scale.line_groups {
        let lines: Vec<String> = (g..users)
            .step_by(scale.line_groups as usize)
            .take(200)
            .map(|i| format!("SIP-{:06}", i + 1))
            .collect();
        let mut values = vec![
            ("Description", sz(format!("Line group {}", g + 1))),
            ("Type", sz("SIP")),
        ];
        if !lines.is_empty() {
            values.push(("Lines", multi(lines)));
        }
        entry(
            &mut txn,
            sink,
            &ds("Line Groups", &format!("Line Group {}", g + 1)),
            &values,
        )?;
    }
    for g in 0..scale.registration_groups {
        entry(
            &mut txn,
            sink,
            &ds(
                "Registration Groups",
                &format!("Registration Group {}", g + 1),
            ),
            &[
                ("Description", sz(format!("Phones of building {}", g + 1))),
                ("Proxy", sz(format!("Proxy Group {}", g % 2 + 1))),
                ("Timeout", dw(3600)),
            ],
        )?;
    }
    for p in 1..=2 {
        entry(
            &mut txn,
            sink,
            &ds("IP Phone Proxy Groups", &format!("Proxy Group {p}")),
            &[
                ("Address", sz(format!("proxy{p}.example.com"))),
                ("Port", dw(5060)),
            ],
        )?;
    }

    // Server parameters, including the report path and the Dialer switch.
    let mut params: Vec<(String, String)> = vec![
        ("Report File Path".into(), files::PRODUCTION_REPORTS.into()),
        ("Default Language".into(), "en-us".into()),
        ("Mail Server".into(), "mail.example.com".into()),
        (
            "Launch Dialer Migration Package Processor".into(),
            "0".into(),
        ),
        ("Site Name".into(), site.clone()),
        ("Server Name".into(), server.clone()),
    ];
    for n in 0..(60 + users / 50).min(2000) {
        params.push((
            format!(
                "{} {}",
                PARAM_WORDS[(n % PARAM_WORDS.len() as u64) as usize],
                n / PARAM_WORDS.len() as u64 + 1
            ),
            rng.gen_range(0..10_000).to_string(),
        ));
    }
    for (name, value) in &params {
        entry(
            &mut txn,
            sink,
            &ds("Server Parameters", name),
            &[("Value", sz(value.clone()))],
        )?;
    }
    for n in 0..(20 + users / 100) {
        let name = format!("Structured Parameter {}", n + 1);
        let values = if n % 3 == 0 {
            let secret = format!("password-{}", rng.gen_range(100_000..999_999));
            vec![
                ("Type", sz("Secrets")),
                (
                    "Values",
                    ValueData::Binary(machine_key.encrypt_with(secret.as_bytes(), rng)),
                ),
                ("Description", sz("Credentials for an external system")),
            ]
        } else {
            vec![
                ("Type", sz("String")),
                (
                    "Values",
                    multi([format!("value-{n}-a"), format!("value-{n}-b")]),
                ),
                ("Description", sz("Routing configuration")),
            ]
        };
        entry(&mut txn, sink, &ds("Structured Parameters", &name), &values)?;
    }
    for t in 1..=5 {
        entry(
            &mut txn,
            sink,
            &ds("IP Tables", &format!("Table {t}")),
            &[
                ("Description", sz(format!("Lookup table {t}"))),
                (
                    "Entries",
                    multi((0..10).map(|e| format!("key{e}={}", e * t))),
                ),
            ],
        )?;
    }
    for d in 0..(users / 2).max(5) {
        entry(
            &mut txn,
            sink,
            &ds("DNIS Mappings", &format!("3175{:06}", d)),
            &[
                (
                    "Target",
                    sz(format!(
                        "Workgroup:{}",
                        names::workgroup(d % scale.workgroups)
                    )),
                ),
                ("Workgroup", sz(names::workgroup(d % scale.workgroups))),
                ("Description", sz(format!("Campaign line {d}"))),
            ],
        )?;
    }
    for (n, (name, kind)) in [
        ("Corporate Exchange", "MAPI"),
        ("Support Mailbox", "IMAP"),
        ("Notifications", "SMTP"),
    ]
    .iter()
    .enumerate()
    {
        entry(
            &mut txn,
            sink,
            &ds("Mail Providers", name),
            &[
                ("Type", sz(*kind)),
                ("Server", sz(format!("mail{n}.example.com"))),
                ("Account", sz(format!("svc-mail{n}"))),
                ("Active", sz("Yes")),
            ],
        )?;
    }
    for (name, default) in [
        ("I3_IC", true),
        ("I3_Tracker", true),
        ("I3_Reporting", true),
        ("CRM Database", false),
        ("Billing Warehouse", false),
    ] {
        entry(
            &mut txn,
            sink,
            &ds("Data Sources", name),
            &[
                ("Default", sz(if default { "Yes" } else { "No" })),
                ("Driver", sz("ODBC Driver 17 for SQL Server")),
                (
                    "Server",
                    sz(if default { "sqlprod01" } else { "sqlapps02" }),
                ),
                ("Database", sz(name.replace(' ', "_"))),
            ],
        )?;
    }
    for b in 0..scale.client_buttons {
        let name = format!("Button {}", b + 1);
        entry(
            &mut txn,
            sink,
            &ds("Client Buttons", &name),
            &[
                (
                    "Icon File",
                    sz(format!(
                        "{}/button{}.ico",
                        files::CLIENT_BUTTON_ICONS,
                        b + 1
                    )),
                ),
                ("Valid Icon", sz("Yes")),
                (
                    "Action",
                    sz(["Run Handler", "Open URL", "Launch Application"][(b % 3) as usize]),
                ),
                ("Tooltip", sz(format!("Quick action {}", b + 1))),
            ],
        )?;
    }
    for r in 0..scale.reports {
        let production = r % 2 == 0;
        entry(
            &mut txn,
            sink,
            &ds("Reports", &report_name(r)),
            &[
                ("File Name", sz(format!("{}.rpt", report_name(r)))),
                (
                    "Category",
                    sz(if production {
                        "Agent Performance"
                    } else {
                        "Custom"
                    }),
                ),
                ("Description", sz(format!("Report {}", r + 1))),
            ],
        )?;
    }
    for p in 0..scale.attendant_profiles {
        let profile = ds("Attendant Profiles", &format!("Profile {}", p + 1));
        entry(
            &mut txn,
            sink,
            &profile,
            &[
                ("DNIS", sz(format!("3175{:06}", p))),
                ("Active", dw(1)),
                ("Language", sz(LANGUAGES[(p % 3) as usize])),
            ],
        )?;
        for (s, sched) in SCHEDULES.iter().take(3).enumerate() {
            let schedule = profile.join(&format!("Schedules\\{sched}")).expect("valid");
            entry(&mut txn, sink, &schedule, &[("Priority", dw(s as u32))])?;
            for m in 0..3 {
                entry(
                    &mut txn,
                    sink,
                    &schedule.join(&format!("Menu {}", m + 1)).expect("valid"),
                    &[
                        ("Greeting", sz(format!("greeting{}.wav", m + 1))),
                        ("Digit", sz((m + 1).to_string())),
                        ("Action", sz("Transfer to Workgroup")),
                        ("Target", sz(names::workgroup(m % scale.workgroups))),
                    ],
                )?;
            }
        }
    }
    let recorder = ds("Recorder", "Configuration");
    entry(
        &mut txn,
        sink,
        &recorder,
        &[
            ("Retention Days", dw(365)),
            ("Storage Path", sz("\\\\nas01\\recordings")),
            ("Master Key File", sz(files::RECORDER_MASTER_KEY)),
        ],
    )?;
    let mut rescue = [0u8; 32];
    rng.fill_bytes(&mut rescue);
    entry(
        &mut txn,
        sink,
        &recorder.join("Rescue ID").expect("valid"),
        &[
            ("ID", ValueData::Binary(rescue.to_vec())),
            ("Created", sz("2015-03-01T00:00:00Z")),
        ],
    )?;
    for p in 1..=4 {
        entry(
            &mut txn,
            sink,
            &ds("Recorder", &format!("Policy {p}")),
            &[
                (
                    "Condition",
                    sz(format!(
                        "Workgroup = '{}'",
                        names::workgroup(p % scale.workgroups)
                    )),
                ),
                ("Record Percent", dw(25 * p as u32)),
            ],
        )?;
    }
    for n in 0..(users / 100).max(3) {
        let mut definition = vec![0u8; 512];
        rng.fill_bytes(&mut definition);
        entry(
            &mut txn,
            sink,
            &ds("IPA", &format!("Process {}", n + 1)),
            &[
                ("Definition", ValueData::Binary(definition)),
                ("Version", dw(rng.gen_range(1..9))),
                ("Published", sz("Yes")),
            ],
        )?;
    }
    for (name, value) in [
        ("Default Workstation", "STA-000001"),
        ("Password Policy", "Strong"),
        ("Lockout Threshold", "5"),
    ] {
        entry(
            &mut txn,
            sink,
            &ds("AdminConfig", name),
            &[("Value", sz(value))],
        )?;
    }
    entry(
        &mut txn,
        sink,
        &ds("Dial Plan", "Classifications"),
        &[(
            "Classes",
            multi([
                "Local",
                "Long Distance",
                "International",
                "Emergency",
                "Toll Free",
            ]),
        )],
    )?;
    for o in 0..20 {
        entry(
            &mut txn,
            sink,
            &ds("Dial Plan", &format!("Object {}", o + 1)),
            &[
                ("Input Pattern", sz(format!("1{o:03}NXXXXXX"))),
                ("Output", sz(format!("+1{o:03}{{}}"))),
                (
                    "Classification",
                    sz(["Local", "Long Distance", "International"][o % 3]),
                ),
            ],
        )?;
    }

    // Server- and site-level configuration outside DS.
    for h in 0..scale.handlers {
        let (folder, name) = super::files::handler_location(h);
        entry(
            &mut txn,
            sink,
            &key(&format!("{}\\{name}", layout::IP_HANDLERS)),
            &[
                ("Published", dw(1)),
                (
                    "Path",
                    sz(format!("{}/{folder}/{name}.ihd", files::CUSTOM_HANDLERS)),
                ),
                ("Version", dw(rng.gen_range(1..40))),
            ],
        )?;
    }
    entry(
        &mut txn,
        sink,
        &layout::server_ip(&server),
        &[
            ("Handlers Path", sz(files::CUSTOM_HANDLERS)),
            ("Max Threads", dw(64)),
            ("Debug Level", dw(0)),
            (
                "Initiators",
                multi(["Incoming Call", "Email", "Web Chat", "Timer"]),
            ),
        ],
    )?;
    let tracker: Vec<(String, ValueData)> = (0..20)
        .map(|n| (format!("Setting {}", n + 1), dw(rng.gen_range(0..1000))))
        .collect();
    tracked(&mut txn, sink, &key(layout::TRACKER_CONFIG), &tracker)?;
    let client: Vec<(String, ValueData)> = (0..20)
        .map(|n| {
            (
                format!("Option {}", n + 1),
                sz(format!("{}", rng.gen_range(0..2))),
            )
        })
        .collect();
    tracked(&mut txn, sink, &key(layout::CLIENT_SETTINGS), &client)?;
    entry(
        &mut txn,
        sink,
        &key(layout::IPA_SETTINGS),
        &[
            ("Process Store", sz("Database")),
            ("Max Active Processes", dw(500)),
            ("Work Item Timeout", dw(3600)),
        ],
    )?;
    entry(
        &mut txn,
        sink,
        &key(layout::DIALER),
        &[
            ("Central Campaign Server", sz("dialer01.example.com")),
            ("Package Version", sz("2015.1")),
        ],
    )?;
    txn.commit()?;
    Ok(())
}

fn tracked(
    txn: &mut WriteTxn<'_>,
    sink: &mut Sink<'_>,
    key: &KeyPath,
    values: &[(String, ValueData)],
) -> Result<()> {
    let borrowed: Vec<(&str, ValueData)> = values
        .iter()
        .map(|(n, v)| (n.as_str(), v.clone()))
        .collect();
    entry(txn, sink, key, &borrowed)
}

/// The name of report `r`; even reports are production reports.
pub(super) fn report_name(r: u64) -> String {
    let kind = if r.is_multiple_of(2) {
        "Agent Performance"
    } else {
        "Custom Analysis"
    };
    format!("{kind} {:04}", r + 1)
}

const ROLES: &[&str] = &[
    "Agent",
    "Supervisor",
    "Administrator",
    "Business User",
    "Manager",
    "Operator",
    "Analyst",
    "Recorder Admin",
];
const RIGHTS: &[&str] = &[
    "Login",
    "Make Calls",
    "Transfer",
    "Monitor",
    "Coach",
    "Record",
    "Administer Users",
    "Administer Server",
    "View Reports",
];
const STATUSES: &[&str] = &[
    "Available",
    "Away from desk",
    "At lunch",
    "In a meeting",
    "Do not disturb",
];
const SCHEDULES: &[&str] = &[
    "Business Hours",
    "After Hours",
    "Holidays",
    "Weekend",
    "Emergency",
];
const PARAM_WORDS: &[&str] = &[
    "ACD Agent Timeout",
    "Queue Overflow Limit",
    "Recording Compression",
    "Session Limit",
    "Retry Interval",
    "Log Retention",
    "Web Chat Timeout",
    "Callback Window",
    "Email Poll Interval",
    "IVR Max Digits",
];
