//! Helpers for the rule tests.

use super::*;
use transit_catalog::Catalog;

pub fn source() -> Names {
    Names::new("CICA", "Indy")
}

pub fn target() -> Names {
    Names::new("CICB", "Paris")
}

pub fn component(id: &str) -> &'static Component {
    Catalog::for_role("cic").unwrap().component(id).unwrap()
}

pub fn no_existing(_: &KeyPath) -> Option<Vec<NamedValue>> {
    None
}

/// Runs `f` with a context for component `id`.
pub fn with_ctx<R>(
    id: &str,
    mode: ImportMode,
    dev_mode: bool,
    f: impl FnOnce(&RuleContext<'_>) -> R,
) -> R {
    let (s, t) = (source(), target());
    let ctx = RuleContext {
        mode,
        component: component(id),
        source: &s,
        target: &t,
        target_release: "2018 R1".parse().unwrap(),
        dev_mode,
        same_release: false,
        existing: &no_existing,
    };
    f(&ctx)
}

pub fn entry(path: &KeyPath, values: &[(&str, ValueData)]) -> KeyEntry {
    KeyEntry {
        path: path.clone(),
        values: values
            .iter()
            .map(|(n, d)| NamedValue {
                name: n.to_string(),
                data: d.clone(),
            })
            .collect(),
    }
}

pub fn sz(s: &str) -> ValueData {
    ValueData::Sz(s.into())
}
