//! `transit update …`: the update service's bundles, TUF repository,
//! ingest and verification (crates/update); the provider, its API
//! commands and the load generator (crates/provider) in `provider.rs`
//! and `console.rs`; the client agent (crates/client) in `agent.rs`.

use crate::cli::update::{DataArg, FoldersCommand, PublishersCommand, UpdateCommand};
use crate::exit::UsageError;
use crate::progress::Bars;
use anyhow::Context;
use serde::Serialize;
use std::path::{Path, PathBuf};
use transit_core::{cancel_on_signals, CancelToken};
use transit_update::client::{self, ClientTrust};
use transit_update::publishers::{AllowList, PublisherKeyFile};
use transit_update::repo::{self, Expiry, OnlineRole, UpdateRepository};
use transit_update::{bundle, ingest, scanner, Store, UpdateState};

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    crate::output::print_pretty(value)
}

fn open(data: &DataArg) -> anyhow::Result<UpdateRepository> {
    Ok(UpdateRepository::open(&data.data)?)
}

mod agent;
mod console;
mod provider;
mod rollout;

/// Runs a `transit update` subcommand (`server_root`: the gate of a
/// provider started without --release).
pub fn run(server_root: &Path, cmd: UpdateCommand) -> anyhow::Result<()> {
    match cmd {
        UpdateCommand::Keygen {
            data,
            root_key,
            timestamp_days,
            publisher,
            out,
            json,
        } => keygen(&data.data, root_key, timestamp_days, publisher, &out, json),
        UpdateCommand::Publishers(cmd) => publishers(cmd),
        UpdateCommand::Bundle {
            from,
            manifest,
            key,
            out,
            json,
        } => build(&from, &manifest, &key, &out, json),
        UpdateCommand::Verify {
            file,
            publishers,
            json,
        } => verify(&file, publishers.as_deref(), json),
        UpdateCommand::Add {
            data,
            file,
            targets_key,
            json,
        } => add(&data, &file, targets_key.as_deref(), json),
        UpdateCommand::List { data, json } => list(&data, json),
        UpdateCommand::SetState { data, id, state } => {
            let repo = open(&data)?;
            let update = Store::open(&repo.store_path())?.set_state(id, state)?;
            outln!("{} {}: {}", update.id, update.target, update.state);
            Ok(())
        }
        UpdateCommand::Delete {
            data,
            id,
            targets_key,
        } => {
            let repo = open(&data)?;
            let store = Store::open(&repo.store_path())?;
            let update = store.update(id)?;
            runtime()?.block_on(async {
                let _lock = repo.lock()?;
                repo.delete_target(&update.target, targets_key.as_deref())
                    .await
            })?;
            store.delete_update(id)?;
            store.log(
                transit_update::store::ActivityStatus::Deleted,
                transit_update::store::NewActivity {
                    machine: "provider".into(),
                    application: update.manifest.application.clone(),
                    release: update.manifest.release.to_string(),
                    patch: update.manifest.patch.to_string(),
                    description: update.target.clone(),
                },
            )?;
            outln!("deleted {} {}", update.id, update.target);
            Ok(())
        }
        UpdateCommand::Refresh { data, force, json } => {
            let repo = open(&data)?;
            let done = runtime()?.block_on(async {
                let _lock = repo.lock()?;
                repo.refresh(force).await
            })?;
            if json {
                return print_json(&done);
            }
            match done {
                Some(s) => outln!(
                    "re-signed: timestamp v{}{}",
                    s.timestamp_version,
                    s.snapshot_version.map(|v| format!(", snapshot v{v}")).unwrap_or_default()
                ),
                None => outln!("nothing due: the timestamp and snapshot have more than half their lifetime left"),
            }
            Ok(())
        }
        UpdateCommand::RotateRoot {
            data,
            root_key,
            new_root_key,
            rotate,
            json,
        } => {
            let repo = open(&data)?;
            let roles: Vec<OnlineRole> = rotate
                .iter()
                .map(|r| match r.as_str() {
                    "targets" => OnlineRole::Targets,
                    "snapshot" => OnlineRole::Snapshot,
                    _ => OnlineRole::Timestamp,
                })
                .collect();
            let report = runtime()?.block_on(repo.rotate(&root_key, &new_root_key, &roles))?;
            if json {
                return print_json(&report);
            }
            outln!(
                "root v{} signed by the old and the new root key; keep {} offline",
                report.root_version,
                new_root_key.display()
            );
            Ok(())
        }
        UpdateCommand::Folders(cmd) => folders(cmd),
        UpdateCommand::Scan {
            data,
            once,
            targets_key,
            json,
        } => scan(&data, once, targets_key, json),
        UpdateCommand::Activity {
            data: Some(data),
            limit,
            json,
            ..
        } => {
            let repo = UpdateRepository::open(&data)?;
            let entries = Store::open(&repo.store_path())?.activity(limit)?;
            if json {
                return print_json(&entries);
            }
            console::print_activity(&entries);
            Ok(())
        }
        UpdateCommand::Activity {
            provider,
            data: None,
            sort,
            asc,
            group,
            machine,
            page,
            per_page,
            csv,
            clear,
            json,
            ..
        } => console::activity(
            &provider,
            console::ActivityArgs {
                sort,
                asc,
                group,
                machine,
                page,
                per_page,
                csv,
                clear,
            },
            json,
        ),
        UpdateCommand::Provider(args) => provider::run(server_root, *args),
        UpdateCommand::Simulate {
            provider,
            also,
            clients,
            rate,
            duration,
            connections,
            seed,
            json,
        } => provider::simulate(
            &provider,
            &also,
            transit_provider::simulate::SimulateOptions {
                clients,
                rate,
                duration: std::time::Duration::from_secs(duration),
                connections,
                seed,
            },
            json,
        ),
        UpdateCommand::Fleet {
            provider,
            clients,
            check_min,
            check_max,
            duration,
            connections,
            seed,
            json,
        } => provider::fleet(
            &provider,
            transit_client::fleet::FleetOptions {
                clients,
                check_min,
                check_max,
                duration: std::time::Duration::from_secs(duration),
                connections,
                seed,
            },
            json,
        ),
        UpdateCommand::Client(cmd) => agent::run(cmd),
        UpdateCommand::Groups(cmd) => console::groups(cmd),
        UpdateCommand::Rollout(cmd) => rollout::run(cmd),
        UpdateCommand::Machines(cmd) => console::machines(cmd),
        UpdateCommand::Updates(cmd) => console::updates(cmd),
        UpdateCommand::Report {
            provider,
            since,
            json,
        } => console::report(&provider, since.as_deref(), json),
        UpdateCommand::Status { provider, json } => console::status(&provider, json),
        UpdateCommand::Database {
            provider,
            action,
            json,
        } => console::database(&provider, action, json),
        UpdateCommand::Check {
            repo,
            root,
            publishers,
            state,
            download,
            out,
            json,
        } => check(
            &repo,
            &root,
            &publishers,
            &state,
            download.as_deref(),
            out.as_deref(),
            json,
        ),
    }
}

