//! The file areas of a demo CIC server.

use super::{content, Sink, LANGUAGES};
use crate::scale::{handler_location, report_name, Scale};
use crate::Result;
use rand::{Rng, RngCore};
use std::path::Path;
use transit_core::IoContext;
use transit_server::layout::files;
use transit_server::ServerRoot;

/// Roughly how many bytes [`cic`] writes for `users` users.
pub fn estimated_bytes(users: u64) -> u64 {
    users * 19_500 + 400_000
}

pub(super) fn write(path: &Path, bytes: &[u8], sink: &mut Sink<'_>) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).at(parent)?;
    }
    std::fs::write(path, bytes).at(path)?;
    sink.file(bytes.len() as u64);
    Ok(())
}

/// Writes handlers, prompts, waves, reports, icons, the LRA configuration,
/// dial-plan files and the Recorder master key file.
pub(super) fn cic(
    root: &ServerRoot,
    users: u64,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let scale = Scale::new(users);
    let base = root.files_dir();
    for h in 0..scale.handlers {
        let (folder, name) = handler_location(h);
        let size = rng.gen_range(4_000..12_000);
        let body = content::handler(rng, &name, size);
        write(
            &base
                .join(files::CUSTOM_HANDLERS)
                .join(folder)
                .join(format!("{name}.ihd")),
            &body,
            sink,
        )?;
    }
    for name in [
        "System_IncomingCall",
        "System_Email",
        "System_Callback",
        "System_Timer",
    ] {
        let body = content::handler(rng, name, 8_000);
        write(
            &base
                .join(files::SYSTEM_HANDLERS)
                .join(format!("{name}.ihd")),
            &body,
            sink,
        )?;
    }
    let prompts = (users / 5).max(5);
    let waves = (users / 20).max(3);
    for lang in LANGUAGES {
        let signal = content::base_signal(rng, 64 * 1024);
        for p in 0..prompts {
            let len = rng.gen_range(8_000..24_000);
            let body = content::wav(rng, &signal, len);
            write(
                &base
                    .join(files::PROMPTS)
                    .join(lang)
                    .join(format!("prompt{:05}.wav", p + 1)),
                &body,
                sink,
            )?;
        }
        for w in 0..waves {
            let len = rng.gen_range(16_000..48_000);
            let body = content::wav(rng, &signal, len);
            write(
                &base
                    .join(files::ATTENDANT_WAVES)
                    .join(lang)
                    .join(format!("greeting{}.wav", w + 1)),
                &body,
                sink,
            )?;
        }
    }
    for r in 0..scale.reports {
        let name = report_name(r);
        let folder = if r % 2 == 0 {
            files::PRODUCTION_REPORTS
        } else {
            files::CUSTOM_REPORTS
        };
        let size = rng.gen_range(20_000..60_000);
        let body = content::report(rng, &name, size);
        write(&base.join(folder).join(format!("{name}.rpt")), &body, sink)?;
    }
    for b in 0..scale.client_buttons {
        let body = content::icon(rng);
        write(
            &base
                .join(files::CLIENT_BUTTON_ICONS)
                .join(format!("button{}.ico", b + 1)),
            &body,
            sink,
        )?;
    }
    let lra = format!(
        "<?xml version=\"1.0\"?>\r\n<LRA Server=\"{}\" Site=\"{}\">\r\n{}</LRA>\r\n",
        root.name(),
        root.site_name(),
        (0..40)
            .map(|n| format!(
                "  <Resource Id=\"{n}\" Weight=\"{}\"/>\r\n",
                rng.gen_range(1..10)
            ))
            .collect::<String>()
    );
    write(&base.join(files::LRA_CONFIG), lra.as_bytes(), sink)?;
    let dialer = format!(
        "<?xml version=\"1.0\"?>\r\n<DialerConfig Server=\"{}\">\r\n{}</DialerConfig>\r\n",
        root.name(),
        (0..(users / 100).max(3))
            .map(|n| format!(
                "  <Campaign Name=\"Campaign {}\" Workflow=\"Outbound {}\" Active=\"true\"/>\r\n",
                n + 1,
                n % 3 + 1
            ))
            .collect::<String>()
    );
    write(&base.join(files::DIALER_CONFIG), dialer.as_bytes(), sink)?;
    for plan in ["Default", "International", "Emergency"] {
        let mut text = format!("[DialPlan {plan}]\r\n");
        for n in 0..400 {
            text.push_str(&format!(
                "Pattern{n}=1{:03}NXXXXXX -> +1{{}} class={}\r\n",
                rng.gen_range(200..999),
                ["Local", "Long Distance", "International"][n % 3]
            ));
        }
        write(
            &base
                .join(files::DIAL_PLAN)
                .join(format!("{plan}.i3dialplan")),
            text.as_bytes(),
            sink,
        )?;
    }
    let mut key = vec![0u8; 256];
    rng.fill_bytes(&mut key);
    write(&base.join(files::RECORDER_MASTER_KEY), &key, sink)?;
    Ok(())
}
