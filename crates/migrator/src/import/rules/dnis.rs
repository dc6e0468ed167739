//! `dnis-merge`: DNIS mappings merge with the target's; nothing is deleted,
//! and where both define a mapping differently the target's is kept and
//! the conflict reported.

use super::{Effects, KeyEntry, KeyRule, RuleContext};

/// See the module documentation.
pub struct Merge;

const ID: &str = "dnis-merge";

impl KeyRule for Merge {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        ctx.mode == crate::import::ImportMode::Migration && ctx.names_rule(ID)
    }

    fn apply(&self, entry: &mut KeyEntry, ctx: &RuleContext<'_>, effects: &mut Effects) {
        let Some(existing) = ctx.existing.values(&entry.path) else {
            return;
        };
        let mapping = entry.path.name().unwrap_or_default().to_string();
        let mut kept = Vec::new();
        entry.values.retain(|v| {
            match existing
                .iter()
                .find(|e| e.name.eq_ignore_ascii_case(&v.name))
            {
                Some(e) if e.data != v.data => {
                    kept.push(v.name.clone());
                    false
                }
                _ => true,
            }
        });
        for name in kept {
            effects.conflicts.push(format!(
                "{mapping}: {name} differs; the target's value was kept"
            ));
        }
        if !effects.conflicts.is_empty() {
            effects.note(ID, format!("{mapping} merged with conflicts"));
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
    fn dnis_merge_keeps_the_targets_mapping_and_reports_conflicts() {
        let (s, t) = (source(), target());
        let existing = |p: &KeyPath| {
            (p.name() == Some("3175550001")).then(|| {
                vec![NamedValue {
                    name: "Target".into(),
                    data: sz("Workgroup:Sales"),
                }]
            })
        };
        let ctx = RuleContext {
            mode: ImportMode::Migration,
            component: component("DNIS Mappings"),
            source: &s,
            target: &t,
            target_release: "2018 R1".parse().unwrap(),
            dev_mode: false,
            same_release: false,
            existing: &existing,
        };
        let c = t.container("DNIS Mappings");
        let mut clash = entry(
            &c.join("3175550001").unwrap(),
            &[
                ("Target", sz("Workgroup:Support")),
                ("Description", sz("d")),
            ],
        );
        let mut fx = Effects::default();
        Merge.apply(&mut clash, &ctx, &mut fx);
        assert_eq!(
            clash.values.len(),
            1,
            "the conflicting value is dropped, the rest merges"
        );
        assert_eq!(fx.conflicts.len(), 1);
        assert!(fx.skip.is_none());
        let mut fresh = entry(&c.join("3175550002").unwrap(), &[("Target", sz("x"))]);
        let mut fx = Effects::default();
        Merge.apply(&mut fresh, &ctx, &mut fx);
        assert_eq!(fresh.values.len(), 1);
        assert!(fx.conflicts.is_empty());
    }
}
