//! `transit review server-params|ip-tables|registration-groups`: finishes
//! the `_migrated` clean-up of one container in one transaction.

use super::preflight;
use super::rules::migrated_suffix::SUFFIX;
use crate::error::Result;
use transit_registry::RegistryRead;
use transit_server::ServerRoot;

/// Which side of each `_migrated` pair to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The target's own value; the imported `_migrated` entry is deleted.
    Original,
    /// The imported value; it replaces the original under the original name.
    Imported,
}

/// What the review did, parameter by parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewOutcome {
    /// Pairs resolved (original name).
    pub resolved: Vec<String>,
    /// `_migrated` entries without an original, left as they are (with
    /// `--keep original`) because deleting them would lose a custom parameter.
    pub left_alone: Vec<String>,
    /// Pairs resolved to the target's value whatever `--keep` says, because
    /// an import rule owns it (the Dialer rule's
    /// `Launch Dialer Migration Package Processor`).
    pub kept_for_rule: Vec<String>,
}

/// The DS containers whose entries a migration imports as `_migrated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Server Parameters.
    ServerParameters,
    /// IP Tables.
    IpTables,
    /// Managed-phone registration groups.
    RegistrationGroups,
}

impl Area {
    /// The DS container.
    pub fn container(self) -> &'static str {
        match self {
            Area::ServerParameters => "Server Parameters",
            Area::IpTables => "IP Tables",
            Area::RegistrationGroups => "Registration Groups",
        }
    }
}

/// Resolves every `<name>_migrated` server parameter (or only the names in
/// `only`) by keeping one side, in one transaction.
pub fn server_params(root: &ServerRoot, keep: Keep, only: &[String]) -> Result<ReviewOutcome> {
    resolve(root, Area::ServerParameters, keep, only)
}

