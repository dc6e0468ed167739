//! `server-params-migrated`, `ip-tables-migrated` and
//! `registration-groups-migrated`: in migration mode these entries import
//! as `<name>_migrated`, beside the target's own, for review.

use super::{migration_rule, Effects, FollowUp, KeyEntry, KeyRule, RuleContext};
use transit_registry::KeyPath;

/// Renames the entries of one DS container to `<name>_migrated`.
pub struct MigratedSuffix {
    id: &'static str,
    container: &'static str,
}

/// Server Parameters.
pub static SERVER_PARAMETERS: MigratedSuffix = MigratedSuffix {
    id: "server-params-migrated",
    container: "Server Parameters",
};
/// IP Tables.
pub static IP_TABLES: MigratedSuffix = MigratedSuffix {
    id: "ip-tables-migrated",
    container: "IP Tables",
};
/// Managed-phone registration groups.
pub static REGISTRATION_GROUPS: MigratedSuffix = MigratedSuffix {
    id: "registration-groups-migrated",
    container: "Registration Groups",
};

/// The suffix added to imported entries.
pub const SUFFIX: &str = "_migrated";

impl KeyRule for MigratedSuffix {
    fn id(&self) -> &'static str {
        self.id
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        migration_rule(ctx, self.id)
    }

    fn apply(&self, entry: &mut KeyEntry, ctx: &RuleContext<'_>, effects: &mut Effects) {
        let container = ctx.target.container(self.container);
        let depth = container.segments().len();
        if !entry.path.starts_with(&container) || entry.path.segments().len() <= depth {
            return;
        }
        let name = entry.path.segments()[depth].clone();
        if name.ends_with(SUFFIX) {
            return;
        }
        let renamed = format!("{name}{SUFFIX}");
        let mut segments: Vec<String> = entry.path.segments().to_vec();
        segments[depth] = renamed.clone();
        entry.path = KeyPath::parse(&segments.join("\\")).expect("segments of a valid path");
        if entry.path.segments().len() == depth + 1 {
            let original_values = container
                .join(&name)
                .ok()
                .and_then(|p| ctx.existing.values(&p))
                .map(|v| super::render_values(&v));
            effects.note(self.id, format!("{name} imported as {renamed}"));
            effects.follow_ups.push(FollowUp::ReviewMigrated {
                container: self.container.to_string(),
                original: name,
                imported: renamed,
                original_values,
                imported_values: super::render_values(&entry.values),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn server_params_migrated_renames_entries_and_asks_for_review() {
        with_ctx("Server Parameters", ImportMode::Migration, false, |ctx| {
            assert!(SERVER_PARAMETERS.applies(ctx));
            assert!(!IP_TABLES.applies(ctx), "only the component's own rule");
            let path = ctx
                .target
                .container("Server Parameters")
                .join("Mail Server")
                .unwrap();
            let mut e = entry(&path, &[("Value", sz("mail"))]);
            let mut fx = Effects::default();
            SERVER_PARAMETERS.apply(&mut e, ctx, &mut fx);
            assert_eq!(e.path.name(), Some("Mail Server_migrated"));
            assert_eq!(fx.follow_ups.len(), 1);
            match &fx.follow_ups[0] {
                FollowUp::ReviewMigrated {
                    original_values,
                    imported_values,
                    ..
                } => {
                    assert_eq!(imported_values, "Value=mail", "values side by side");
                    assert_eq!(original_values, &None, "this target has no such parameter");
                }
                other => panic!("{other:?}"),
            }
            // The container key itself is left alone.
            let mut c = entry(&ctx.target.container("Server Parameters"), &[]);
            SERVER_PARAMETERS.apply(&mut c, ctx, &mut Effects::default());
            assert_eq!(c.path.name(), Some("Server Parameters"));
        });
        with_ctx("Server Parameters", ImportMode::Recovery, false, |ctx| {
            assert!(!SERVER_PARAMETERS.applies(ctx))
        });
    }

    #[test]
    fn ip_tables_and_registration_groups_migrated() {
        for (rule, component, container) in [
            (&IP_TABLES, "IP Tables", "IP Tables"),
            (
                &REGISTRATION_GROUPS,
                "IP Phone Registration Groups",
                "Registration Groups",
            ),
        ] {
            with_ctx(component, ImportMode::Migration, false, |ctx| {
                assert!(rule.applies(ctx));
                let mut e = entry(
                    &ctx.target.container(container).join("G1\\Sub").unwrap(),
                    &[],
                );
                rule.apply(&mut e, ctx, &mut Effects::default());
                assert!(
                    e.path.to_string().ends_with("G1_migrated\\Sub"),
                    "{}",
                    e.path
                );
            });
        }
    }
}
