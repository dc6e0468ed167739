//! The registry side of an import: the rules run over every component's
//! keys (parsed on a second thread) and write into one transaction.

use super::faults::pause_point;
use super::parse::{has_registry_entry, parse_components, Parsed};
use super::plan::ImportPlan;
use super::{check_cancel, COMPONENTS_TASK};
use crate::error::{MigratorError, Result};
use crate::import::preflight::ImportMode;
use crate::import::report::{ComponentReport, ImportReport};
use crate::import::rules::{self, KeyEntry, Names, RuleContext, TargetKeys};
use std::path::Path;
use transit_archive::MigrationReader;
use transit_catalog::Component;
use transit_core::{CancelToken, Event, PathIoError, Progress, Unit};
use transit_registry::{KeyPath, NamedValue, RegistryRead, WriteTxn};
use transit_server::ServerRoot;

/// What the registry side of an import works with.
pub(super) struct RegistryInputs<'a> {
    pub(super) root: &'a ServerRoot,
    pub(super) plan: &'a ImportPlan,
    pub(super) components: &'a [&'a Component],
    pub(super) source: &'a Names,
    pub(super) target: &'a Names,
    pub(super) progress: &'a dyn Progress,
    /// The user's stop.
    pub(super) cancel: &'a CancelToken,
    /// Set when the file stager failed.
    pub(super) stop: &'a CancelToken,
}

/// Applies every component's registry data to the transaction.
pub(super) fn apply_registry(
    txn: &mut WriteTxn<'_>,
    inputs: &RegistryInputs<'_>,
    reader: &MigrationReader,
    temp_for_zips: &Path,
    report: &mut ImportReport,
    component_reports: &mut [ComponentReport],
) -> Result<()> {
    let RegistryInputs {
        plan,
        components,
        cancel,
        ..
    } = *inputs;
    // A second thread decrypts and parses each component's .reg text, in
    // component order, while this one runs the rules and writes.
    let (sender, entries) = std::sync::mpsc::sync_channel::<Parsed>(16);
    let parse_stop = CancelToken::new();
    let parse_reader = reader.reopen()?;
    std::thread::scope(|s| {
        let parser = {
            let parse_stop = &parse_stop;
            s.spawn(move || {
                parse_components(
                    parse_reader,
                    plan,
                    components,
                    temp_for_zips,
                    &sender,
                    cancel,
                    parse_stop,
                )
            })
        };
        let applied = apply_components(txn, inputs, reader, &entries, report, component_reports);
        // Unblock the parser if this side stopped early.
        parse_stop.cancel();
        drop(entries);
        let _ = parser.join();
        applied
    })
}

/// Runs the rules on every component's keys, in order, into the transaction.
fn apply_components(
    txn: &mut WriteTxn<'_>,
    inputs: &RegistryInputs<'_>,
    reader: &MigrationReader,
    entries: &std::sync::mpsc::Receiver<Parsed>,
    report: &mut ImportReport,
    component_reports: &mut [ComponentReport],
) -> Result<()> {
    let RegistryInputs {
        root,
        plan,
        components,
        source,
        target,
        progress,
        cancel,
        stop,
    } = *inputs;
    let total = components.len() as u64;
    progress.event(Event::begin(COMPONENTS_TASK, Unit::Items, Some(total)));
    for (index, component) in components.iter().enumerate() {
        if stop.is_cancelled() {
            // The stager failed; its error is the one reported.
            return Ok(());
        }
        check_cancel(cancel)?;
        progress.event(Event::advance(COMPONENTS_TASK, index as u64));
        progress.event(Event::status(
            COMPONENTS_TASK,
            format!("{} ({} of {total})", component.id, index + 1),
        ));
        let cr = component_reports
            .iter_mut()
            .find(|c| c.id == component.id)
            .expect("one report per component");
        let release = root.identity().server.product_release;
        // The keys whose direct subkeys are the component's items.
        let item_roots = component
            .registry_keys(&target.ds().to_string(), &target.server)
            .iter()
            .filter_map(|k| KeyPath::parse(k).ok())
            .collect();
        let scope = Scope {
            plan,
            component,
            source,
            target,
            item_roots,
            release,
            same_release: report.source_release == release.to_string(),
            cancel,
        };
        import_component_registry(txn, reader, entries, &scope, report, cr)?;
        let none = |_: &KeyPath| -> Option<Vec<NamedValue>> { None };
        for follow_up in rules::component_follow_ups(&scope.rule_context(&none)) {
            report.follow_up(follow_up);
        }
    }
    // The target's side of each _migrated pair, as the rules left it.
    report.refresh_originals(|container, original| {
        let path = target.container(container).join(original).ok()?;
        txn.values(&path).ok().map(|v| rules::render_values(&v))
    });
    progress.event(Event::advance(COMPONENTS_TASK, total));
    progress.event(Event::end(COMPONENTS_TASK));
    Ok(())
}

/// What every rule run over one component shares.
struct Scope<'a> {
    plan: &'a ImportPlan,
    component: &'a Component,
    source: &'a Names,
    target: &'a Names,
    /// The target's product release.
    release: transit_server::ProductRelease,
    /// Source and target run the same product release.
    same_release: bool,
    /// The user's stop, checked between key batches.
    cancel: &'a CancelToken,
    /// The keys whose direct subkeys are the component's items.
    item_roots: Vec<KeyPath>,
}