#[derive(Serialize)]
struct PublisherKeyReport {
    name: String,
    key_file: PathBuf,
    public_file: PathBuf,
    key_id: String,
}

fn keygen(
    data: &Path,
    root_key: Option<PathBuf>,
    timestamp_days: u32,
    publisher: Option<String>,
    out: &Path,
    json: bool,
) -> anyhow::Result<()> {
    if let Some(name) = publisher {
        if name.trim().is_empty() || name.contains(['/', '\0']) {
            return Err(UsageError(format!("`{name}` is not a publisher name")).into());
        }
        let key_file = out.join(format!("{name}.key"));
        let public_file = out.join(format!("{name}.pub"));
        let key = transit_update::keys::SigningKey::generate(&key_file)?;
        transit_update::fsutil::write_atomic(
            &public_file,
            PublisherKeyFile::render(&name, &key.public()).as_bytes(),
        )?;
        let report = PublisherKeyReport {
            name,
            key_file,
            public_file,
            key_id: key.key_id(),
        };
        if json {
            return print_json(&report);
        }
        outln!(
            "publisher key: {} (keep it private)",
            report.key_file.display()
        );
        outln!(
            "public key:    {} (give it to providers: transit update publishers add FILE)",
            report.public_file.display()
        );
        outln!("key ID:        {}", report.key_id);
        return Ok(());
    }
    let root_key = root_key.expect("clap requires --root-key or --publisher");
    let expiry = Expiry {
        timestamp_days,
        ..Expiry::default()
    };
    let report = runtime()?.block_on(repo::init(data, &root_key, expiry))?;
    if json {
        return print_json(&report);
    }
    outln!("repository: {}", report.dir.display());
    outln!(
        "root key:   {} (offline: move it off this machine; needed only to rotate keys)",
        report.root_key.display()
    );
    let mut ids: Vec<_> = report.key_ids.iter().collect();
    ids.sort();
    for (role, id) in ids {
        outln!("  {role:<10} {id}");
    }
    outln!(
        "timestamp expires after {} days; the provider re-signs it (transit update refresh)",
        report.expiry.timestamp_days
    );
    Ok(())
}

