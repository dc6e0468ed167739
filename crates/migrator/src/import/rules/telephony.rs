//! `telephony-redetect`: after Lines, Line Groups, Workstations or IP
//! Phones are migrated, the telephony resources must be re-detected on the
//! target (Interaction Administrator), so the report lists that task.

use super::{migration_rule, Effects, FollowUp, KeyEntry, KeyRule, RuleContext};

/// See the module documentation.
pub struct Redetect;

const ID: &str = "telephony-redetect";

impl KeyRule for Redetect {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        migration_rule(ctx, ID)
    }

    fn apply(&self, _entry: &mut KeyEntry, _ctx: &RuleContext<'_>, _effects: &mut Effects) {}

    fn component_follow_ups(&self, _ctx: &RuleContext<'_>) -> Vec<FollowUp> {
        vec![FollowUp::RedetectTelephony]
    }
}

#[cfg(test)]
mod tests {
    use super::super::component_follow_ups;
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn telephony_redetect_for_telephony_components_in_migration_mode() {
        // The rule's own follow-up, beside the component tasks.
        let redetect = |ctx: &RuleContext<'_>| {
            component_follow_ups(ctx).contains(&FollowUp::RedetectTelephony)
        };
        for id in ["Lines", "Line Groups", "Workstations", "IP Phones"] {
            with_ctx(id, ImportMode::Migration, false, |ctx| {
                assert!(redetect(ctx), "{id}");
            });
            with_ctx(id, ImportMode::Recovery, false, |ctx| {
                assert!(!redetect(ctx), "{id} in recovery");
            });
        }
        with_ctx("Users", ImportMode::Migration, false, |ctx| {
            assert!(!redetect(ctx));
        });
    }
}
