//! `mail-providers-inactive`: mail providers import inactive, to be
//! re-activated by hand once their settings are checked.

use super::{migration_rule, Effects, FollowUp, KeyEntry, KeyRule, RuleContext};
use transit_registry::ValueData;

/// See the module documentation.
pub struct Inactive;

const ID: &str = "mail-providers-inactive";

impl KeyRule for Inactive {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        migration_rule(ctx, ID)
    }

    fn apply(&self, entry: &mut KeyEntry, ctx: &RuleContext<'_>, effects: &mut Effects) {
        if entry
            .path
            .parent()
            .is_some_and(|p| p == ctx.target.container("Mail Providers"))
        {
            entry.set("Active", ValueData::Sz("No".into()));
            let provider = entry.path.name().unwrap_or_default().to_string();
            effects.note(ID, format!("{provider} imported inactive"));
            effects
                .follow_ups
                .push(FollowUp::ReactivateMailProvider { provider });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn mail_providers_inactive() {
        with_ctx("Mail Providers", ImportMode::Migration, false, |ctx| {
            let mut e = entry(
                &ctx.target
                    .container("Mail Providers")
                    .join("Exchange")
                    .unwrap(),
                &[("Active", sz("Yes"))],
            );
            let mut fx = Effects::default();
            Inactive.apply(&mut e, ctx, &mut fx);
            assert_eq!(e.get("Active"), Some(&sz("No")));
            assert_eq!(fx.follow_ups.len(), 1);
        });
    }
}