fn publishers(cmd: PublishersCommand) -> anyhow::Result<()> {
    match cmd {
        PublishersCommand::Add { data, file } => {
            let repo = open(&data)?;
            let (name, key) = PublisherKeyFile::load(&file)?;
            let mut list = AllowList::load(&repo.publishers_path())?;
            let added = list.trust(&name, &key);
            list.save(&repo.publishers_path())?;
            outln!(
                "{} {name} (key {})",
                if added { "trusted" } else { "already trusted:" },
                key.key_id()
            );
            Ok(())
        }
        PublishersCommand::List { data, json } => {
            let repo = open(&data)?;
            let list = AllowList::load(&repo.publishers_path())?;
            if json {
                return print_json(&list.publishers);
            }
            for p in &list.publishers {
                outln!("{}: {} key(s)", p.name, p.keys.len());
            }
            Ok(())
        }
    }
}

fn build(from: &Path, manifest: &Path, key: &Path, out: &Path, json: bool) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(manifest).with_context(|| manifest.display().to_string())?;
    let key = transit_update::keys::SigningKey::load(key)?;
    let cancel = CancelToken::new();
    let _signals = cancel_on_signals(&cancel)?;
    let bars = Bars::new(json);
    let built = bundle::build(from, &text, Some(&key), out, &cancel, &bars);
    bars.finish();
    let built = built?;
    if json {
        return print_json(&built);
    }
    let payload = built
        .manifest
        .payload
        .as_ref()
        .expect("a built manifest has its payload");
    outln!(
        "{}: {} {} ({} files, {} bytes, sha256 {})",
        built.path.display(),
        built.manifest.application,
        built.manifest.install_version,
        built.files,
        payload.length,
        payload.sha256
    );
    Ok(())
}

#[derive(Serialize)]
struct VerifyReport {
    file: PathBuf,
    target: String,
    manifest: transit_update::Manifest,
    signer_key_id: String,
    publisher_checked: bool,
}

fn verify(file: &Path, publishers: Option<&Path>, json: bool) -> anyhow::Result<()> {
    let cancel = CancelToken::new();
    let _signals = cancel_on_signals(&cancel)?;
    let bars = Bars::new(json);
    let verified = bundle::verify(file, &mut std::io::sink(), &cancel, &bars);
    bars.finish();
    let verified = verified?;
    if let Some(list) = publishers {
        verified.check_publisher(&AllowList::load(list)?, file)?;
    }
    let report = VerifyReport {
        file: file.to_path_buf(),
        target: verified.manifest.target_name(),
        signer_key_id: verified.signer.key_id(),
        publisher_checked: publishers.is_some(),
        manifest: verified.manifest,
    };
    if json {
        return print_json(&report);
    }
    outln!(
        "{}: OK: {} {} {} by {} (key {})",
        file.display(),
        report.manifest.application,
        report.manifest.install_type,
        report.manifest.install_version,
        report.manifest.publisher,
        report.signer_key_id
    );
    if !report.publisher_checked {
        outln!("the publisher was not checked against an allow-list (--publishers FILE)");
    }
    Ok(())
}

