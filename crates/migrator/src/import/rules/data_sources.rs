//! `data-sources-skip-default`: default data sources are skipped in
//! migration mode (the target's own stay); recovery restores them all.
//! After a same-release move, a custom data source's setup must be re-run
//! (IC Setup Assistant); across releases, Setup Assistant runs anyway.

use super::{migration_rule, Effects, FollowUp, KeyEntry, KeyRule, RuleContext};
use transit_registry::ValueData;

/// See the module documentation.
pub struct SkipDefaultDataSources;

const ID: &str = "data-sources-skip-default";

impl KeyRule for SkipDefaultDataSources {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        migration_rule(ctx, ID)
    }

    fn apply(&self, entry: &mut KeyEntry, ctx: &RuleContext<'_>, effects: &mut Effects) {
        let default =
            matches!(entry.get("Default"), Some(ValueData::Sz(v)) if v.eq_ignore_ascii_case("yes"));
        if default {
            effects.skip(ID, "default data source: the target keeps its own");
        } else if ctx.same_release && entry.get("Driver").is_some() {
            effects.follow_ups.push(FollowUp::RerunDataSourceSetup);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn data_sources_skip_default_in_migration_mode_only() {
        with_ctx("Data Sources", ImportMode::Migration, false, |ctx| {
            let c = ctx.target.container("Data Sources");
            let mut fx = Effects::default();
            SkipDefaultDataSources.apply(
                &mut entry(&c.join("I3_IC").unwrap(), &[("Default", sz("Yes"))]),
                ctx,
                &mut fx,
            );
            assert!(fx.skip.is_some());
            let mut fx = Effects::default();
            let mut custom = entry(
                &c.join("CRM").unwrap(),
                &[("Default", sz("No")), ("Driver", sz("ODBC"))],
            );
            SkipDefaultDataSources.apply(&mut custom, ctx, &mut fx);
            assert!(fx.skip.is_none());
            assert!(fx.follow_ups.is_empty(), "across releases, no re-run");
            let same = RuleContext {
                same_release: true,
                ..*ctx
            };
            let mut fx = Effects::default();
            SkipDefaultDataSources.apply(&mut custom, &same, &mut fx);
            assert_eq!(fx.follow_ups, [FollowUp::RerunDataSourceSetup]);
        });
        with_ctx("Data Sources", ImportMode::Recovery, false, |ctx| {
            assert!(!SkipDefaultDataSources.applies(ctx))
        });
    }
}
