//! `secrets-reset`: Secrets structured parameters import as they are, but
//! were encrypted with a machine-specific key, so each is flagged for
//! reset, in migration and in recovery mode. The reference: "If your CIC
//! system includes structured parameters created with the type "Secrets,"
//! you must reset the values after importing CIC data in both Migration and
//! Recovery modes." (on the same machine the values "*may* work, but
//! sometimes Admin Server can generate a new key").

use super::{Effects, FollowUp, KeyEntry, KeyRule, RuleContext};
use transit_registry::ValueData;

/// See the module documentation.
pub struct FlagForReset;

const ID: &str = "secrets-reset";

impl KeyRule for FlagForReset {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        // Both modes (see the module documentation).
        ctx.names_rule(ID)
    }

    fn apply(&self, entry: &mut KeyEntry, _ctx: &RuleContext<'_>, effects: &mut Effects) {
        if matches!(entry.get("Type"), Some(ValueData::Sz(t)) if t.eq_ignore_ascii_case("Secrets"))
        {
            let parameter = entry.path.name().unwrap_or_default().to_string();
            effects.note(
                ID,
                format!("{parameter} must be reset: its secret cannot be decrypted on this server"),
            );
            effects.follow_ups.push(FollowUp::ResetSecret { parameter });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn secrets_reset_flags_only_secrets() {
        with_ctx(
            "Structured Parameters",
            ImportMode::Migration,
            false,
            |ctx| {
                let c = ctx.target.container("Structured Parameters");
                let mut fx = Effects::default();
                FlagForReset.apply(
                    &mut entry(&c.join("P1").unwrap(), &[("Type", sz("Secrets"))]),
                    ctx,
                    &mut fx,
                );
                FlagForReset.apply(
                    &mut entry(&c.join("P2").unwrap(), &[("Type", sz("String"))]),
                    ctx,
                    &mut fx,
                );
                assert_eq!(
                    fx.follow_ups,
                    [FollowUp::ResetSecret {
                        parameter: "P1".into()
                    }]
                );
                assert!(fx.skip.is_none(), "secrets are still imported");
            },
        );
    }

    #[test]
    fn secrets_reset_applies_in_recovery_too() {
        with_ctx(
            "Structured Parameters",
            ImportMode::Recovery,
            false,
            |ctx| {
                assert!(FlagForReset.applies(ctx));
            },
        );
    }
}
