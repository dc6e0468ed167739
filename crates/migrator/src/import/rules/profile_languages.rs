//! `waves-base-language` on the Attendant profiles: when the waves move
//! from `fr-fr` to `fr`, the profiles' `Language` values follow, so each
//! profile still finds its waves. The reference: "The naming convention
//! for the "base" languages changed to a single element (for example,
//! `fr-fr` is now just `fr`). If you imported Interaction Attendant Data,
//! the import renamed the language folders in the
//! `InteractionAttendantWaves` folder to reflect the new naming
//! convention." Migration mode only, like the folder rename.

use super::{migration_rule, Effects, KeyEntry, KeyRule, RuleContext};
use transit_registry::ValueData;

/// See the module documentation.
pub struct ProfileLanguages;

const ID: &str = "waves-base-language";

impl KeyRule for ProfileLanguages {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        migration_rule(ctx, ID)
    }

    fn apply(&self, entry: &mut KeyEntry, _ctx: &RuleContext<'_>, effects: &mut Effects) {
        let Some(ValueData::Sz(lang)) = entry.get("Language") else {
            return;
        };
        let Some((base, _region)) = lang.split_once('-') else {
            return;
        };
        let base = base.to_ascii_lowercase();
        let profile = entry.path.name().unwrap_or_default().to_string();
        effects.note(ID, format!("{profile}: Language {lang} → {base}"));
        entry.set("Language", ValueData::Sz(base));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn profile_languages_follow_the_wave_rename_in_migration_mode() {
        with_ctx("Attendant Profiles", ImportMode::Migration, false, |ctx| {
            let path = ctx
                .target
                .container("Attendant Profiles")
                .join("P1")
                .unwrap();
            let mut e = entry(&path, &[("Language", sz("fr-FR"))]);
            let mut fx = Effects::default();
            ProfileLanguages.apply(&mut e, ctx, &mut fx);
            assert_eq!(e.get("Language"), Some(&sz("fr")));
            assert_eq!(fx.notes.len(), 1);
            let mut base = entry(&path, &[("Language", sz("de"))]);
            ProfileLanguages.apply(&mut base, ctx, &mut Effects::default());
            assert_eq!(base.get("Language"), Some(&sz("de")));
        });
        with_ctx("Attendant Profiles", ImportMode::Recovery, false, |ctx| {
            assert!(!ProfileLanguages.applies(ctx));
        });
    }
}
