//! `handlers-extract-only`: handlers are extracted to the extraction
//! folder and never published; in migration mode their registrations are
//! not imported either. (Recovery restores the registrations exactly as
//! exported; the handler files still only go to the extraction folder.)

use super::{Effects, KeyEntry, KeyRule, RuleContext};

/// See the module documentation.
pub struct HandlersExtractOnly;

const ID: &str = "handlers-extract-only";

impl KeyRule for HandlersExtractOnly {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        super::migration_rule(ctx, ID)
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
    fn handlers_extract_only_skips_registrations_in_migration_mode() {
        with_ctx("IP\\Handlers", ImportMode::Recovery, false, |ctx| {
            assert!(!HandlersExtractOnly.applies(ctx))
        });
        with_ctx("IP\\Handlers", ImportMode::Migration, false, |ctx| {
            assert!(HandlersExtractOnly.applies(ctx));
            let mut fx = Effects::default();
            let path = transit_registry::KeyPath::parse("EIC\\IP\\Handlers\\X").unwrap();
            HandlersExtractOnly.apply(&mut entry(&path, &[]), ctx, &mut fx);
            assert!(fx.skip.is_some());
        });
        with_ctx("Users", ImportMode::Migration, false, |ctx| {
            assert!(!HandlersExtractOnly.applies(ctx))
        });
    }
}