/// Resolves every `<name>_migrated` entry of `area` (or only the names in
/// `only`) by keeping one side, in one transaction. A name in `only` that
/// has no `_migrated` entry is an error, and then nothing changes.
pub fn resolve(
    root: &ServerRoot,
    area: Area,
    keep: Keep,
    only: &[String],
) -> Result<ReviewOutcome> {
    preflight::check_service(root)?;
    let container = root.ds_container(area.container());
    let mut registry = root.open_registry()?;
    let mut txn = registry.write()?;
    let mut outcome = ReviewOutcome::default();
    let names = txn.subkeys(&container)?;
    let unmatched: Vec<String> = only
        .iter()
        .filter(|o| {
            !names
                .iter()
                .any(|n| n.ends_with(SUFFIX) && n[..n.len() - SUFFIX.len()].eq_ignore_ascii_case(o))
        })
        .cloned()
        .collect();
    if !unmatched.is_empty() {
        return Err(crate::MigratorError::NothingToReview {
            container: area.container().to_string(),
            names: unmatched,
        });
    }
    for imported_name in names.iter().filter(|n| n.ends_with(SUFFIX)) {
        let original_name = &imported_name[..imported_name.len() - SUFFIX.len()];
        if !only.is_empty() && !only.iter().any(|o| o.eq_ignore_ascii_case(original_name)) {
            continue;
        }
        let imported = container.join(imported_name)?;
        let original = container.join(original_name)?;
        let has_original = txn.key_exists(&original)?;
        // The Dialer rule set this parameter for the Dialer server, which
        // sets it back to 0 itself: the clean-up must never undo it.
        let keep = if area == Area::ServerParameters
            && has_original
            && original_name.eq_ignore_ascii_case(super::rules::dialer::PARAMETER)
        {
            if keep == Keep::Imported {
                outcome.kept_for_rule.push(original_name.to_string());
            }
            Keep::Original
        } else {
            keep
        };
        match keep {
            Keep::Original if !has_original => {
                outcome.left_alone.push(imported_name.clone());
                continue;
            }
            Keep::Original => {
                txn.delete_key(&imported)?;
            }
            Keep::Imported => {
                txn.delete_key(&original)?;
                txn.copy_tree(&imported, &original)?;
                txn.delete_key(&imported)?;
            }
        }
        outcome.resolved.push(original_name.to_string());
    }
    txn.commit()?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use transit_registry::ValueData;
    use transit_server::{InitParams, Role};

    fn root_with_pairs(dir: &std::path::Path) -> ServerRoot {
        let root = ServerRoot::init(
            dir,
            InitParams {
                name: "CICB".into(),
                site_name: "Paris".into(),
                site_id: 2,
                role: Role::Cic,
                release: "2018 R1".parse().unwrap(),
                patch: 0,
                machine_key: None,
            },
        )
        .unwrap();
        let c = root.ds_container("Server Parameters");
        let mut reg = root.open_registry().unwrap();
        let mut txn = reg.write().unwrap();
        for (name, value) in [
            ("Mail Server", "mine"),
            ("Mail Server_migrated", "theirs"),
            ("Timeout", "5"),
            ("Timeout_migrated", "9"),
            ("Custom_migrated", "c"),
        ] {
            txn.set_value(
                &c.join(name).unwrap(),
                "Value",
                &ValueData::Sz(value.into()),
            )
            .unwrap();
        }
        txn.commit().unwrap();
        root
    }

    fn value(root: &ServerRoot, name: &str) -> Option<String> {
        let reg = root.open_registry().unwrap();
        reg.get_string(
            &root.ds_container("Server Parameters").join(name).unwrap(),
            "Value",
        )
        .ok()
    }

    #[test]
    fn an_only_name_without_a_migrated_entry_is_an_error_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = root_with_pairs(&dir.path().join("s"));
        let err =
            server_params(&root, Keep::Imported, &["Timeout".into(), "Nope".into()]).unwrap_err();
        assert!(err.to_string().contains("Nope"), "{err}");
        assert_eq!(
            value(&root, "Timeout").as_deref(),
            Some("5"),
            "nothing changed"
        );
    }

    #[test]
    fn ip_tables_resolve_like_server_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let root = root_with_pairs(&dir.path().join("s"));
        let c = root.ds_container("IP Tables");
        {
            let mut reg = root.open_registry().unwrap();
            let mut txn = reg.write().unwrap();
            for (name, v) in [("T1", "mine"), ("T1_migrated", "theirs")] {
                txn.set_value(
                    &c.join(name).unwrap(),
                    "Description",
                    &ValueData::Sz(v.into()),
                )
                .unwrap();
            }
            txn.commit().unwrap();
        }
        let out = resolve(&root, Area::IpTables, Keep::Imported, &[]).unwrap();
        assert_eq!(out.resolved, ["T1"]);
        let reg = root.open_registry().unwrap();
        assert_eq!(
            reg.get_string(&c.join("T1").unwrap(), "Description")
                .unwrap(),
            "theirs"
        );
        assert!(!reg.key_exists(&c.join("T1_migrated").unwrap()).unwrap());
    }

    #[test]
    fn keeping_imported_never_undoes_the_dialer_rule() {
        let dir = tempfile::tempdir().unwrap();
        let root = root_with_pairs(&dir.path().join("s"));
        let c = root.ds_container("Server Parameters");
        let p = crate::import::rules::dialer::PARAMETER;
        {
            let mut reg = root.open_registry().unwrap();
            let mut txn = reg.write().unwrap();
            txn.set_value(&c.join(p).unwrap(), "Value", &ValueData::Sz("1".into()))
                .unwrap();
            txn.set_value(
                &c.join(&format!("{p}_migrated")).unwrap(),
                "Value",
                &ValueData::Sz("0".into()),
            )
            .unwrap();
            txn.commit().unwrap();
        }
        let out = server_params(&root, Keep::Imported, &[]).unwrap();
        assert_eq!(out.kept_for_rule, [p]);
        assert_eq!(value(&root, p).as_deref(), Some("1"));
        assert_eq!(value(&root, &format!("{p}_migrated")), None);
        assert_eq!(
            value(&root, "Timeout").as_deref(),
            Some("9"),
            "others as asked"
        );
    }

    #[test]
    fn keeping_imported_values_replaces_the_originals() {
        let dir = tempfile::tempdir().unwrap();
        let root = root_with_pairs(&dir.path().join("s"));
        let outcome = server_params(&root, Keep::Imported, &[]).unwrap();
        assert_eq!(outcome.resolved.len(), 3);
        assert_eq!(value(&root, "Mail Server").as_deref(), Some("theirs"));
        assert_eq!(value(&root, "Custom").as_deref(), Some("c"));
        assert_eq!(value(&root, "Mail Server_migrated"), None);
    }

    #[test]
    fn keeping_originals_deletes_the_imported_side_only_where_a_pair_exists() {
        let dir = tempfile::tempdir().unwrap();
        let root = root_with_pairs(&dir.path().join("s"));
        let outcome = server_params(&root, Keep::Original, &["mail server".into()]).unwrap();
        assert_eq!(outcome.resolved, ["Mail Server"]);
        assert_eq!(value(&root, "Mail Server").as_deref(), Some("mine"));
        assert_eq!(value(&root, "Mail Server_migrated"), None);
        assert_eq!(
            value(&root, "Timeout_migrated").as_deref(),
            Some("9"),
            "not in --only"
        );
        let all = server_params(&root, Keep::Original, &[]).unwrap();
        assert_eq!(all.left_alone, ["Custom_migrated"]);
        assert_eq!(value(&root, "Custom_migrated").as_deref(), Some("c"));
    }
}
