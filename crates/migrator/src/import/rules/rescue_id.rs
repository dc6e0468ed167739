//! `recorder-rescue-id-dev-mode`: with `--dev-mode`, the Recorder's
//! Rescue ID attribute key is not imported.

use super::{Effects, KeyEntry, KeyRule, RuleContext};

/// See the module documentation.
pub struct RescueIdDevMode;

const ID: &str = "recorder-rescue-id-dev-mode";

impl KeyRule for RescueIdDevMode {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        ctx.dev_mode && ctx.names_rule(ID)
    }

    fn apply(&self, entry: &mut KeyEntry, _ctx: &RuleContext<'_>, effects: &mut Effects) {
        if entry
            .path
            .segments()
            .iter()
            .any(|s| s.eq_ignore_ascii_case("Rescue ID"))
        {
            effects.skip(ID, "Recorder Rescue ID is skipped in dev mode");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn recorder_rescue_id_dev_mode_skips_only_the_rescue_id() {
        with_ctx("Interaction Recorder", ImportMode::Migration, true, |ctx| {
            assert!(RescueIdDevMode.applies(ctx));
            let rec = ctx.target.container("Recorder");
            let mut fx = Effects::default();
            RescueIdDevMode.apply(
                &mut entry(&rec.join("Configuration\\Rescue ID").unwrap(), &[]),
                ctx,
                &mut fx,
            );
            assert!(fx.skip.is_some());
            let mut fx = Effects::default();
            RescueIdDevMode.apply(
                &mut entry(&rec.join("Configuration").unwrap(), &[]),
                ctx,
                &mut fx,
            );
            assert!(fx.skip.is_none());
        });
        with_ctx(
            "Interaction Recorder",
            ImportMode::Migration,
            false,
            |ctx| assert!(!RescueIdDevMode.applies(ctx)),
        );
    }
}