impl Scope<'_> {
    /// The rule context, with `existing` looking up the target's values.
    fn rule_context<'b>(&'b self, existing: &'b dyn TargetKeys) -> RuleContext<'b> {
        RuleContext {
            mode: self.plan.mode,
            component: self.component,
            source: self.source,
            target: self.target,
            target_release: self.release,
            dev_mode: self.plan.dev_mode,
            same_release: self.same_release,
            existing,
        }
    }
}

/// Runs the key rules over one component's parsed keys (from the parsing
/// thread) and writes what they leave into the transaction.
fn import_component_registry(
    txn: &mut WriteTxn<'_>,
    reader: &MigrationReader,
    entries: &std::sync::mpsc::Receiver<Parsed>,
    scope: &Scope<'_>,
    report: &mut ImportReport,
    cr: &mut ComponentReport,
) -> Result<()> {
    let (component, plan, source) = (scope.component, scope.plan, scope.source);
    let next = || {
        entries.recv().unwrap_or_else(|_| {
            Parsed::Failed(MigratorError::Io(PathIoError::new(
                plan.file.clone(),
                std::io::Error::other("the registry-parsing thread stopped"),
            )))
        })
    };
    if !has_registry_entry(reader, component) {
        return match next() {
            Parsed::End => Ok(()),
            Parsed::Failed(e) => Err(e),
            Parsed::Keys(_) => unreachable!("no keys for a component without registry data"),
        };
    }
    // Before the component: clear what must be replaced.
    {
        let none = |_: &KeyPath| -> Option<Vec<NamedValue>> { None };
        let ctx = scope.rule_context(&none);
        let mut fx = rules::Effects::default();
        let mut clear: Vec<KeyPath> = Vec::new();
        for rule in rules::KEY_RULES {
            if rule.applies(&ctx) {
                clear.extend(rule.before_component(&ctx, &mut fx));
            }
        }
        if plan.mode == ImportMode::Recovery {
            // Recovery restores exactly: the component's subtrees are
            // replaced by the exported ones.
            for key in component.registry_keys(&source.ds().to_string(), &source.server) {
                clear.push(KeyPath::parse(&key).map_err(transit_registry::RegistryError::from)?);
            }
        }
        for key in clear {
            txn.delete_key(&key)?;
        }
        for (rule, _) in &fx.notes {
            *cr.rules.entry(rule.to_string()).or_default() += 1;
        }
        write_extra(txn, &fx.extra)?;
    }
    loop {
        match next() {
            Parsed::Keys(batch) => {
                check_cancel(scope.cancel)?;
                for entry in batch {
                    apply_entry(txn, entry, scope, report, cr)?;
                }
                pause_point("registry-batch", scope.cancel);
            }
            Parsed::End => return Ok(()),
            Parsed::Failed(e) => return Err(e),
        }
    }
}

/// The target's registry as the transaction has it so far.
struct Written<'t, 'c>(&'t WriteTxn<'c>);

impl TargetKeys for Written<'_, '_> {
    fn values(&self, path: &KeyPath) -> Option<Vec<NamedValue>> {
        self.0.values(path).ok()
    }

    fn value_names(&self, path: &KeyPath) -> Option<Vec<String>> {
        self.0.value_names(path).ok()
    }
}

fn write_extra(txn: &mut WriteTxn<'_>, extra: &[KeyEntry]) -> Result<()> {
    for e in extra {
        let id = txn.create_key(&e.path)?;
        for v in &e.values {
            txn.set_value_at(id, &v.name, &v.data)?;
        }
    }
    Ok(())
}

/// Runs the key rules on one key and writes what they leave.
fn apply_entry(
    txn: &mut WriteTxn<'_>,
    mut entry: KeyEntry,
    scope: &Scope<'_>,
    report: &mut ImportReport,
    cr: &mut ComponentReport,
) -> Result<()> {
    let original = entry.path.clone();
    let fx = rules::apply_key_rules(&mut entry, &scope.rule_context(&Written(txn)));
    for (rule, _) in &fx.notes {
        *cr.rules.entry(rule.to_string()).or_default() += 1;
    }
    for f in &fx.follow_ups {
        report.follow_up(f.clone());
    }
    cr.conflicts.extend(fx.conflicts.iter().cloned());
    if let Some(reason) = fx.skip {
        cr.keys_skipped.push((original.to_string(), reason));
        return Ok(());
    }
    if fx.notes.iter().any(|(rule, _)| rule.ends_with("-migrated")) {
        cr.renamed
            .push((original.to_string(), entry.path.to_string()));
    }
    let id = txn.create_key(&entry.path)?;
    for v in &entry.values {
        txn.set_value_at(id, &v.name, &v.data)?;
    }
    cr.keys_imported += 1;
    cr.values_imported += entry.values.len() as u64;
    if let (Some(parent), Some(name)) = (entry.path.parent(), entry.path.name()) {
        if scope.item_roots.contains(&parent) {
            cr.items.push(name.to_string());
        }
    }
    write_extra(txn, &fx.extra)
}
