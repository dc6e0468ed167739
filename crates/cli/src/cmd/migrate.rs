//! `transit export`, `transit inspect` and `transit verify`.

use super::password;
use crate::cli::{ExportArgs, PasswordArgs};
use crate::output::{self, ExportJson, ExportedComponent, InspectJson, VerifyJson};
use crate::progress::Bars;
use secrecy::ExposeSecret;
use std::path::Path;
use transit_archive::MigrationReader;
use transit_core::progress::human_bytes;
use transit_core::CancelToken;
use transit_migrator::export::retention::{self, Keep};
use transit_migrator::ExportPlan;
use transit_server::ServerRoot;

pub fn export(root: &Path, args: ExportArgs) -> anyhow::Result<()> {
    let plan = ExportPlan {
        components: args.components,
        folder: args.folder,
        handlers: args.handlers,
        password: password::read(&args.password)?,
        threads: None,
        dialer_package: true,
    };
    if plan.password.is_none() {
        eprintln!(
            "warning: no password given: the migration file is NOT encrypted, and it holds sensitive configuration data (use --password-file or --password-env)"
        );
    }
    run_export(root, &plan, args.keep, args.json)
}

/// Runs an export plan (from `transit export` or the console), applies
/// retention when `keep` is set, and prints the outcome.
pub fn run_export(
    root: &Path,
    plan: &ExportPlan,
    keep: Option<Keep>,
    json: bool,
) -> anyhow::Result<()> {
    let server = ServerRoot::open(root)?;
    let cancel = CancelToken::new();
    let _signals = transit_core::cancel_on_signals(&cancel)?;
    let bars = Bars::new(json).with_total("total");
    let result = transit_migrator::export(&server, plan, &bars, &cancel);
    bars.finish();
    let outcome = result?;
    // Retention runs after the export is complete; its failure does not
    // hide the new file, which is reported either way.
    let retention = keep.map(|keep| {
        let folder = outcome.path.parent().unwrap_or(Path::new("."));
        retention::apply(folder, server.name(), keep, Some(&outcome.path))
    });
    let (retention, retention_error) = match retention {
        Some(Ok(r)) => (Some(r), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let deleted: Vec<_> = retention.iter().flat_map(|r| r.deleted.iter()).collect();
    let (mut keys, mut values, mut files) = (0, 0, 0);
    for c in &outcome.components {
        keys += c.counts.keys;
        values += c.counts.values;
        files += c.counts.files;
    }
    if json {
        output::print(&ExportJson {
            file: &outcome.path,
            size: outcome.size,
            encrypted: outcome.encrypted,
            elapsed_ms: outcome.elapsed.as_millis() as u64,
            keys,
            values,
            files,
            components: outcome
                .components
                .iter()
                .map(|c| ExportedComponent {
                    id: &c.id,
                    size: c.size,
                    keys: c.counts.keys,
                    values: c.counts.values,
                    files: c.counts.files,
                })
                .collect(),
            added: outcome.added.iter().map(|a| a.explain()).collect(),
            retention_deleted: deleted.clone(),
        })?;
    } else {
        outln!("{}", outcome.path.display());
        outln!(
            "{} ({}), {} components: {keys} keys, {values} values, {files} files, in {:.1?}{}",
            human_bytes(outcome.size),
            outcome.size,
            outcome.components.len(),
            outcome.elapsed,
            if outcome.encrypted {
                ", AES-256 encrypted"
            } else {
                ", not encrypted"
            }
        );
        for path in &deleted {
            outln!("retention: deleted {}", path.display());
        }
    }
    match retention_error {
        Some(e) => Err(anyhow::Error::new(e).context(format!(
            "the export {} is complete, but retention failed",
            outcome.path.display()
        ))),
        None => Ok(()),
    }
}

fn open(file: &Path, args: &PasswordArgs) -> anyhow::Result<MigrationReader> {
    let password = password::read(args)?;
    Ok(MigrationReader::open(
        file,
        password.as_ref().map(|p| p.expose_secret()),
    )?)
}

pub fn inspect(file: &Path, args: &PasswordArgs, json: bool) -> anyhow::Result<()> {
    let reader = open(file, args)?;
    let m = reader.manifest();
    if json {
        return output::print_pretty(&InspectJson {
            manifest: m,
            file_size: reader.file_size(),
            encrypted: reader.encrypted(),
        });
    }
    outln!("file:            {}", file.display());
    outln!(
        "size:            {} ({})",
        human_bytes(reader.file_size()),
        reader.file_size()
    );
    outln!(
        "encrypted:       {}",
        if reader.encrypted() {
            "yes (AES-256)"
        } else {
            "no"
        }
    );
    outln!("format version:  {}", m.format_version);
    outln!(
        "migrator:        {} build {}",
        m.migrator.release,
        m.migrator.build
    );
    outln!(
        "source:          {} (site {} #{}, {} {} patch {})",
        m.source.server_name,
        m.source.site_name,
        m.source.site_id,
        m.source.role,
        m.source.product_release,
        m.source.patch
    );
    outln!("created (UTC):   {}", m.created_utc);
    outln!();
    outln!(
        "{:<30} {:>10} {:>9} {:>10} {:>8}",
        "component",
        "size",
        "keys",
        "values",
        "files"
    );
    for c in &m.components {
        outln!(
            "{:<30} {:>10} {:>9} {:>10} {:>8}",
            c.id,
            human_bytes(c.size),
            c.counts.keys,
            c.counts.values,
            c.counts.files
        );
    }
    Ok(())
}

pub fn verify(file: &Path, args: &PasswordArgs, json: bool) -> anyhow::Result<()> {
    let mut reader = open(file, args)?;
    let bars = Bars::new(json);
    let report = reader.verify(&bars)?;
    bars.finish();
    if json {
        output::print(&VerifyJson {
            file,
            ok: report.is_ok(),
            checked_entries: report.checked_entries,
            checked_bytes: report.checked_bytes,
            mismatches: &report.mismatches,
        })?;
    } else {
        for m in &report.mismatches {
            match &m.entry {
                Some(entry) => outln!("MISMATCH {} / {entry}: {}", m.component, m.problem),
                None => outln!("MISMATCH {}: {}", m.component, m.problem),
            }
        }
        outln!(
            "{}: {} entries, {} checked, {} mismatches",
            if report.is_ok() { "OK" } else { "FAILED" },
            report.checked_entries,
            human_bytes(report.checked_bytes),
            report.mismatches.len()
        );
    }
    if report.is_ok() {
        Ok(())
    } else {
        Err(crate::exit::VerifyFailed(report.mismatches.len()).into())
    }
}
