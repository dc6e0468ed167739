//! Telephony: stations, lines, managed phones and their groups, the dial plan.

use super::*;

/// Stations: one SIP station per user.
pub(super) fn stations(g: &Gen<'_>, registry: &mut Registry, sink: &mut Sink<'_>) -> Result<()> {
    per_user(g, registry, |txn, i| {
        let ext = (10_000 + i).to_string();
        entry(
            txn,
            sink,
            &g.ds("Stations", &station_name(i)),
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
                ("Line", sz(line_name(i))),
                ("Managed Phone", sz(format!("Phone-{:06}", i + 1))),
                ("Location", sz(format!("Floor {}", i % 5 + 1))),
                ("Active", dw(1)),
            ],
        )?;
        Ok(())
    })
}

/// Lines: one SIP line per user.
pub(super) fn lines(g: &Gen<'_>, registry: &mut Registry, sink: &mut Sink<'_>) -> Result<()> {
    per_user(g, registry, |txn, i| {
        let ext = (10_000 + i).to_string();
        entry(
            txn,
            sink,
            &g.ds("Lines", &line_name(i)),
            &[
                ("Type", sz("SIP")),
                ("Address", sz(format!("sip:{ext}@pbx.example.com"))),
                ("Direction", sz("Both")),
                ("Max Calls", dw(2)),
                (
                    "Line Group",
                    sz(format!("Line Group {}", i % g.scale.line_groups + 1)),
                ),
                ("Codec", sz(["G.711", "G.729", "Opus"][(i % 3) as usize])),
                ("Active", dw(1)),
            ],
        )?;
        Ok(())
    })
}

/// Managed IP Phones: one per user.
pub(super) fn managed_phones(
    g: &Gen<'_>,
    registry: &mut Registry,
    sink: &mut Sink<'_>,
) -> Result<()> {
    per_user(g, registry, |txn, i| {
        let mac = format!(
            "00:04:f2:{:02x}:{:02x}:{:02x}",
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff
        );
        entry(
            txn,
            sink,
            &g.ds("Managed IP Phones", &format!("Phone-{:06}", i + 1)),
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
                        i % g.scale.registration_groups + 1
                    )),
                ),
                ("Station", sz(station_name(i))),
                ("Firmware", sz("5.9.5")),
                ("Proxy Group", sz(format!("Proxy Group {}", i % 2 + 1))),
            ],
        )?;
        Ok(())
    })
}

/// Line Groups.
pub(super) fn line_groups(g: &Gen<'_>, txn: &mut WriteTxn<'_>, sink: &mut Sink<'_>) -> Result<()> {
    for n in 0..g.scale.line_groups {
        let lines: Vec<String> = (n..g.users)
            .step_by(g.scale.line_groups as usize)
            .take(200)
            .map(|i| format!("SIP-{:06}", i + 1))
            .collect();
        let mut values = vec![
            ("Description", sz(format!("Line group {}", n + 1))),
            ("Type", sz("SIP")),
        ];
        if !lines.is_empty() {
            values.push(("Lines", multi(lines)));
        }
        entry(
            txn,
            sink,
            &g.ds("Line Groups", &format!("Line Group {}", n + 1)),
            &values,
        )?;
    }
    Ok(())
}

/// Managed-phone Registration Groups.
pub(super) fn registration_groups(
    g: &Gen<'_>,
    txn: &mut WriteTxn<'_>,
    sink: &mut Sink<'_>,
) -> Result<()> {
    for n in 0..g.scale.registration_groups {
        entry(
            txn,
            sink,
            &g.ds(
                "Registration Groups",
                &format!("Registration Group {}", n + 1),
            ),
            &[
                ("Description", sz(format!("Phones of building {}", n + 1))),
                ("Proxy", sz(format!("Proxy Group {}", n % 2 + 1))),
                ("Timeout", dw(3600)),
            ],
        )?;
    }
    Ok(())
}

/// IP Phone Proxy Groups.
pub(super) fn proxy_groups(g: &Gen<'_>, txn: &mut WriteTxn<'_>, sink: &mut Sink<'_>) -> Result<()> {
    for p in 1..=2 {
        entry(
            txn,
            sink,
            &g.ds("IP Phone Proxy Groups", &format!("Proxy Group {p}")),
            &[
                ("Address", sz(format!("proxy{p}.example.com"))),
                ("Port", dw(5060)),
            ],
        )?;
    }
    Ok(())
}

/// Dial Plan classifications and objects.
pub(super) fn dial_plan(g: &Gen<'_>, txn: &mut WriteTxn<'_>, sink: &mut Sink<'_>) -> Result<()> {
    entry(
        txn,
        sink,
        &g.ds("Dial Plan", "Classifications"),
        &[(
            "Classes",
            // A server's classifications hold its own release's class,
            // which the Migrator adds when it is missing.
            multi([
                "Local".to_string(),
                "Long Distance".into(),
                "International".into(),
                "Emergency".into(),
                "Toll Free".into(),
                format!("Release {}", g.root.identity().server.product_release),
            ]),
        )],
    )?;
    for o in 0..20 {
        entry(
            txn,
            sink,
            &g.ds("Dial Plan", &format!("Object {}", o + 1)),
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
    Ok(())
}
