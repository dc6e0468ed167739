//! Provider discovery over UDP broadcast, and the provider's registration
//! in its server root.
//!
//! A client that starts with discovery on broadcasts a [`Probe`] carrying
//! its discovery key to [`DISCOVERY_PORT`]; every provider with discovery
//! on and the same key answers with an [`Answer`] naming the scheme and
//! port it serves (the client takes the address from where the answer
//! came from) or the URL it advertises. A different key finds nothing, so
//! keys limit which providers a client can find.
//!
//! A provider started with a server root also writes its URL into that
//! root's registry ([`register`]), as the vendor's Update Service tab
//! does; a client whose discovery finds nothing falls back to it.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;
use transit_core::CancelToken;
use transit_registry::{KeyPath, RegistryError, RegistryRead, ValueData};
use transit_server::ServerRoot;

/// The UDP port providers listen on for discovery probes.
pub const DISCOVERY_PORT: u16 = 8093;

/// The largest datagram either side sends or reads.
pub const MAX_DATAGRAM: usize = 1024;

/// A client's broadcast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// Always 1 (the protocol's version).
    pub transit_discover: u32,
    /// The client's discovery key.
    pub key: String,
}

/// A provider's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Always 1 (the protocol's version).
    pub transit_provider: u32,
    /// The key it answered.
    pub key: String,
    /// `http` or `https`.
    pub scheme: String,
    /// The port it serves the API on.
    pub port: u16,
    /// The URL it advertises, if it was given one (else the client uses
    /// the answer's source address with `scheme` and `port`).
    #[serde(default)]
    pub url: Option<String>,
}

impl Answer {
    /// The provider's URL as seen from a client that got this answer from `from`.
    pub fn url_from(&self, from: SocketAddr) -> String {
        match &self.url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => match from.ip() {
                std::net::IpAddr::V6(ip) => format!("{}://[{ip}]:{}", self.scheme, self.port),
                ip => format!("{}://{ip}:{}", self.scheme, self.port),
            },
        }
    }
}

/// What a provider answers to a datagram: an answer for a well-formed
/// probe with its `key`, nothing otherwise (other keys, noise).
pub fn answer_to(
    datagram: &[u8],
    key: &str,
    scheme: &str,
    port: u16,
    url: Option<&str>,
) -> Option<Vec<u8>> {
    let probe: Probe = serde_json::from_slice(datagram).ok()?;
    if probe.transit_discover != 1 || probe.key != key {
        return None;
    }
    serde_json::to_vec(&Answer {
        transit_provider: 1,
        key: key.to_string(),
        scheme: scheme.to_string(),
        port,
        url: url.map(str::to_string),
    })
    .ok()
}

/// Answers discovery probes on `socket` until `stop` is cancelled.
pub async fn serve(
    socket: tokio::net::UdpSocket,
    key: String,
    scheme: &'static str,
    port: u16,
    url: Option<String>,
    stop: CancelToken,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, from) = tokio::select! {
            _ = stop.cancelled() => break,
            got = socket.recv_from(&mut buf) => match got {
                Ok(got) => got,
                Err(e) => {
                    tracing::warn!("discovery: {e}");
                    continue;
                }
            },
        };
        if let Some(reply) = answer_to(&buf[..n], &key, scheme, port, url.as_deref()) {
            tracing::debug!(%from, "discovery probe answered");
            if let Err(e) = socket.send_to(&reply, from).await {
                tracing::warn!(%from, "discovery answer not sent: {e}");
            }
        }
    }
}

/// The URL a provider at `addr` registers: `advertise` if given, else
/// its address (the host name when it listens on every address).
pub fn advertised_url(advertise: Option<&str>, scheme: &str, addr: SocketAddr) -> String {
    if let Some(url) = advertise {
        return url.trim_end_matches('/').to_string();
    }
    let host = if addr.ip().is_unspecified() {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string())
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    format!("{scheme}://{host}:{}", addr.port())
}

/// Where a provider registers itself in a server root's registry:
/// `EIC\<Server>\Update Service`, value `Provider` (its URL) and
/// `Discovery Key`.
pub fn registration_key(server: &str) -> Result<KeyPath, RegistryError> {
    Ok(KeyPath::parse(&format!("EIC\\{server}\\Update Service"))?)
}

/// Records `url` (and the discovery key, if discovery is on) as the
/// server's update provider in the server root `dir`.
pub fn register(dir: &Path, url: &str, key: Option<&str>) -> Result<(), RegistrationError> {
    let root = ServerRoot::open(dir)?;
    let path = registration_key(root.name())?;
    let mut registry = root.open_registry()?;
    registry.set_busy_timeout(std::time::Duration::from_secs(10))?;
    let mut tx = registry.write()?;
    tx.create_key(&path)?;
    tx.set_value(&path, "Provider", &ValueData::Sz(url.to_string()))?;
    tx.set_value(
        &path,
        "Discovery Key",
        &ValueData::Sz(key.unwrap_or_default().to_string()),
    )?;
    tx.commit()?;
    Ok(())
}

/// The provider registered in the server root `dir`, if any.
pub fn registered(dir: &Path) -> Result<Option<String>, RegistrationError> {
    let root = ServerRoot::open(dir)?;
    let path = registration_key(root.name())?;
    let registry = root.open_registry()?;
    let snapshot = registry.snapshot()?;
    Ok(match snapshot.get_value(&path, "Provider")? {
        Some(ValueData::Sz(url)) if !url.trim().is_empty() => Some(url),
        _ => None,
    })
}

/// Why a registration could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// The server root does not open.
    #[error(transparent)]
    Server(#[from] transit_server::ServerError),
    /// Its registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl transit_core::Kind for RegistrationError {
    fn kind(&self) -> transit_core::ErrorKind {
        match self {
            RegistrationError::Server(e) => e.kind(),
            RegistrationError::Registry(e) => e.kind(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_probes_with_the_key_are_answered() {
        let probe = |key: &str| {
            serde_json::to_vec(&Probe {
                transit_discover: 1,
                key: key.into(),
            })
            .unwrap()
        };
        let reply = answer_to(&probe("Production"), "Production", "http", 8092, None).unwrap();
        let a: Answer = serde_json::from_slice(&reply).unwrap();
        assert_eq!(
            (a.key.as_str(), a.scheme.as_str(), a.port),
            ("Production", "http", 8092)
        );
        assert_eq!(
            a.url_from("10.1.2.3:40000".parse().unwrap()),
            "http://10.1.2.3:8092"
        );
        assert_eq!(
            answer_to(&probe("Lab"), "Production", "http", 8092, None),
            None
        );
        assert_eq!(
            answer_to(&probe("production"), "Production", "http", 8092, None),
            None,
            "keys are exact"
        );
        assert_eq!(answer_to(b"hello", "Production", "http", 8092, None), None);
        assert_eq!(
            answer_to(
                br#"{"transit_discover":2,"key":"Production"}"#,
                "Production",
                "http",
                8092,
                None
            ),
            None
        );
        let advertised = answer_to(
            &probe("Production"),
            "Production",
            "https",
            443,
            Some("https://upd.example.com/"),
        )
        .unwrap();
        let a: Answer = serde_json::from_slice(&advertised).unwrap();
        assert_eq!(
            a.url_from("10.1.2.3:1".parse().unwrap()),
            "https://upd.example.com"
        );
    }
}
