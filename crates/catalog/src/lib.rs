//! The Migrator's data components, per server role.
//!
//! The catalog is data: one TOML file per role (`data/cic.toml`,
//! `data/media.toml`), embedded in the binary and checked when first used.
//! Each [`Component`] names its registry subtrees, its file areas, its
//! import method and rules, and the components it requires. [`Catalog::close`]
//! applies the dependency closure and explains every addition;
//! [`Catalog::resolve`] turns user-typed names into components, suggesting
//! the nearest valid names for a typo.

mod model;

pub use model::{Component, Group, ImportMethod, RULE_IDS};

use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Everything that can go wrong choosing components.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// A name matches no component.
    #[error("unknown component `{name}`{}", suggestion_text(.suggestions))]
    Unknown {
        /// The name as given.
        name: String,
        /// The nearest valid names, best first.
        suggestions: Vec<String>,
    },
    /// No catalog exists for the role.
    #[error("no component catalog for role `{0}` (expected cic or media)")]
    UnknownRole(String),
    /// An empty selection.
    #[error("no components selected")]
    Empty,
}

fn suggestion_text(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!(
            "; did you mean {}?",
            suggestions
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// One role's components and tree groups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// `cic` or `media`.
    pub role: String,
    /// Tree groups, in display order.
    #[serde(rename = "group")]
    pub groups: Vec<Group>,
    /// Components, in display order.
    #[serde(rename = "component")]
    pub components: Vec<Component>,
}

/// A component the closure added, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The added component.
    pub id: String,
    /// The component that required it.
    pub required_by: String,
    /// The catalog's reason, if it gives one.
    pub reason: Option<String>,
}

impl Added {
    /// "added IP Phone Proxy Groups: required by IP Phones (…)"
    pub fn explain(&self) -> String {
        match &self.reason {
            Some(r) => format!("added {}: required by {} ({r})", self.id, self.required_by),
            None => format!("added {}: required by {}", self.id, self.required_by),
        }
    }
}

/// A closed selection: the chosen components plus everything they require.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Component IDs, in catalog order.
    pub ids: Vec<String>,
    /// The components the closure added, in the order they were added.
    pub added: Vec<Added>,
}

impl Catalog {
    fn parse(text: &str) -> Catalog {
        let catalog: Catalog =
            toml::from_str(text).unwrap_or_else(|e| panic!("embedded catalog is invalid: {e}"));
        if let Err(problem) = catalog.check() {
            panic!(
                "embedded catalog `{}` is inconsistent: {problem}",
                catalog.role
            );
        }
        catalog
    }

    /// Checks the catalog's internal consistency: unique names, known
    /// parents, requirements and rules.
    pub fn check(&self) -> Result<(), String> {
        let mut names = BTreeSet::new();
        for c in &self.components {
            for n in std::iter::once(&c.id).chain(&c.aliases) {
                if !names.insert(n.to_ascii_lowercase()) {
                    return Err(format!("name `{n}` is used twice"));
                }
            }
            if !self.groups.iter().any(|g| g.id == c.parent) {
                return Err(format!("{}: unknown parent group `{}`", c.id, c.parent));
            }
            for r in &c.requires {
                if !self.components.iter().any(|o| &o.id == r) {
                    return Err(format!("{}: requires unknown component `{r}`", c.id));
                }
            }
            for rule in &c.rules {
                if !RULE_IDS.contains(&rule.as_str()) {
                    return Err(format!("{}: unknown rule `{rule}`", c.id));
                }
            }
            if c.registry.is_empty() && c.files.is_empty() && !c.custom_handlers {
                return Err(format!("{}: selects no data", c.id));
            }
        }
        Ok(())
    }

