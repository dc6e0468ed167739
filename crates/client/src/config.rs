//! `client.toml`: the vendor's client settings (InteractiveUpdate.config's
//! ClientSettings), with their defaults and limits, validated field by
//! field; an error names the field.
//!
//! ```toml
//! [client]
//! state_dir = "/var/lib/transit-client"     # journal, downloads, trust state, socket
//! install_root = "/opt/transit-apps"        # <install_root>/<application>/<version>/
//! trust_root = "/etc/transit/root.json"     # the pinned TUF root
//! publishers = "/etc/transit/publishers.toml"
//! providers = ["http://cic01:8092", "http://cic02:8092"]  # in order of preference
//! # name = "WS-01"                 # default: the host name
//! # group = "North"                # asked for at the first check-in only
//! # server_root = "/srv/cic"       # the server root holding the licence (licence.txt)
//! # cic_server = false             # this machine is the CIC server itself
//! # check_min = "30m"              # check timer range (s, m, h)
//! # check_max = "60m"
//! # max_message_size = 262144      # bytes, up to 2147483647
//! # send_timeout = 60              # seconds, up to 600
//! # verify_signatures = true       # false also needs --allow-unverified
//! # discovery = false             # broadcast for providers when the agent starts
//! # discovery_key = "Production"   # only providers with this key answer
//! # discovery_port = 8093          # the providers' UDP port
//! # discovery_addresses = ["255.255.255.255"]  # where the probe is sent
//! # discovery_wait = "2s"          # how long answers are collected
//! # max_rate = 0                   # bytes/s for downloads, 0 = unlimited
//!
//! [proxy]                          # optional
//! url = "http://proxy:3128"
//! user = "alice"
//! password = "…"
//!
//! [apps."Interaction Desktop"]     # optional: stopped before, started after its install
//! stop = ["systemctl", "stop", "desktop"]
//! start = ["systemctl", "start", "desktop"]
//! ```

use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use transit_core::{ErrorKind, Kind};

/// The vendor's default maximum message size (bytes).
pub const DEFAULT_MAX_MESSAGE: u64 = 262_144;
/// The vendor's largest maximum message size (bytes).
pub const MAX_MAX_MESSAGE: u64 = 2_147_483_647;
/// The vendor's default send timeout.
pub const DEFAULT_SEND_TIMEOUT: u64 = 60;
/// The vendor's largest send timeout (10 minutes).
pub const MAX_SEND_TIMEOUT: u64 = 600;
/// The default discovery key.
pub const DEFAULT_DISCOVERY_KEY: &str = "Production";

/// A settings file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Not TOML, or an unknown or mistyped field.
    #[error("{}: {problem}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// One setting holds a value that is not allowed.
    #[error("{}: setting `{field}`: {problem}", .path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// The setting's name.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// Signature verification is off in the file but the flag that
    /// allows it was not given.
    #[error("{}: `verify_signatures = false` needs --allow-unverified as well (updates would install without their publisher's signature being checked)", .path.display())]
    UnverifiedNotAllowed {
        /// The file.
        path: PathBuf,
    },
}

