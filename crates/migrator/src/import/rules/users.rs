//! `users-rehome` and `users-status-live-data`: in migration mode a user's
//! home site becomes the target's, and status data moves to Live Data.

use super::{migration_rule, Effects, KeyEntry, KeyRule, RuleContext};
use transit_registry::ValueData;

/// `users-rehome`.
pub struct Rehome;
/// `users-status-live-data`.
pub struct StatusToLiveData;

/// The user attributes that are status data.
pub const STATUS_VALUES: &[&str] = &["Status", "Status Message", "Status Changed"];

/// True for a user entry (a key directly under the target's Users container).
fn is_user(entry: &KeyEntry, ctx: &RuleContext<'_>) -> bool {
    let users = ctx.target.container("Users");
    entry.path.parent().is_some_and(|p| p == users)
}

impl KeyRule for Rehome {
    fn id(&self) -> &'static str {
        "users-rehome"
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        migration_rule(ctx, self.id())
    }

    fn apply(&self, entry: &mut KeyEntry, ctx: &RuleContext<'_>, effects: &mut Effects) {
        if is_user(entry, ctx) && entry.get("Home Site").is_some() {
            entry.set("Home Site", ValueData::Sz(ctx.target.site.clone()));
            effects.note(self.id(), format!("home site set to {}", ctx.target.site));
        }
    }
}

impl KeyRule for StatusToLiveData {
    fn id(&self) -> &'static str {
        "users-status-live-data"
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        migration_rule(ctx, self.id())
    }

    fn apply(&self, entry: &mut KeyEntry, ctx: &RuleContext<'_>, effects: &mut Effects) {
        if !is_user(entry, ctx) {
            return;
        }
        let moved: Vec<_> = STATUS_VALUES.iter().filter_map(|n| entry.take(n)).collect();
        if moved.is_empty() {
            return;
        }
        let user = entry.path.name().unwrap_or_default().to_string();
        let live = ctx
            .target
            .ds()
            .join(&format!("Live Data\\Users\\{user}"))
            .expect("user names are valid key segments");
        effects.note(
            self.id(),
            format!("{} status value(s) moved to {live}", moved.len()),
        );
        effects.extra.push(KeyEntry {
            path: live,
            values: moved,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn users_rehome_sets_the_target_site() {
        with_ctx("Users", ImportMode::Migration, false, |ctx| {
            let mut e = entry(
                &ctx.target.container("Users").join("jdoe").unwrap(),
                &[("Home Site", sz("Indy"))],
            );
            Rehome.apply(&mut e, ctx, &mut Effects::default());
            assert_eq!(e.get("Home Site"), Some(&sz("Paris")));
        });
        with_ctx("Users", ImportMode::Recovery, false, |ctx| {
            assert!(!Rehome.applies(ctx))
        });
    }

    #[test]
    fn users_status_live_data_moves_status_values() {
        with_ctx("Users", ImportMode::Migration, false, |ctx| {
            let path = ctx.target.container("Users").join("jdoe").unwrap();
            let mut e = entry(
                &path,
                &[
                    ("Status", sz("Available")),
                    ("Status Message", sz("")),
                    ("Email", sz("j@x")),
                ],
            );
            let mut fx = Effects::default();
            StatusToLiveData.apply(&mut e, ctx, &mut fx);
            assert_eq!(e.values.len(), 1);
            assert_eq!(fx.extra.len(), 1);
            assert_eq!(
                fx.extra[0].path,
                ctx.target.ds().join("Live Data\\Users\\jdoe").unwrap()
            );
            assert_eq!(fx.extra[0].values.len(), 2);
        });
    }
}
