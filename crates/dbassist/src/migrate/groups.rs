//! The table groups of `transit db migrate` (D-02), as data
//! (`groups.toml`, embedded): each group's tables are the reference
//! schema's tables of its `schema` group, its parent–child links are the
//! schema's foreign keys, and `needs` names the groups selected with it.
//! [`close`] adds the needed groups and says why, like the Migrator's
//! closure.

use crate::error::{DbError, Result};
use crate::schema::{Schema, Table, Version};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Whether a filter applies to a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applies {
    /// The date range limits the rows.
    Range,
    /// The site ID limits the rows.
    Filter,
    /// The filter is ignored.
    Ignore,
}

/// A group that must be selected with another.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Need {
    /// The needed group's ID.
    pub group: String,
    /// Why.
    pub why: String,
}

/// One table group.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// The name on the command line.
    pub id: String,
    /// The vendor's name.
    pub title: String,
    /// The reference schema's `group=` whose tables it holds.
    pub schema: String,
    /// Whether the date range applies.
    pub dates: Applies,
    /// Whether the site ID applies.
    pub sites: Applies,
    /// Groups selected with it.
    #[serde(default)]
    pub needs: Vec<Need>,
    /// The reference's word on the group, when it has one.
    #[serde(default)]
    pub note: Option<String>,
}

impl Group {
    /// Its tables at `version`, in schema order (parents first).
    pub fn tables(&self, version: Version) -> Vec<&'static Table> {
        Schema::reference()
            .tables_at(version)
            .filter(|t| t.group == self.schema)
            .collect()
    }

    /// The parents of `table` inside this group: (child column, parent
    /// table, parent column).
    pub fn parents(&self, table: &Table) -> Vec<(&'static str, &'static Table, &'static str)> {
        let schema = Schema::reference();
        let Some(table) = schema.table(&table.name) else {
            return Vec::new();
        };
        table
            .foreign_keys
            .iter()
            .filter_map(|fk| {
                let parent = schema.table(&fk.parent)?;
                (parent.group == self.schema).then_some((
                    fk.column.as_str(),
                    parent,
                    fk.parent_column.as_str(),
                ))
            })
            .collect()
    }
}

#[derive(Deserialize)]
struct File {
    group: Vec<Group>,
}

/// Every group, in migration order.
pub fn all() -> &'static [Group] {
    static GROUPS: OnceLock<Vec<Group>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        let file: File = toml::from_str(include_str!("groups.toml"))
            .unwrap_or_else(|e| panic!("groups.toml: {e}"));
        file.group
    })
}

/// A group by ID or title (case-insensitive).
pub fn find(name: &str) -> Option<&'static Group> {
    all()
        .iter()
        .find(|g| g.id.eq_ignore_ascii_case(name) || g.title.eq_ignore_ascii_case(name))
}

/// A selected group and why it is selected.
#[derive(Debug, Clone, Serialize)]
pub struct Selected {
    /// The group.
    pub group: &'static Group,
    /// `None` when asked for; otherwise the group that needs it and why.
    pub added_for: Option<(String, String)>,
}

/// Resolves `names` (comma lists allowed; `all` is every group) and adds
/// the groups they need, transitively; the result is in migration order.
pub fn close(names: &[String]) -> Result<Vec<Selected>> {
    let mut picked: Vec<Selected> = Vec::new();
    let mut queue: Vec<(&'static Group, Option<(String, String)>)> = Vec::new();
    for name in names
        .iter()
        .flat_map(|n| n.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if name.eq_ignore_ascii_case("all") {
            queue.extend(all().iter().map(|g| (g, None)));
            continue;
        }
        let group = find(name).ok_or_else(|| {
            let known: Vec<&str> = all().iter().map(|g| g.id.as_str()).collect();
            DbError::Usage(format!(
                "--groups: no table group `{name}` (known: {})",
                known.join(", ")
            ))
        })?;
        queue.push((group, None));
    }
    if queue.is_empty() {
        return Err(DbError::Usage("--groups: name at least one group".into()));
    }
    while let Some((group, why)) = queue.pop() {
        if let Some(have) = picked.iter_mut().find(|s| s.group.id == group.id) {
            if why.is_none() {
                have.added_for = None;
            }
            continue;
        }
        for need in &group.needs {
            let needed = find(&need.group).expect("groups.toml: checked needs");
            queue.push((needed, Some((group.id.clone(), need.why.clone()))));
        }
        picked.push(Selected {
            group,
            added_for: why,
        });
    }
    let order = |g: &Group| all().iter().position(|x| x.id == g.id);
    picked.sort_by_key(|s| order(s.group));
    Ok(picked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_consistent_with_the_schema() {
        let schema = Schema::reference();
        for g in all() {
            assert!(
                !g.tables(Version::V30).is_empty() || g.id == "dialer",
                "{}",
                g.id
            );
            for need in &g.needs {
                assert!(find(&need.group).is_some(), "{} needs {}", g.id, need.group);
            }
        }
        // Every reference from one group's table to another group's table
        // is covered by a `needs`.
        for g in all() {
            for t in g.tables(Version::R2015) {
                for c in &t.columns {
                    let Some(r) = c.role.as_deref().and_then(|r| r.strip_prefix("ref=")) else {
                        continue;
                    };
                    let parent = schema.table(r.split('.').next().unwrap()).unwrap();
                    if parent.group != g.schema {
                        assert!(
                            g.needs
                                .iter()
                                .any(|n| find(&n.group).unwrap().schema == parent.group),
                            "{}.{} refers to group {} without `needs`",
                            t.name,
                            c.name,
                            parent.group
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn selecting_a_group_adds_what_it_needs_and_says_why() {
        let picked = close(&["tracker-intx".into()]).unwrap();
        let ids: Vec<&str> = picked.iter().map(|s| s.group.id.as_str()).collect();
        assert_eq!(ids, ["tracker-config", "tracker-intx"]);
        let (by, why) = picked[0].added_for.clone().unwrap();
        assert_eq!(by, "tracker-intx");
        assert!(why.contains("INDIVIDUAL"), "{why}");
        assert!(picked[1].added_for.is_none());
        // Asked for explicitly: not "added".
        let picked = close(&["tracker-intx,Tracker Configuration".into()]).unwrap();
        assert!(picked.iter().all(|s| s.added_for.is_none()));
        assert_eq!(close(&["all".into()]).unwrap().len(), all().len());
        let err = close(&["reportng".into()]).unwrap_err().to_string();
        assert!(err.contains("known: tracker-config"), "{err}");
    }

    #[test]
    fn children_find_their_parents_inside_the_group() {
        let rec = find("recorder").unwrap();
        let audit = Schema::reference().table("IR_RecordingAudit").unwrap();
        let parents = rec.parents(audit);
        assert_eq!(parents.len(), 1);
        assert_eq!(parents[0].1.name, "IR_RecordingMedia");
        let score = Schema::reference().table("QM_ScoreCard").unwrap();
        assert_eq!(rec.parents(score).len(), 2);
    }
}
