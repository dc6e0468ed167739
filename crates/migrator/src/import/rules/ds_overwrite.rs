//! `ds-overwrite-attributes`: a DS entry overwrites the target's entry
//! attribute by attribute; attributes only the target has are kept. (The
//! engine writes values without deleting others; this rule records it.)

use super::{Effects, KeyEntry, KeyRule, RuleContext};

/// See the module documentation.
pub struct OverwriteAttributes;

const ID: &str = "ds-overwrite-attributes";

impl KeyRule for OverwriteAttributes {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        ctx.mode == crate::import::ImportMode::Migration && ctx.names_rule(ID)
    }

    fn apply(&self, entry: &mut KeyEntry, ctx: &RuleContext<'_>, effects: &mut Effects) {
        if let Some(existing) = ctx.existing.value_names(&entry.path) {
            let kept = existing
                .iter()
                .filter(|name| {
                    !entry
                        .values
                        .iter()
                        .any(|v| v.name.eq_ignore_ascii_case(name))
                })
                .count();
            if kept > 0 {
                effects.note(
                    ID,
                    format!("{kept} attribute(s) only the target has are kept"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;
    use transit_registry::{KeyPath, NamedValue};

    #[test]
    fn ds_overwrite_attributes_reports_target_only_attributes() {
        let (s, t) = (source(), target());
        let existing = |_: &KeyPath| {
            Some(vec![NamedValue {
                name: "Extra Right".into(),
                data: sz("yes"),
            }])
        };
        let ctx = RuleContext {
            mode: ImportMode::Migration,
            component: component("Users"),
            source: &s,
            target: &t,
            target_release: "2018 R1".parse().unwrap(),
            dev_mode: false,
            same_release: false,
            existing: &existing,
        };
        let mut e = entry(
            &t.container("Users").join("jdoe").unwrap(),
            &[("Extension", sz("4567"))],
        );
        let mut fx = Effects::default();
        OverwriteAttributes.apply(&mut e, &ctx, &mut fx);
        assert_eq!(
            e.get("Extension"),
            Some(&sz("4567")),
            "the file's value wins"
        );
        assert_eq!(fx.notes.len(), 1);
    }
}
