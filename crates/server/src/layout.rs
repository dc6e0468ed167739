//! Where things live in a server's registry and file areas.
//!
//! These names are shared by the demo generator, the component catalog and
//! the import rules, so they are defined once here.

use transit_registry::KeyPath;

/// The Directory Services subtree.
pub const DS_ROOT: &str = "EIC\\Directory Services\\Root";

/// The DS containers of a CIC server, in the order the vendor lists them.
pub const DS_CONTAINERS: &[&str] = &[
    "Users",
    "Workgroups",
    "Roles",
    "Stations",
    "Lines",
    "Line Groups",
    "Server Parameters",
    "Structured Parameters",
    "Skills",
    "Schedules",
    "IP Tables",
    "DNIS Mappings",
    "Mail Providers",
    "Data Sources",
    "Client Buttons",
    "Reports",
    "Attendant Profiles",
    "Managed IP Phones",
    "Registration Groups",
    "IP Phone Proxy Groups",
    "Recorder",
    "IPA",
    "AdminConfig",
    "Dial Plan",
];

/// The DS key of a server: `EIC\Directory Services\Root\<Site>\Production\<Server>`.
pub fn ds_server(site: &str, server: &str) -> KeyPath {
    KeyPath::parse(&format!("{DS_ROOT}\\{site}\\Production\\{server}"))
        .expect("site and server names are validated key segments")
}

/// A DS container of a server.
pub fn ds_container(site: &str, server: &str, container: &str) -> KeyPath {
    ds_server(site, server)
        .join(container)
        .expect("container names are valid key segments")
}

/// The server-level `<Server>\IP` key outside DS.
pub fn server_ip(server: &str) -> KeyPath {
    KeyPath::parse(&format!("EIC\\{server}\\IP")).expect("validated server name")
}

/// Handler registrations (`IP\Handlers`).
pub const IP_HANDLERS: &str = "EIC\\IP\\Handlers";
/// Tracker configuration, outside DS.
pub const TRACKER_CONFIG: &str = "EIC\\Tracker Config";
/// Client settings, outside DS.
pub const CLIENT_SETTINGS: &str = "EIC\\Client Settings";
/// IPA (process automation) settings outside DS.
pub const IPA_SETTINGS: &str = "EIC\\IPA";
/// The Dialer package's settings.
pub const DIALER: &str = "EIC\\Dialer";
/// Media Server configuration.
pub const MEDIA_CONFIG: &str = "EIC\\Media Server\\Config";
/// Media Server certificate registrations.
pub const MEDIA_CERTIFICATES: &str = "EIC\\Media Server\\Certificates";

/// File areas under `files/`.
pub mod files {
    /// Custom handlers, in nested folders.
    pub const CUSTOM_HANDLERS: &str = "Handlers/Custom";
    /// Shipped (system) handlers.
    pub const SYSTEM_HANDLERS: &str = "Handlers/System";
    /// Prompts, one folder per language.
    pub const PROMPTS: &str = "Resources/Prompts";
    /// Attendant waves, one folder per language (`en-us`, `fr-fr`, …).
    pub const ATTENDANT_WAVES: &str = "Resources/Attendant/Waves";
    /// Client-button icons.
    pub const CLIENT_BUTTON_ICONS: &str = "Resources/ClientButtons";
    /// The production reports folder (the `Report File Path` server parameter).
    pub const PRODUCTION_REPORTS: &str = "Reports/Production";
    /// Custom reports.
    pub const CUSTOM_REPORTS: &str = "Reports/Custom";
    /// The LRA configuration file.
    pub const LRA_CONFIG: &str = "Resources/LRA/LRAConfig.xml";
    /// Dial-plan files.
    pub const DIAL_PLAN: &str = "DialPlan";
    /// The Interaction Recorder master key file.
    pub const RECORDER_MASTER_KEY: &str = "Recorder/MasterKey.irkey";
    /// The Dialer configuration the Dialer package creator reads
    /// (`\i3\CIC\server\dialer_config.xml` on the vendor's server).
    pub const DIALER_CONFIG: &str = "Server/dialer_config.xml";
    /// Where an import puts the Dialer package for the Dialer server.
    pub const DIALER_PACKAGE: &str = "Dialer/dialer_migration.zip";
    /// Media Server configuration files.
    pub const MEDIA_CONFIG: &str = "Config";
    /// Media Server certificates.
    pub const MEDIA_CERTIFICATES: &str = "Certificates";
    /// Media Server resources.
    pub const MEDIA_RESOURCES: &str = "Resources";
}
