//! `rename-server-site`: in migration mode, the source server and site
//! names become the target's, in key paths and in string values.

use super::{migration_rule, Effects, KeyEntry, KeyRule, RuleContext};
use transit_registry::{KeyPath, ValueData};

/// See the module documentation.
pub struct RenameServerSite;

const ID: &str = "rename-server-site";

/// Replaces `from` with `to` where it stands as a whole word (not inside a
/// longer name), case-insensitively.
pub(crate) fn replace_word(text: &str, from: &str, to: &str) -> Option<String> {
    if from.is_empty() || from.eq_ignore_ascii_case(to) {
        return None;
    }
    // The common case, on every value of an import: ASCII text without the
    // name. Decided without allocating.
    if text.is_ascii()
        && from.is_ascii()
        && !text
            .as_bytes()
            .windows(from.len())
            .any(|w| w.eq_ignore_ascii_case(from.as_bytes()))
    {
        return None;
    }
    let lower = text.to_lowercase();
    let needle = from.to_lowercase();
    if lower.len() != text.len() || !lower.contains(&needle) {
        return None;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut changed = false;
    for (at, _) in lower.match_indices(&needle) {
        if at < last {
            continue;
        }
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        if word(before) || word(after) {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(to);
        last = at + needle.len();
        changed = true;
    }
    out.push_str(&text[last..]);
    changed.then_some(out)
}

fn rename_in(text: &str, ctx: &RuleContext<'_>) -> Option<String> {
    let once = replace_word(text, &ctx.source.server, &ctx.target.server);
    let base = once.as_deref().unwrap_or(text);
    replace_word(base, &ctx.source.site, &ctx.target.site).or(once)
}

impl KeyRule for RenameServerSite {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        // Every registry component is moved to the target's DS key in
        // migration mode, named in the catalog or not.
        ctx.mode == super::ImportMode::Migration || migration_rule(ctx, ID)
    }

    fn apply(&self, entry: &mut KeyEntry, ctx: &RuleContext<'_>, effects: &mut Effects) {
        let moved: Option<KeyPath> = entry
            .path
            .rebase(ctx.source.ds(), ctx.target.ds())
            .or_else(|| entry.path.rebase(ctx.source.ip(), ctx.target.ip()));
        if let Some(new_path) = moved {
            if new_path != entry.path || new_path.to_string() != entry.path.to_string() {
                effects.note(ID, format!("{} → {}", entry.path, new_path));
                entry.path = new_path;
            }
        }
        let mut renamed = 0;
        for v in &mut entry.values {
            let updated = match &v.data {
                ValueData::Sz(s) => rename_in(s, ctx).map(ValueData::Sz),
                ValueData::ExpandSz(s) => rename_in(s, ctx).map(ValueData::ExpandSz),
                ValueData::MultiSz(items) => {
                    let new: Vec<String> = items
                        .iter()
                        .map(|s| rename_in(s, ctx).unwrap_or_else(|| s.clone()))
                        .collect();
                    (new != *items).then_some(ValueData::MultiSz(new))
                }
                _ => None,
            };
            if let Some(data) = updated {
                v.data = data;
                renamed += 1;
            }
        }
        if renamed > 0 {
            effects.note(
                ID,
                format!("{renamed} value(s) renamed to the target's server or site name"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn rename_server_site_moves_keys_and_values_in_migration_mode() {
        with_ctx("Users", ImportMode::Migration, false, |ctx| {
            let path = ctx.source.container("Users").join("jdoe").unwrap();
            let mut e = entry(
                &path,
                &[
                    ("Home Site", sz("Indy")),
                    ("Station", sz("CICA-station")),
                    ("Note", sz("Indyanapolis stays")),
                    (
                        "Servers",
                        ValueData::MultiSz(vec!["CICA".into(), "Other".into()]),
                    ),
                ],
            );
            let mut fx = Effects::default();
            RenameServerSite.apply(&mut e, ctx, &mut fx);
            assert_eq!(e.path, ctx.target.container("Users").join("jdoe").unwrap());
            assert_eq!(e.get("Home Site"), Some(&sz("Paris")));
            assert_eq!(e.get("Station"), Some(&sz("CICB-station")));
            assert_eq!(
                e.get("Note"),
                Some(&sz("Indyanapolis stays")),
                "only whole words"
            );
            assert_eq!(
                e.get("Servers"),
                Some(&ValueData::MultiSz(vec!["CICB".into(), "Other".into()]))
            );
            assert!(!fx.notes.is_empty());
        });
        with_ctx("Users", ImportMode::Recovery, false, |ctx| {
            assert!(!RenameServerSite.applies(ctx))
        });
    }

    #[test]
    fn replace_word_matches_whole_words_in_any_case() {
        assert_eq!(
            replace_word("CICA", "CICA", "CICB").as_deref(),
            Some("CICB")
        );
        assert_eq!(
            replace_word(r"\\cica\share and CicA.", "CICA", "CICB").as_deref(),
            Some(r"\\CICB\share and CICB.")
        );
        assert_eq!(
            replace_word("CICAB and XCICA and CICA_1", "CICA", "CICB"),
            None
        );
        assert_eq!(replace_word("nothing here", "CICA", "CICB"), None);
        assert_eq!(replace_word("", "CICA", "CICB"), None);
        assert_eq!(replace_word("short", "a longer name", "x"), None);
        // Non-ASCII text takes the general path.
        assert_eq!(
            replace_word("Zürich cica", "CICA", "CICB").as_deref(),
            Some("Zürich CICB")
        );
    }

    #[test]
    fn the_server_ip_key_moves_too() {
        with_ctx("Server IP", ImportMode::Migration, false, |ctx| {
            let mut e = entry(&transit_server::layout::server_ip("CICA"), &[]);
            RenameServerSite.apply(&mut e, ctx, &mut Effects::default());
            assert_eq!(e.path.to_string(), "EIC\\CICB\\IP");
        });
    }
}
