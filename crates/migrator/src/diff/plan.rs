//! Opening both sides and turning the catalog into groups to compare.
//!
//! Each component's registry selectors are expanded with each side's own
//! DS key and server name, and keys are compared relative to the expanded
//! subtree, so the same component of two differently named servers lines
//! up. The `(other registry)` group, for keys outside every component, is
//! compared only when neither side is a migration file (which holds
//! nothing else); it has three regions: the rest of each server's DS key,
//! the rest of its `EIC\<server>` key (both relative, as components are),
//! and the rest of the registry by full path.

use super::files;
use super::merge::merge_keys;
use super::source::{self, Side, SideInfo, SideKind};
use super::walk::{send_batches, Batches, RegionWalk};
use super::{
    Counts, DiffError, DiffOptions, DiffSink, FilesStatus, GroupInfo, GroupStatus, Result,
    OTHER_GROUP,
};
use transit_catalog::{Catalog, Component};
use transit_registry::KeyPath;

/// One subtree pair to merge.
pub(crate) struct Region {
    /// How keys are shown: the selector with placeholders.
    label: String,
    /// A's top key (`None`: A has no such subtree).
    a: Option<KeyPath>,
    /// B's top key.
    b: Option<KeyPath>,
    /// A's subtrees to leave out.
    exclude_a: Vec<KeyPath>,
    /// B's subtrees to leave out.
    exclude_b: Vec<KeyPath>,
}

/// One group of the report.
pub(crate) struct Group {
    /// As announced to the sink.
    pub info: GroupInfo,
    regions: Vec<Region>,
    /// The component whose files to compare (when `info.files` says so).
    component: Option<&'static Component>,
}

impl Group {
    /// Compares the group, reporting to `sink`; returns its counts.
    pub fn run(&self, a: &Side, b: &mut Side, sink: &mut dyn DiffSink) -> Result<Counts> {
        let mut counts = Counts::default();
        sink.group(&self.info).map_err(DiffError::Output)?;
        if self.info.status == GroupStatus::Compared {
            for region in &self.regions {
                // B's keys are read on a second thread while this one
                // reads A's and merges: the two databases are read at once.
                std::thread::scope(|scope| {
                    let (tx, rx) = std::sync::mpsc::sync_channel(8);
                    let side_b = &mut *b;
                    scope.spawn(move || {
                        let walk_b = RegionWalk::new(
                            side_b.reader(),
                            &side_b.registry_path,
                            region.b.as_ref(),
                            &region.exclude_b,
                        );
                        send_batches(walk_b, &tx);
                    });
                    let walk_a = RegionWalk::new(
                        a.reader(),
                        &a.registry_path,
                        region.a.as_ref(),
                        &region.exclude_a,
                    );
                    merge_keys(walk_a, Batches::new(rx), &region.label, &mut |diff| {
                        counts.count_key(&diff);
                        sink.key(&diff).map_err(DiffError::Output)
                    })
                })?;
            }
            if let (FilesStatus::Compared, Some(component)) = (&self.info.files, self.component) {
                let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
                files::compare(
                    files::list(a, component)?,
                    files::list(b, component)?,
                    threads,
                    &mut |diff| {
                        counts.count_file(&diff);
                        sink.file(&diff).map_err(DiffError::Output)
                    },
                )?;
            }
        }
        sink.end_group(&self.info, &counts)
            .map_err(DiffError::Output)?;
        Ok(counts)
    }
}