fn print_ingested(done: &ingest::Ingested) {
    if done.already_present {
        outln!(
            "{} {}: already in the repository ({})",
            done.id,
            done.target,
            done.state
        );
    } else {
        outln!(
            "{} {}: added in {} ({} {} patch {}, {} bytes, by {})",
            done.id,
            done.target,
            done.state,
            done.application,
            done.release,
            done.patch,
            done.length,
            done.publisher
        );
    }
    for s in &done.superseded {
        outln!("  only the latest patch should be GA: mark {} {} ({}) Inactive: transit update set-state {} inactive", s.id, s.target, s.state, s.id);
    }
}

fn add(data: &DataArg, file: &Path, targets_key: Option<&Path>, json: bool) -> anyhow::Result<()> {
    let repo = open(data)?;
    let cancel = CancelToken::new();
    let _signals = cancel_on_signals(&cancel)?;
    let bars = Bars::new(json);
    let done = runtime()?.block_on(ingest::ingest_file(
        &repo,
        file,
        targets_key,
        &cancel,
        &bars,
    ));
    bars.finish();
    let done = done?;
    if json {
        return print_json(&done);
    }
    print_ingested(&done);
    Ok(())
}

#[derive(Serialize)]
struct ListedUpdate {
    id: i64,
    target: String,
    application: String,
    release: String,
    patch: u16,
    install_type: String,
    install_version: String,
    state: UpdateState,
    high_priority: bool,
    publisher: String,
    inserted: String,
}