    /// The catalog for a role (`cic` or `media`, any case).
    pub fn for_role(role: &str) -> Result<&'static Catalog, CatalogError> {
        static CIC: OnceLock<Catalog> = OnceLock::new();
        static MEDIA: OnceLock<Catalog> = OnceLock::new();
        match role.to_ascii_lowercase().as_str() {
            "cic" => Ok(CIC.get_or_init(|| Catalog::parse(include_str!("../data/cic.toml")))),
            "media" => Ok(MEDIA.get_or_init(|| Catalog::parse(include_str!("../data/media.toml")))),
            _ => Err(CatalogError::UnknownRole(role.to_string())),
        }
    }

    /// The component with this ID or alias.
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.answers_to(name))
    }

    /// Turns names into component IDs. `all` (any case) selects every
    /// component; names are matched on IDs and aliases, ignoring case and
    /// surrounding spaces. An unknown name lists the nearest valid names.
    pub fn resolve<S: AsRef<str>>(&self, names: &[S]) -> Result<Vec<String>, CatalogError> {
        let names: Vec<&str> = names
            .iter()
            .map(|s| s.as_ref().trim())
            .filter(|s| !s.is_empty())
            .collect();
        if names.is_empty() {
            return Err(CatalogError::Empty);
        }
        if names.iter().any(|n| n.eq_ignore_ascii_case("all")) {
            return Ok(self.components.iter().map(|c| c.id.clone()).collect());
        }
        let mut ids = Vec::new();
        for name in names {
            let c = self.component(name).ok_or_else(|| CatalogError::Unknown {
                name: name.to_string(),
                suggestions: self.nearest(name),
            })?;
            if !ids.contains(&c.id) {
                ids.push(c.id.clone());
            }
        }
        Ok(ids)
    }

    /// Parses a comma-separated list (`"Users, Workgroups"` or `all`).
    pub fn resolve_list(&self, list: &str) -> Result<Vec<String>, CatalogError> {
        self.resolve(&list.split(',').collect::<Vec<_>>())
    }

    /// Up to three valid names closest to `name`.
    pub fn nearest(&self, name: &str) -> Vec<String> {
        let lower = name.to_ascii_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .components
            .iter()
            .flat_map(|c| {
                std::iter::once(&c.id)
                    .chain(&c.aliases)
                    .map(move |n| (n, &c.id))
            })
            .map(|(n, id)| {
                let score = strsim::jaro_winkler(&lower, &n.to_ascii_lowercase());
                (score, id.as_str())
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut out: Vec<String> = Vec::new();
        for (score, id) in scored {
            if score < 0.7 || out.len() == 3 {
                break;
            }
            if !out.iter().any(|o| o == id) {
                out.push(id.to_string());
            }
        }
        out
    }

    /// Adds every component the selection requires, transitively, and
    /// explains each addition. Mutual requirements (such as `IP\Handlers`
    /// and `Server IP`) close in one step.
    pub fn close(&self, ids: &[String]) -> Selection {
        let mut chosen: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
        let mut added = Vec::new();
        let mut queue: Vec<&str> = ids.iter().map(String::as_str).collect();
        while let Some(id) = queue.pop() {
            let Some(c) = self.components.iter().find(|c| c.id == id) else {
                continue;
            };
            for r in &c.requires {
                if chosen.insert(r.as_str()) {
                    added.push(Added {
                        id: r.clone(),
                        required_by: c.id.clone(),
                        reason: c.why.clone(),
                    });
                    queue.push(r.as_str());
                }
            }
        }
        let ids = self
            .components
            .iter()
            .filter(|c| chosen.contains(c.id.as_str()))
            .map(|c| c.id.clone())
            .collect();
        Selection { ids, added }
    }

    /// The components of one group, in display order.
    pub fn children(&self, group: &str) -> impl Iterator<Item = &Component> {
        let group = group.to_string();
        self.components.iter().filter(move |c| c.parent == group)
    }
}

#[cfg(test)]
mod tests;

impl transit_core::Kind for CatalogError {
    fn kind(&self) -> transit_core::ErrorKind {
        transit_core::ErrorKind::Usage
    }
}