/// Opens both sides (their registries load in parallel), works out the
/// role and the groups, and collects notes on what cannot be compared.
pub(crate) fn prepare(
    a: &std::path::Path,
    b: &std::path::Path,
    options: &DiffOptions,
) -> Result<(Side, Side, Vec<Group>, Vec<String>)> {
    let (info_a, opened_a) = source::open(a, &options.password_a)?;
    let (info_b, opened_b) = source::open(b, &options.password_b)?;
    let mut notes: Vec<String> = [('A', &opened_a), ('B', &opened_b)]
        .into_iter()
        .filter_map(|(name, opened)| source::import_note(name, opened))
        .collect();
    if let (Some(ra), Some(rb)) = (&info_a.role, &info_b.role) {
        if !ra.eq_ignore_ascii_case(rb) {
            return Err(DiffError::RoleMismatch {
                a: ra.clone(),
                b: rb.clone(),
            });
        }
    }
    // The catalog is known now unless both sides are .reg files; their
    // whole files load regardless of the selection.
    let known_role = info_a.role.clone().or_else(|| info_b.role.clone());
    let wanted: Vec<String> = match &known_role {
        Some(role) => selection(Catalog::for_role(role)?, options)?.0,
        None => Vec::new(),
    };
    let (side_a, side_b) = std::thread::scope(|scope| {
        let wanted = &wanted;
        let loading_b = scope.spawn(move || source::load(info_b, opened_b, wanted));
        let side_a = source::load(info_a, opened_a, wanted);
        let side_b = loading_b.join().expect("loading thread panicked");
        (side_a, side_b)
    });
    let (mut side_a, mut side_b) = (side_a?, side_b?);

    if side_a.info.kind == SideKind::RegFile {
        notes.extend(source::infer_identity(&mut side_a, &side_b.info)?);
    }
    if side_b.info.kind == SideKind::RegFile {
        notes.extend(source::infer_identity(&mut side_b, &side_a.info)?);
    }
    let role = match known_role {
        Some(role) => role,
        None => source::infer_role(&side_a)?,
    };
    for side in [&mut side_a, &mut side_b] {
        side.info.role.get_or_insert_with(|| role.clone());
    }
    let catalog = Catalog::for_role(&role)?;
    let groups = groups(catalog, options, &side_a.info, &side_b.info, &mut notes)?;
    Ok((side_a, side_b, groups, notes))
}

/// The selected component IDs, in catalog order, and whether that is
/// everything (which adds the other group).
fn selection(catalog: &Catalog, options: &DiffOptions) -> Result<(Vec<String>, bool)> {
    match &options.components {
        None => Ok((
            catalog.components.iter().map(|c| c.id.clone()).collect(),
            true,
        )),
        Some(names) => {
            let all = names.iter().any(|n| n.trim().eq_ignore_ascii_case("all"));
            let ids = catalog.resolve(names)?;
            let ordered = catalog
                .components
                .iter()
                .filter(|c| ids.contains(&c.id))
                .map(|c| c.id.clone())
                .collect();
            Ok((ordered, all))
        }
    }
}

/// A side's expansion of a registry selector; `None` when the side lacks
/// the DS key or server name it needs.
fn expand(selector: &str, side: &SideInfo) -> Option<KeyPath> {
    let mut text = selector.to_string();
    if text.contains("{ds}") {
        text = text.replace("{ds}", &side.ds()?.to_string());
    }
    if text.contains("{server}") {
        text = text.replace("{server}", side.server.as_deref()?);
    }
    KeyPath::parse(&text).ok()
}

/// Whether a migration-file side holds a component (other kinds hold all).
fn holds(side: &SideInfo, id: &str) -> bool {
    side.components
        .as_ref()
        .is_none_or(|ids| ids.iter().any(|c| c == id))
}

