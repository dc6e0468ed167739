//! `client-button-icons`: client-button icons are copied into the
//! resources folder (a file rule does that) and `Valid Icon` is set to Yes.

use super::{Effects, KeyEntry, KeyRule, RuleContext};
use transit_registry::ValueData;

/// See the module documentation.
pub struct ValidIcon;

const ID: &str = "client-button-icons";

impl KeyRule for ValidIcon {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        ctx.names_rule(ID)
    }

    fn apply(&self, entry: &mut KeyEntry, _ctx: &RuleContext<'_>, effects: &mut Effects) {
        if entry.get("Icon File").is_some()
            && entry.get("Valid Icon") != Some(&ValueData::Sz("Yes".into()))
        {
            entry.set("Valid Icon", ValueData::Sz("Yes".into()));
            effects.note(ID, "Valid Icon set to Yes");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn client_button_icons_are_marked_valid_in_both_modes() {
        for mode in [ImportMode::Migration, ImportMode::Recovery] {
            with_ctx("Client Buttons", mode, false, |ctx| {
                assert!(ValidIcon.applies(ctx));
                let mut e = entry(
                    &ctx.target.container("Client Buttons").join("B").unwrap(),
                    &[("Icon File", sz("x.ico")), ("Valid Icon", sz("No"))],
                );
                ValidIcon.apply(&mut e, ctx, &mut Effects::default());
                assert_eq!(e.get("Valid Icon"), Some(&sz("Yes")));
            });
        }
    }
}