impl Kind for ConfigError {
    fn kind(&self) -> ErrorKind {
        match self {
            ConfigError::Read { .. } => ErrorKind::Usage,
            _ => ErrorKind::BadInput,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    client: RawClient,
    #[serde(default)]
    proxy: Option<RawProxy>,
    #[serde(default)]
    apps: BTreeMap<String, AppControl>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    state_dir: PathBuf,
    install_root: PathBuf,
    trust_root: PathBuf,
    publishers: PathBuf,
    #[serde(default)]
    providers: Vec<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    server_root: Option<PathBuf>,
    #[serde(default)]
    cic_server: bool,
    #[serde(default)]
    check_min: Option<String>,
    #[serde(default)]
    check_max: Option<String>,
    #[serde(default)]
    max_message_size: Option<i64>,
    #[serde(default)]
    send_timeout: Option<i64>,
    #[serde(default)]
    verify_signatures: Option<bool>,
    #[serde(default)]
    discovery_key: Option<String>,
    #[serde(default)]
    discovery: bool,
    #[serde(default)]
    discovery_port: Option<u16>,
    #[serde(default)]
    discovery_addresses: Option<Vec<String>>,
    #[serde(default)]
    discovery_wait: Option<String>,
    #[serde(default)]
    max_rate: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProxy {
    url: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Commands that stop an application before its install and start it
/// afterwards (the vendor's "shut down client applications before updating").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppControl {
    /// Program and arguments that stop the application.
    #[serde(default)]
    pub stop: Vec<String>,
    /// Program and arguments that start it again.
    #[serde(default)]
    pub start: Vec<String>,
}

/// A web proxy, with optional authentication.
#[derive(Debug, Clone)]
pub struct Proxy {
    /// `http://host:port`.
    pub url: String,
    /// The user, when the proxy needs authentication.
    pub user: Option<String>,
    /// The password.
    pub password: Option<SecretString>,
}

/// The client's validated settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The file they came from.
    pub path: PathBuf,
    /// Journal, downloads, trusted metadata, the control socket.
    pub state_dir: PathBuf,
    /// Where applications are installed.
    pub install_root: PathBuf,
    /// The pinned TUF root.json.
    pub trust_root: PathBuf,
    /// The publisher allow-list.
    pub publishers: PathBuf,
    /// The providers, in order of preference (base URLs).
    pub providers: Vec<String>,
    /// The machine's name.
    pub name: String,
    /// The group asked for at the first check-in.
    pub group: Option<String>,
    /// The server root that holds the licence.
    pub server_root: Option<PathBuf>,
    /// This machine is the CIC server itself (Automatic mode is refused for it).
    pub cic_server: bool,
    /// The check timer's shortest interval.
    pub check_min: Duration,
    /// The check timer's longest interval.
    pub check_max: Duration,
    /// The largest reply accepted from a provider (bytes).
    pub max_message_size: u64,
    /// How long a request to a provider may take.
    pub send_timeout: Duration,
    /// Check each update's publisher signature (on unless explicitly allowed off).
    pub verify_signatures: bool,
    /// Provider discovery's key.
    pub discovery_key: String,
    /// Broadcast for providers when the agent starts.
    pub discovery: bool,
    /// The providers' discovery port.
    pub discovery_port: u16,
    /// Where the discovery probe is sent (IPv4 broadcast or unicast addresses).
    pub discovery_addresses: Vec<std::net::Ipv4Addr>,
    /// How long discovery answers are collected.
    pub discovery_wait: Duration,
    /// Download rate limit in bytes per second (0: none).
    pub max_rate: u64,
    /// The web proxy.
    pub proxy: Option<Proxy>,
    /// Stop/start commands per application.
    pub apps: BTreeMap<String, AppControl>,
}

/// Parses a duration such as `90s`, `30m`, `1h` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1),
        Some((i, 'm')) => (&t[..i], 60),
        Some((i, 'h')) => (&t[..i], 3600),
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (such as 90s, 30m, 1h)"))?;
    Ok(Duration::from_secs(n.saturating_mul(mult)))
}

/// The provider URL for a list entry or a `providerservername`: a URL is
/// kept (without a trailing `/`), a bare `host` or `host:port` becomes
/// `http://host:8092` or `http://host:port`.
pub fn provider_url(text: &str) -> Result<String, String> {
    let t = text.trim().trim_end_matches('/');
    if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{text}` is not a provider (host, host:port or URL)"
        ));
    }
    let url = if t.starts_with("http://") || t.starts_with("https://") {
        t.to_string()
    } else if t.contains("://") {
        return Err(format!(
            "`{text}`: a provider is reached over http or https"
        ));
    } else if t.contains(':') {
        format!("http://{t}")
    } else {
        format!("http://{t}:{}", transit_provider::config::DEFAULT_PORT)
    };
    url::Url::parse(&url).map_err(|e| format!("`{text}` is not a provider URL: {e}"))?;
    Ok(url)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

impl ClientConfig {
    /// Reads and validates `path`. `allow_unverified` is the explicit flag
    /// without which `verify_signatures = false` is refused.
    pub fn load(path: &Path, allow_unverified: bool) -> Result<ClientConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ClientConfig::parse(&text, path, allow_unverified)
    }

    /// Validates `text` (read from `path`; relative paths in it are
    /// relative to the file's folder).
    pub fn parse(
        text: &str,
        path: &Path,
        allow_unverified: bool,
    ) -> Result<ClientConfig, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            problem: e.message().to_string(),
        })?;
        let field = |field: &'static str, problem: String| ConfigError::Field {
            path: path.to_path_buf(),
            field,
            problem,
        };
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let abs = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        let c = raw.client;

        let mut providers = Vec::new();
        for p in &c.providers {
            let url = provider_url(p).map_err(|e| field("providers", e))?;
            if providers.contains(&url) {
                return Err(field("providers", format!("`{p}` is listed twice")));
            }
            providers.push(url);
        }
        let check_min = match &c.check_min {
            Some(t) => parse_duration(t).map_err(|e| field("check_min", e))?,
            None => Duration::from_secs(30 * 60),
        };
        let check_max = match &c.check_max {
            Some(t) => parse_duration(t).map_err(|e| field("check_max", e))?,
            None => Duration::from_secs(60 * 60),
        };
        if check_min.is_zero() {
            return Err(field("check_min", "must be at least 1s".into()));
        }
        if check_max < check_min {
            return Err(field(
                "check_max",
                format!(
                    "{}s is shorter than check_min ({}s)",
                    check_max.as_secs(),
                    check_min.as_secs()
                ),
            ));
        }
        if check_max > Duration::from_secs(7 * 24 * 3600) {
            return Err(field("check_max", "must be at most 7 days".into()));
        }
        let max_message_size = match c.max_message_size {
            None => DEFAULT_MAX_MESSAGE,
            Some(n) if (1..=MAX_MAX_MESSAGE as i64).contains(&n) => n as u64,
            Some(n) => {
                return Err(field(
                    "max_message_size",
                    format!("{n} is out of range: 1 to {MAX_MAX_MESSAGE} bytes (default {DEFAULT_MAX_MESSAGE})"),
                ))
            }
        };
        let send_timeout = match c.send_timeout {
            None => DEFAULT_SEND_TIMEOUT,
            Some(n) if (1..=MAX_SEND_TIMEOUT as i64).contains(&n) => n as u64,
            Some(n) => {
                return Err(field(
                    "send_timeout",
                    format!("{n} is out of range: 1 to {MAX_SEND_TIMEOUT} seconds (default {DEFAULT_SEND_TIMEOUT})"),
                ))
            }
        };
        let verify_signatures = c.verify_signatures.unwrap_or(true);
        if !verify_signatures && !allow_unverified {
            return Err(ConfigError::UnverifiedNotAllowed {
                path: path.to_path_buf(),
            });
        }
        let discovery_key = c
            .discovery_key
            .unwrap_or_else(|| DEFAULT_DISCOVERY_KEY.to_string());
        if discovery_key.trim().is_empty()
            || discovery_key.len() > 64
            || discovery_key.chars().any(char::is_control)
        {
            return Err(field(
                "discovery_key",
                "must be 1-64 characters without control characters".into(),
            ));
        }
        let discovery_port = c
            .discovery_port
            .unwrap_or(transit_provider::discovery::DISCOVERY_PORT);
        if discovery_port == 0 {
            return Err(field("discovery_port", "must be 1-65535".into()));
        }
        let discovery_addresses = match &c.discovery_addresses {
            None => vec![std::net::Ipv4Addr::BROADCAST],
            Some(list) if list.is_empty() => {
                return Err(field(
                    "discovery_addresses",
                    "lists at least one address".into(),
                ))
            }
            Some(list) => list
                .iter()
                .map(|a| {
                    a.parse::<std::net::Ipv4Addr>().map_err(|_| {
                        field(
                            "discovery_addresses",
                            format!("`{a}` is not an IPv4 address"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let discovery_wait = match &c.discovery_wait {
            None => Duration::from_secs(2),
            Some(t) => {
                let d = parse_duration(t).map_err(|e| field("discovery_wait", e))?;
                if d.is_zero() || d > Duration::from_secs(60) {
                    return Err(field("discovery_wait", "must be 1s-60s".into()));
                }
                d
            }
        };
        let max_rate = match c.max_rate {
            None => 0,
            Some(n) if n >= 0 => n as u64,
            Some(n) => return Err(field("max_rate", format!("{n} is negative"))),
        };
        let name = c.name.unwrap_or_else(host_name);
        if name.trim().is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
            return Err(field("name", "must be 1-255 characters".into()));
        }
        if let Some(g) = &c.group {
            if g.trim().is_empty() || g.len() > 100 {
                return Err(field("group", "must be 1-100 characters".into()));
            }
        }
        let proxy = match raw.proxy {
            None => None,
            Some(p) => {
                // Credentials in the URL would reach logs and error
                // messages; they have their own fields. The URL is not
                // echoed here, for the same reason.
                let authority = p.url.split_once("://").map_or(p.url.as_str(), |(_, r)| r);
                if authority
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .contains('@')
                {
                    return Err(field(
                        "proxy.url",
                        "holds a user name or password: put them in proxy.user and \
                         proxy.password, never in the URL"
                            .into(),
                    ));
                }
                let url = provider_url(&p.url)
                    .map_err(|e| field("proxy.url", e.replace("provider", "proxy")))?;
                if p.password.is_some() && p.user.is_none() {
                    return Err(field("proxy.user", "a proxy password needs a user".into()));
                }
                Some(Proxy {
                    url,
                    user: p.user,
                    password: p.password.map(SecretString::from),
                })
            }
        };
        for (app, control) in &raw.apps {
            if control.stop.is_empty() && control.start.is_empty() {
                return Err(field(
                    "apps",
                    format!("`{app}` has neither a stop nor a start command"),
                ));
            }
        }
        Ok(ClientConfig {
            path: path.to_path_buf(),
            state_dir: abs(c.state_dir),
            install_root: abs(c.install_root),
            trust_root: abs(c.trust_root),
            publishers: abs(c.publishers),
            providers,
            name,
            group: c.group,
            server_root: c.server_root.map(abs),
            cic_server: c.cic_server,
            check_min,
            check_max,
            max_message_size,
            send_timeout: Duration::from_secs(send_timeout),
            verify_signatures,
            discovery_key,
            discovery: c.discovery,
            discovery_port,
            discovery_addresses,
            discovery_wait,
            max_rate,
            proxy,
            apps: raw.apps,
        })
    }

    /// The control socket's path.
    pub fn socket_path(&self) -> PathBuf {
        self.state_dir.join("control.sock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[client]
state_dir = "state"
install_root = "apps"
trust_root = "root.json"
publishers = "publishers.toml"
providers = ["cic01", "http://cic02:9000/"]
"#;

    fn parse(extra: &str) -> Result<ClientConfig, ConfigError> {
        let text = BASE.replace("[client]\n", &format!("[client]\n{extra}\n"));
        ClientConfig::parse(&text, Path::new("/etc/t/client.toml"), false)
    }

    #[test]
    fn defaults_are_the_vendors() {
        let c = parse("").unwrap();
        assert_eq!(c.max_message_size, 262_144);
        assert_eq!(c.send_timeout, Duration::from_secs(60));
        assert_eq!(c.check_min, Duration::from_secs(1800));
        assert_eq!(c.check_max, Duration::from_secs(3600));
        assert!(c.verify_signatures);
        assert_eq!(c.discovery_key, "Production");
        assert_eq!(c.providers, ["http://cic01:8092", "http://cic02:9000"]);
        assert_eq!(c.state_dir, Path::new("/etc/t/state"));
    }

    #[test]
    fn each_bad_setting_is_named() {
        let cases = [
            ("max_message_size = 2147483648", "max_message_size"),
            ("max_message_size = 0", "max_message_size"),
            ("send_timeout = 601", "send_timeout"),
            ("send_timeout = 0", "send_timeout"),
            ("check_min = \"0s\"", "check_min"),
            ("check_min = \"10m\"\ncheck_max = \"5m\"", "check_max"),
            ("check_min = \"soon\"", "check_min"),
            ("discovery_key = \"\"", "discovery_key"),
            ("max_rate = -1", "max_rate"),
            ("surprise = 1", "surprise"),
        ];
        for (extra, name) in cases {
            let err = parse(extra).unwrap_err().to_string();
            assert!(err.contains(name), "{extra}: {err}");
        }
        let dup = BASE.replace("\"cic01\",", "\"cic01\", \"cic01:8092\",");
        let err = ClientConfig::parse(&dup, Path::new("c.toml"), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("providers") && err.contains("twice"), "{err}");
    }

    #[test]
    fn limits_are_inclusive() {
        let c = parse("max_message_size = 2147483647\nsend_timeout = 600").unwrap();
        assert_eq!(c.max_message_size, 2_147_483_647);
        assert_eq!(c.send_timeout, Duration::from_secs(600));
        let c = parse("check_min = \"2s\"\ncheck_max = \"3s\"").unwrap();
        assert_eq!(c.check_min, Duration::from_secs(2));
    }

    #[test]
    fn turning_verification_off_needs_the_flag() {
        let text = BASE.replace("[client]\n", "[client]\nverify_signatures = false\n");
        let err = ClientConfig::parse(&text, Path::new("c.toml"), false).unwrap_err();
        assert!(matches!(err, ConfigError::UnverifiedNotAllowed { .. }));
        let c = ClientConfig::parse(&text, Path::new("c.toml"), true).unwrap();
        assert!(!c.verify_signatures);
    }

    #[test]
    fn proxy_password_needs_a_user() {
        let text = format!("{BASE}\n[proxy]\nurl = \"proxy:3128\"\npassword = \"x\"\n");
        let err = ClientConfig::parse(&text, Path::new("c.toml"), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("proxy.user"), "{err}");
        let text =
            format!("{BASE}\n[proxy]\nurl = \"proxy:3128\"\nuser = \"u\"\npassword = \"x\"\n");
        let c = ClientConfig::parse(&text, Path::new("c.toml"), false).unwrap();
        assert_eq!(c.proxy.unwrap().url, "http://proxy:3128");
    }

    #[test]
    fn proxy_credentials_in_the_url_are_refused_without_echoing_them() {
        for url in [
            "http://u:s3cret@proxy:3128",
            "u:s3cret@proxy:3128",
            "http://u:s3cret@pr oxy",
        ] {
            let text = format!("{BASE}\n[proxy]\nurl = \"{url}\"\n");
            let err = ClientConfig::parse(&text, Path::new("c.toml"), false)
                .unwrap_err()
                .to_string();
            assert!(err.contains("proxy.user and proxy.password"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }
}
