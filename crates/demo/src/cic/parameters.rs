//! Server configuration: parameters, secrets, IP tables, DNIS, mail providers, data sources, AdminConfig.

use super::*;

/// Server Parameters, including the Report File Path and the Dialer switch.
pub(super) fn server_parameters(
    g: &Gen<'_>,
    txn: &mut WriteTxn<'_>,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    // Server parameters, including the report path and the Dialer switch.
    let mut params: Vec<(String, String)> = vec![
        ("Report File Path".into(), files::PRODUCTION_REPORTS.into()),
        ("Default Language".into(), "en-us".into()),
        ("Mail Server".into(), "mail.example.com".into()),
        (
            "Launch Dialer Migration Package Processor".into(),
            "0".into(),
        ),
        ("Site Name".into(), g.site.clone()),
        ("Server Name".into(), g.server.clone()),
    ];
    for n in 0..(60 + g.users / 50).min(2000) {
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
            txn,
            sink,
            &g.ds("Server Parameters", name),
            &[("Value", sz(value.clone()))],
        )?;
    }
    Ok(())
}

/// Structured Parameters; every third is a Secret, encrypted with the machine key.
pub(super) fn structured_parameters(
    g: &Gen<'_>,
    txn: &mut WriteTxn<'_>,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    for n in 0..(20 + g.users / 100) {
        let name = format!("Structured Parameter {}", n + 1);
        let values = if n % 3 == 0 {
            let secret = format!("password-{}", rng.gen_range(100_000..999_999));
            vec![
                ("Type", sz("Secrets")),
                (
                    "Values",
                    ValueData::Binary(g.key.encrypt_with(secret.as_bytes(), rng)),
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
        entry(txn, sink, &g.ds("Structured Parameters", &name), &values)?;
    }
    Ok(())
}

/// IP Tables.
pub(super) fn ip_tables(g: &Gen<'_>, txn: &mut WriteTxn<'_>, sink: &mut Sink<'_>) -> Result<()> {
    for t in 1..=5 {
        entry(
            txn,
            sink,
            &g.ds("IP Tables", &format!("Table {t}")),
            &[
                ("Description", sz(format!("Lookup table {t}"))),
                (
                    "Entries",
                    multi((0..10).map(|e| format!("key{e}={}", e * t))),
                ),
            ],
        )?;
    }
    Ok(())
}

/// DNIS Mappings.
pub(super) fn dnis_mappings(
    g: &Gen<'_>,
    txn: &mut WriteTxn<'_>,
    sink: &mut Sink<'_>,
) -> Result<()> {
    for d in 0..(g.users / 2).max(5) {
        entry(
            txn,
            sink,
            &g.ds("DNIS Mappings", &format!("3175{:06}", d)),
            &[
                (
                    "Target",
                    sz(format!(
                        "Workgroup:{}",
                        names::workgroup(d % g.scale.workgroups)
                    )),
                ),
                ("Workgroup", sz(names::workgroup(d % g.scale.workgroups))),
                ("Description", sz(format!("Campaign line {d}"))),
            ],
        )?;
    }
    Ok(())
}

/// Mail Providers (all active).
pub(super) fn mail_providers(
    g: &Gen<'_>,
    txn: &mut WriteTxn<'_>,
    sink: &mut Sink<'_>,
) -> Result<()> {
    for (n, (name, kind)) in [
        ("Corporate Exchange", "MAPI"),
        ("Support Mailbox", "IMAP"),
        ("Notifications", "SMTP"),
    ]
    .iter()
    .enumerate()
    {
        entry(
            txn,
            sink,
            &g.ds("Mail Providers", name),
            &[
                ("Type", sz(*kind)),
                ("Server", sz(format!("mail{n}.example.com"))),
                ("Account", sz(format!("svc-mail{n}"))),
                ("Active", sz("Yes")),
            ],
        )?;
    }
    Ok(())
}

/// Data Sources: three defaults and two custom ones.
pub(super) fn data_sources(g: &Gen<'_>, txn: &mut WriteTxn<'_>, sink: &mut Sink<'_>) -> Result<()> {
    for (name, default) in [
        ("I3_IC", true),
        ("I3_Tracker", true),
        ("I3_Reporting", true),
        ("CRM Database", false),
        ("Billing Warehouse", false),
    ] {
        entry(
            txn,
            sink,
            &g.ds("Data Sources", name),
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
    Ok(())
}

/// AdminConfig.
pub(super) fn admin_config(g: &Gen<'_>, txn: &mut WriteTxn<'_>, sink: &mut Sink<'_>) -> Result<()> {
    for (name, value) in [
        ("Default Workstation", "STA-000001"),
        ("Password Policy", "Strong"),
        ("Lockout Threshold", "5"),
    ] {
        entry(
            txn,
            sink,
            &g.ds("AdminConfig", name),
            &[("Value", sz(value))],
        )?;
    }
    Ok(())
}
