//! `attendant-overwrite`: in migration mode the imported Attendant profiles
//! replace the active Attendant configuration.

use super::{migration_rule, Effects, KeyEntry, KeyRule, RuleContext};
use transit_registry::KeyPath;

/// See the module documentation.
pub struct OverwriteActive;

const ID: &str = "attendant-overwrite";

impl KeyRule for OverwriteActive {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        migration_rule(ctx, ID)
    }

    fn apply(&self, _entry: &mut KeyEntry, _ctx: &RuleContext<'_>, _effects: &mut Effects) {}

    fn before_component(&self, ctx: &RuleContext<'_>, effects: &mut Effects) -> Vec<KeyPath> {
        let active = ctx.target.container("Attendant Profiles");
        effects.note(
            ID,
            "the active Attendant configuration is replaced by the imported one",
        );
        vec![active]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn attendant_overwrite_clears_the_active_configuration_first() {
        with_ctx("Attendant Profiles", ImportMode::Migration, false, |ctx| {
            let mut fx = Effects::default();
            let cleared = OverwriteActive.before_component(ctx, &mut fx);
            assert_eq!(cleared, [ctx.target.container("Attendant Profiles")]);
        });
        with_ctx("Attendant Profiles", ImportMode::Recovery, false, |ctx| {
            assert!(!OverwriteActive.applies(ctx))
        });
    }
}
