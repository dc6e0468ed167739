//! `dial-plan-classifications`: the dial plan's Classifications gain the
//! class for the target release when it is missing, in migration and in
//! recovery mode. The reference lists it under "Interaction Migrator does
//! the following when importing data components in both Migration and
//! Recovery modes": "Dial Plan Classifications - Interaction Migrator
//! checks the values in the configuration key under the Classifications
//! value to see whether the value is there already. If the value is not
//! there, Interaction Migrator creates it with the proper class name for
//! the CIC release."

use super::{Effects, KeyEntry, KeyRule, RuleContext};
use transit_registry::ValueData;

/// See the module documentation.
pub struct Classifications;

const ID: &str = "dial-plan-classifications";

/// The classification name the target release expects.
pub fn release_class(ctx: &RuleContext<'_>) -> String {
    format!("Release {}", ctx.target_release)
}

impl KeyRule for Classifications {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        // Both modes (see the module documentation).
        ctx.names_rule(ID)
    }

    fn apply(&self, entry: &mut KeyEntry, ctx: &RuleContext<'_>, effects: &mut Effects) {
        if !entry
            .path
            .name()
            .is_some_and(|n| n.eq_ignore_ascii_case("Classifications"))
        {
            return;
        }
        let class = release_class(ctx);
        let mut classes = match entry.get("Classes") {
            Some(ValueData::MultiSz(items)) => items.clone(),
            _ => Vec::new(),
        };
        if !classes.iter().any(|c| c.eq_ignore_ascii_case(&class)) {
            classes.push(class.clone());
            entry.set("Classes", ValueData::MultiSz(classes));
            effects.note(ID, format!("added classification {class}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn dial_plan_classifications_gain_the_target_class_once() {
        with_ctx("Dial Plan", ImportMode::Migration, false, |ctx| {
            let path = ctx
                .target
                .container("Dial Plan")
                .join("Classifications")
                .unwrap();
            let mut e = entry(
                &path,
                &[("Classes", ValueData::MultiSz(vec!["Local".into()]))],
            );
            let mut fx = Effects::default();
            Classifications.apply(&mut e, ctx, &mut fx);
            assert_eq!(
                e.get("Classes"),
                Some(&ValueData::MultiSz(vec![
                    "Local".into(),
                    "Release 2018 R1".into()
                ]))
            );
            let mut fx2 = Effects::default();
            Classifications.apply(&mut e, ctx, &mut fx2);
            assert!(fx2.notes.is_empty(), "already present: unchanged");
        });
    }

    #[test]
    fn dial_plan_classifications_apply_in_recovery_too() {
        with_ctx("Dial Plan", ImportMode::Recovery, false, |ctx| {
            assert!(Classifications.applies(ctx));
        });
    }
}
