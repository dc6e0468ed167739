//! Features: client buttons, reports, Attendant, Recorder, IPA.

use super::*;

/// Client Buttons with their icons.
pub(super) fn client_buttons(
    g: &Gen<'_>,
    txn: &mut WriteTxn<'_>,
    sink: &mut Sink<'_>,
) -> Result<()> {
    for b in 0..g.scale.client_buttons {
        let name = format!("Button {}", b + 1);
        entry(
            txn,
            sink,
            &g.ds("Client Buttons", &name),
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
    Ok(())
}

/// Reports; even ones are production reports.
pub(super) fn reports(g: &Gen<'_>, txn: &mut WriteTxn<'_>, sink: &mut Sink<'_>) -> Result<()> {
    for r in 0..g.scale.reports {
        let production = r % 2 == 0;
        entry(
            txn,
            sink,
            &g.ds("Reports", &report_name(r)),
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
    Ok(())
}

/// Attendant Profiles with schedules and menus.
pub(super) fn attendant_profiles(
    g: &Gen<'_>,
    txn: &mut WriteTxn<'_>,
    sink: &mut Sink<'_>,
) -> Result<()> {
    for p in 0..g.scale.attendant_profiles {
        let profile = g.ds("Attendant Profiles", &format!("Profile {}", p + 1));
        entry(
            txn,
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
            entry(txn, sink, &schedule, &[("Priority", dw(s as u32))])?;
            for m in 0..3 {
                entry(
                    txn,
                    sink,
                    &schedule.join(&format!("Menu {}", m + 1)).expect("valid"),
                    &[
                        ("Greeting", sz(format!("greeting{}.wav", m + 1))),
                        ("Digit", sz((m + 1).to_string())),
                        ("Action", sz("Transfer to Workgroup")),
                        ("Target", sz(names::workgroup(m % g.scale.workgroups))),
                    ],
                )?;
            }
        }
    }
    Ok(())
}

/// Recorder configuration, its Rescue ID and policies.
pub(super) fn recorder(
    g: &Gen<'_>,
    txn: &mut WriteTxn<'_>,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let recorder = g.ds("Recorder", "Configuration");
    entry(
        txn,
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
        txn,
        sink,
        &recorder.join("Rescue ID").expect("valid"),
        &[
            ("ID", ValueData::Binary(rescue.to_vec())),
            ("Created", sz("2015-03-01T00:00:00Z")),
        ],
    )?;
    for p in 1..=4 {
        entry(
            txn,
            sink,
            &g.ds("Recorder", &format!("Policy {p}")),
            &[
                (
                    "Condition",
                    sz(format!(
                        "Workgroup = '{}'",
                        names::workgroup(p % g.scale.workgroups)
                    )),
                ),
                ("Record Percent", dw(25 * p as u32)),
            ],
        )?;
    }
    Ok(())
}

/// IPA process definitions.
pub(super) fn ipa(
    g: &Gen<'_>,
    txn: &mut WriteTxn<'_>,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    for n in 0..(g.users / 100).max(3) {
        let mut definition = vec![0u8; 512];
        rng.fill_bytes(&mut definition);
        entry(
            txn,
            sink,
            &g.ds("IPA", &format!("Process {}", n + 1)),
            &[
                ("Definition", ValueData::Binary(definition)),
                ("Version", dw(rng.gen_range(1..9))),
                ("Published", sz("Yes")),
            ],
        )?;
    }
    Ok(())
}
