//! A demo Media Server: configuration, certificates and resources.

use super::files::write;
use super::{content, dw, entry, sz, Sink};
use crate::Result;
use rand::{Rng, RngCore};
use transit_registry::{KeyPath, Registry};
use transit_server::layout::{self, files};
use transit_server::ServerRoot;

/// Roughly how many bytes [`files`] writes.
pub fn estimated_bytes(users: u64) -> u64 {
    (users / 10).max(10) * 24_000 + 100_000
}

/// Configuration values and certificate registrations.
pub(super) fn registry(
    registry: &mut Registry,
    root: &ServerRoot,
    users: u64,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let mut txn = registry.write()?;
    let config = KeyPath::parse(layout::MEDIA_CONFIG).expect("constant");
    entry(
        &mut txn,
        sink,
        &config,
        &[
            ("Server Name", sz(root.name())),
            ("CIC Server", sz("cic01.example.com")),
            ("RTP Port Min", dw(16384)),
            ("RTP Port Max", dw(32767)),
            ("Max Sessions", dw((users as u32).clamp(100, 5000))),
            ("Recording Format", sz("Opus")),
        ],
    )?;
    for n in 1..=4 {
        entry(
            &mut txn,
            sink,
            &config.join(&format!("Interface {n}")).expect("valid"),
            &[("Address", sz(format!("10.30.0.{n}"))), ("Enabled", dw(1))],
        )?;
    }
    let certs = KeyPath::parse(layout::MEDIA_CERTIFICATES).expect("constant");
    for name in ["Server", "CIC Trust"] {
        let thumb: String = (0..20)
            .map(|_| format!("{:02x}", rng.gen::<u8>()))
            .collect();
        entry(
            &mut txn,
            sink,
            &certs.join(name).expect("valid"),
            &[
                ("Thumbprint", sz(thumb)),
                (
                    "File",
                    sz(format!("{}/{name}.pem", files::MEDIA_CERTIFICATES)),
                ),
            ],
        )?;
    }
    txn.commit()?;
    Ok(())
}

/// Configuration files, certificates and prompt resources.
pub(super) fn files(
    root: &ServerRoot,
    users: u64,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let base = root.files_dir();
    write(
        &base.join(files::MEDIA_CONFIG).join("mediaserver.xml"),
        format!(
            "<MediaServer name=\"{}\" sessions=\"{}\"/>\r\n",
            root.name(),
            users
        )
        .as_bytes(),
        sink,
    )?;
    for name in ["Server", "CIC Trust"] {
        let mut der = vec![0u8; 900];
        rng.fill_bytes(&mut der);
        let body = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            der.chunks(48)
                .map(hex::encode)
                .collect::<Vec<_>>()
                .join("\n")
        );
        write(
            &base
                .join(files::MEDIA_CERTIFICATES)
                .join(format!("{name}.pem")),
            body.as_bytes(),
            sink,
        )?;
    }
    let signal = content::base_signal(rng, 32 * 1024);
    for n in 0..(users / 10).max(10) {
        let len = rng.gen_range(8_000..40_000);
        let body = content::wav(rng, &signal, len);
        write(
            &base
                .join(files::MEDIA_RESOURCES)
                .join(format!("tone{:04}.wav", n + 1)),
            &body,
            sink,
        )?;
    }
    Ok(())
}
