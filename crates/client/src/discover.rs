//! Finding providers: the UDP broadcast probe an agent sends when it
//! starts with discovery on, and the fallback to the provider registered
//! in the server root when discovery finds nothing (see
//! [`transit_provider::discovery`] for the wire format).

use crate::config::ClientConfig;
use std::net::SocketAddr;
use std::time::Duration;
use transit_provider::discovery::{Answer, Probe, MAX_DATAGRAM};

/// Broadcasts a probe with `key` to `addresses` on `port` and collects
/// the URLs of the providers that answer with the same key within `wait`,
/// in the order they answered.
pub async fn probe(
    key: &str,
    port: u16,
    addresses: &[std::net::Ipv4Addr],
    wait: Duration,
) -> std::io::Result<Vec<String>> {
    let socket = tokio::net::UdpSocket::bind(SocketAddr::from(([0, 0, 0, 0], 0))).await?;
    socket.set_broadcast(true)?;
    let probe = serde_json::to_vec(&Probe {
        transit_discover: 1,
        key: key.to_string(),
    })
    .expect("a probe serialises");
    let mut sent = 0;
    let mut last_error = None;
    for a in addresses {
        match socket.send_to(&probe, SocketAddr::from((*a, port))).await {
            Ok(_) => sent += 1,
            Err(e) => last_error = Some(e),
        }
    }
    if sent == 0 {
        return Err(last_error.unwrap_or_else(|| std::io::Error::other("no address to probe")));
    }
    let mut found = Vec::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let got = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await;
        let Ok(Ok((n, from))) = got else {
            break;
        };
        let Ok(answer) = serde_json::from_slice::<Answer>(&buf[..n]) else {
            continue;
        };
        if answer.transit_provider != 1 || answer.key != key {
            continue;
        }
        let url = answer.url_from(from);
        if !found.contains(&url) {
            found.push(url);
        }
    }
    Ok(found)
}

/// The provider registered in the client's server root, if it has one.
pub fn registered(config: &ClientConfig) -> Option<String> {
    let root = config.server_root.as_deref()?;
    match transit_provider::discovery::registered(root) {
        Ok(url) => url,
        Err(e) => {
            tracing::debug!("no registered provider in {}: {e}", root.display());
            None
        }
    }
}