fn groups(
    catalog: &'static Catalog,
    options: &DiffOptions,
    a: &SideInfo,
    b: &SideInfo,
    notes: &mut Vec<String>,
) -> Result<Vec<Group>> {
    let (ids, everything) = selection(catalog, options)?;
    let reg_side = [a, b]
        .into_iter()
        .zip(['A', 'B'])
        .find(|(s, _)| s.kind == SideKind::RegFile);
    let files_skipped = reg_side.map(|(s, name)| {
        format!(
            "{name} is a .reg file ({}), which holds no files: files are not compared",
            s.path.display()
        )
    });
    if let Some(note) = &files_skipped {
        notes.push(note.clone());
    }
    for (side, name) in [(a, 'A'), (b, 'B')] {
        for id in side.components.iter().flatten() {
            if catalog.components.iter().all(|c| c.id != *id) {
                notes.push(format!(
                    "{name} holds component `{id}`, which the {} catalog does not know: not compared",
                    catalog.role
                ));
            }
        }
    }
    let mut out = Vec::new();
    let mut not_in_files = Vec::new();
    for id in &ids {
        let component = catalog.component(id).expect("selected from the catalog");
        let status = match (holds(a, id), holds(b, id)) {
            (true, true) => GroupStatus::Compared,
            (true, false) if a.kind == SideKind::MigrationFile => GroupStatus::OnlyInA,
            (false, true) if b.kind == SideKind::MigrationFile => GroupStatus::OnlyInB,
            // A migration file without it against a root or .reg file
            // (which would list it all as added or removed), or two
            // migration files that both lack it: not compared.
            _ => {
                not_in_files.push(id.clone());
                continue;
            }
        };
        let has_files = !component.files.is_empty() || component.custom_handlers;
        let files = match (&files_skipped, has_files) {
            (_, false) => FilesStatus::None,
            (Some(note), true) => FilesStatus::Skipped(note.clone()),
            (None, true) => FilesStatus::Compared,
        };
        let regions = component
            .registry
            .iter()
            .map(|selector| Region {
                label: selector.clone(),
                a: expand(selector, a),
                b: expand(selector, b),
                exclude_a: Vec::new(),
                exclude_b: Vec::new(),
            })
            .collect();
        out.push(Group {
            info: GroupInfo {
                id: id.clone(),
                registry: component.registry.clone(),
                status,
                files,
            },
            regions,
            component: Some(component),
        });
    }
    if !not_in_files.is_empty() {
        notes.push(format!(
            "only components a migration file holds are compared; {} not held: {}",
            not_in_files.len(),
            not_in_files.join(", ")
        ));
    }
    let migration = a.kind == SideKind::MigrationFile || b.kind == SideKind::MigrationFile;
    if everything && !migration {
        out.push(other_group(catalog, a, b));
    }
    Ok(out)
}

/// The `(other registry)` group: everything outside every component.
fn other_group(catalog: &Catalog, a: &SideInfo, b: &SideInfo) -> Group {
    let components = |side: &SideInfo| -> Vec<KeyPath> {
        catalog
            .components
            .iter()
            .flat_map(|c| c.registry.iter().filter_map(|s| expand(s, side)))
            .collect()
    };
    let (comp_a, comp_b) = (components(a), components(b));
    let server_key = |side: &SideInfo| expand("EIC\\{server}", side);
    let inside = |list: &[KeyPath], top: &Option<KeyPath>| -> Vec<KeyPath> {
        match top {
            Some(top) => list
                .iter()
                .filter(|k| k.starts_with(top))
                .cloned()
                .collect(),
            None => Vec::new(),
        }
    };
    let (ds_a, ds_b) = (a.ds(), b.ds());
    let (srv_a, srv_b) = (server_key(a), server_key(b));
    let mut rest_a = comp_a.clone();
    rest_a.extend(ds_a.clone());
    rest_a.extend(srv_a.clone());
    let mut rest_b = comp_b.clone();
    rest_b.extend(ds_b.clone());
    rest_b.extend(srv_b.clone());
    let regions = vec![
        Region {
            label: "{ds}".into(),
            exclude_a: inside(&comp_a, &ds_a),
            exclude_b: inside(&comp_b, &ds_b),
            a: ds_a,
            b: ds_b,
        },
        Region {
            label: "EIC\\{server}".into(),
            exclude_a: inside(&comp_a, &srv_a),
            exclude_b: inside(&comp_b, &srv_b),
            a: srv_a,
            b: srv_b,
        },
        Region {
            label: String::new(),
            a: Some(KeyPath::root()),
            b: Some(KeyPath::root()),
            exclude_a: rest_a,
            exclude_b: rest_b,
        },
    ];
    Group {
        info: GroupInfo {
            id: OTHER_GROUP.to_string(),
            registry: vec!["{ds}".into(), "EIC\\{server}".into(), "(the rest)".into()],
            status: GroupStatus::Compared,
            files: FilesStatus::None,
        },
        regions,
        component: None,
    }
}
