//! `handlers-extract-only`: handlers are extracted to the extraction
//! folder and never published; their registrations are not imported.

use super::{Effects, KeyEntry, KeyRule, RuleContext};

/// See the module documentation.
pub struct HandlersExtractOnly;

const ID: &str = "handlers-extract-only";

impl KeyRule for HandlersExtractOnly {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        ctx.names_rule(ID)
    }

    fn apply(&self, _entry: &mut KeyEntry, _ctx: &RuleContext<'_>, effects: &mut Effects) {
        effects.skip(
            ID,
            "handler registrations are not imported: publish the extracted handlers by hand",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn handlers_extract_only_skips_registrations_in_both_modes() {
        for mode in [ImportMode::Migration, ImportMode::Recovery] {
            with_ctx("IP\\Handlers", mode, false, |ctx| {
                assert!(HandlersExtractOnly.applies(ctx));
                let mut fx = Effects::default();
                let path = transit_registry::KeyPath::parse("EIC\\IP\\Handlers\\X").unwrap();
                HandlersExtractOnly.apply(&mut entry(&path, &[]), ctx, &mut fx);
                assert!(fx.skip.is_some());
            });
        }
        with_ctx("Users", ImportMode::Migration, false, |ctx| {
            assert!(!HandlersExtractOnly.applies(ctx))
        });
    }
}