fn list(data: &DataArg, json: bool) -> anyhow::Result<()> {
    let repo = open(data)?;
    let updates: Vec<ListedUpdate> = Store::open(&repo.store_path())?
        .updates()?
        .into_iter()
        .map(|u| ListedUpdate {
            id: u.id,
            target: u.target,
            application: u.manifest.application.clone(),
            release: u.manifest.release.to_string(),
            patch: u.manifest.patch,
            install_type: u.manifest.install_type.to_string(),
            install_version: u.manifest.install_version.to_string(),
            state: u.state,
            high_priority: u.manifest.high_priority,
            publisher: u.manifest.publisher.clone(),
            inserted: u.inserted,
        })
        .collect();
    if json {
        return print_json(&updates);
    }
    for u in updates {
        outln!(
            "{:>4}  {:<13} {:<32} {} patch {} {} {}{}",
            u.id,
            u.state.to_string(),
            u.application,
            u.release,
            u.patch,
            u.install_type,
            u.install_version,
            if u.high_priority {
                " (High Priority)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

fn folders(cmd: FoldersCommand) -> anyhow::Result<()> {
    match cmd {
        FoldersCommand::Add { data, path, auto } => {
            let repo = open(&data)?;
            if !path.is_dir() {
                return Err(UsageError(format!("{} is not a folder", path.display())).into());
            }
            let path = transit_core::paths::resolve(&path)?;
            Store::open(&repo.store_path())?.set_folder(&path, auto)?;
            outln!(
                "{} ({})",
                path.display(),
                if auto { "Auto" } else { "manual" }
            );
            Ok(())
        }
        FoldersCommand::Remove { data, path } => {
            let repo = open(&data)?;
            let path = transit_core::paths::resolve(&path)?;
            if !Store::open(&repo.store_path())?.remove_folder(&path)? {
                return Err(
                    UsageError(format!("{} is not an update folder", path.display())).into(),
                );
            }
            Ok(())
        }
        FoldersCommand::List { data, json } => {
            let repo = open(&data)?;
            let folders = Store::open(&repo.store_path())?.folders()?;
            if json {
                return print_json(&folders);
            }
            for f in folders {
                outln!(
                    "{} ({})",
                    f.path.display(),
                    if f.auto { "Auto" } else { "manual" }
                );
            }
            Ok(())
        }
    }
}

fn print_scan(report: &scanner::ScanReport, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(report);
    }
    for done in &report.ingested {
        print_ingested(done);
    }
    for (file, why) in &report.refused {
        eprintln!("refused {}: {why}", file.display());
    }
    Ok(())
}

fn scan(
    data: &DataArg,
    once: bool,
    targets_key: Option<PathBuf>,
    json: bool,
) -> anyhow::Result<()> {
    let repo = open(data)?;
    let cancel = CancelToken::new();
    let _signals = cancel_on_signals(&cancel)?;
    let rt = runtime()?;
    if once {
        let folders = Store::open(&repo.store_path())?.folders()?;
        let mut all = scanner::ScanReport::default();
        for folder in folders {
            let pass = rt.block_on(scanner::scan_folder(
                &repo,
                &folder.path,
                targets_key.as_deref(),
                &cancel,
            ));
            all.ingested.extend(pass.ingested);
            all.refused.extend(pass.refused);
        }
        return print_scan(&all, json);
    }
    let scanner = scanner::Scanner::new(repo, scanner::SystemClock::default(), targets_key);
    let mut failure = None;
    rt.block_on(scanner.run(&cancel, |pass| match pass {
        Ok(report) => {
            if let Err(e) = print_scan(&report, json) {
                failure = Some(e);
                cancel.cancel();
            }
        }
        Err(e) => {
            failure = Some(e.into());
            cancel.cancel();
        }
    }));
    failure.map_or(Ok(()), Err)
}

#[derive(Serialize)]
struct CheckReport {
    updates: Vec<CheckedUpdate>,
    downloaded: Option<PathBuf>,
}

/// One target of `update check --json`: verified, or refused and why.
#[derive(Serialize)]
#[serde(untagged)]
enum CheckedUpdate {
    Verified(Box<client::VerifiedUpdate>),
    Refused { target: String, refused: String },
}

fn check(
    repo_dir: &Path,
    root: &Path,
    publishers: &Path,
    state: &Path,
    download: Option<&str>,
    out: Option<&Path>,
    json: bool,
) -> anyhow::Result<()> {
    let root_bytes = std::fs::read(root).with_context(|| root.display().to_string())?;
    let trust = ClientTrust::new(root_bytes, AllowList::load(publishers)?, state)?;
    let metadata = client::dir_url(&repo_dir.join("metadata"))?;
    let targets = client::dir_url(&repo_dir.join("targets"))?;
    let rt = runtime()?;
    let verified = rt.block_on(client::refresh(&trust, metadata, targets))?;
    let mut report = CheckReport {
        updates: Vec::new(),
        downloaded: None,
    };
    for name in verified.target_names() {
        match verified.update(&name) {
            Ok(u) => {
                if !json {
                    outln!(
                        "{name}: OK ({} {} by {})",
                        u.manifest.application,
                        u.manifest.install_version,
                        u.manifest.publisher
                    );
                }
                report.updates.push(CheckedUpdate::Verified(Box::new(u)));
            }
            Err(e) => {
                if !json {
                    outln!("{name}: REFUSED: {e}");
                }
                report.updates.push(CheckedUpdate::Refused {
                    target: name,
                    refused: e.to_string(),
                });
            }
        }
    }
    if let (Some(target), Some(out)) = (download, out) {
        rt.block_on(verified.download(target, out))?;
        if !json {
            outln!("downloaded {target} to {} (hash verified)", out.display());
        }
        report.downloaded = Some(out.to_path_buf());
    }
    if json {
        print_json(&report)?;
    }
    Ok(())
}
