//! Server- and site-level configuration outside DS.

use super::*;

/// Server- and site-level configuration outside DS: handlers, the server's IP key, Tracker and client settings, IPA settings, the Dialer.
pub(super) fn outside_ds(
    g: &Gen<'_>,
    txn: &mut WriteTxn<'_>,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    for h in 0..g.scale.handlers {
        let (folder, name) = crate::files::handler_location(h);
        entry(
            txn,
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
        txn,
        sink,
        &layout::server_ip(&g.server),
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
    tracked(txn, sink, &key(layout::TRACKER_CONFIG), &tracker)?;
    let client: Vec<(String, ValueData)> = (0..20)
        .map(|n| {
            (
                format!("Option {}", n + 1),
                sz(format!("{}", rng.gen_range(0..2))),
            )
        })
        .collect();
    tracked(txn, sink, &key(layout::CLIENT_SETTINGS), &client)?;
    entry(
        txn,
        sink,
        &key(layout::IPA_SETTINGS),
        &[
            ("Process Store", sz("Database")),
            ("Max Active Processes", dw(500)),
            ("Work Item Timeout", dw(3600)),
        ],
    )?;
    entry(
        txn,
        sink,
        &key(layout::DIALER),
        &[
            ("Central Campaign Server", sz("dialer01.example.com")),
            ("Package Version", sz("2015.1")),
        ],
    )?;
    Ok(())
}
