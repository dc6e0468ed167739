//! The Data Component Selection tree: groups → components, every component
//! ticked by default, with dependency locking.
//!
//! The set of ticked components is always closed over the catalog's
//! `requires` (restricted to the components on offer): ticking a component
//! ticks what it requires, and a component that a ticked component
//! requires is *locked* — it cannot be unticked until its requirer is.
//! Mutual requirements (such as `IP\Handlers` and `Server IP`) form one
//! unit that ticks and unticks together.

use std::collections::BTreeSet;
use transit_catalog::{Added, Catalog, Component};

/// One visible row of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row<'a> {
    /// The "Select All" row at the top.
    All,
    /// A group heading.
    Group(&'a str),
    /// A data component.
    Component(&'a str),
}

/// The tick state of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Ticked.
    On,
    /// Not ticked.
    Off,
    /// A group or Select All with some, not all, components ticked.
    Partial,
    /// Ticked and required by another ticked component: cannot be unticked.
    Locked,
}

/// Why a component cannot be unticked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    /// The component the user tried to untick.
    pub id: String,
    /// The ticked components that require it, each with the catalog's reason.
    pub required_by: Vec<(String, Option<String>)>,
}

impl Locked {
    /// "required by Users" (several requirers are joined with commas).
    pub fn short(&self) -> String {
        let names: Vec<&str> = self.required_by.iter().map(|(n, _)| n.as_str()).collect();
        format!("required by {}", names.join(", "))
    }
}

impl std::fmt::Display for Locked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is {}", self.id, self.short())?;
        if let Some((_, Some(why))) = self.required_by.first() {
            write!(f, " ({why})")?;
        }
        let names: Vec<&str> = self.required_by.iter().map(|(n, _)| n.as_str()).collect();
        write!(f, ": untick {} first", names.join(" and "))
    }
}

/// What a toggle did, for the page's notice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Toggled {
    /// Components ticked because something requires them (see
    /// [`Added::explain`]).
    pub added: Vec<Added>,
    /// Components unticked together with the one chosen (mutual partners).
    pub also_removed: Vec<String>,
    /// Components that stayed ticked because others still require them.
    pub kept: Vec<Locked>,
}

/// The component tree of one role, optionally limited to the components a
/// migration file holds.
#[derive(Debug, Clone)]
pub struct ComponentTree {
    catalog: &'static Catalog,
    /// The components on offer, in catalog order.
    offered: Vec<&'static Component>,
    ticked: BTreeSet<String>,
    collapsed: BTreeSet<String>,
    cursor: usize,
}

impl ComponentTree {
    /// A tree of every component of `catalog`, all ticked.
    pub fn new(catalog: &'static Catalog) -> ComponentTree {
        ComponentTree::with_offered(catalog, catalog.components.iter().collect())
    }

    /// A tree of the catalog's components whose IDs are in `ids` (the
    /// components of a migration file), all ticked. IDs the catalog does
    /// not know are left out.
    pub fn limited_to(catalog: &'static Catalog, ids: &[String]) -> ComponentTree {
        let offered = catalog
            .components
            .iter()
            .filter(|c| ids.iter().any(|id| c.answers_to(id)))
            .collect();
        ComponentTree::with_offered(catalog, offered)
    }

    fn with_offered(catalog: &'static Catalog, offered: Vec<&'static Component>) -> ComponentTree {
        let ticked = offered.iter().map(|c| c.id.clone()).collect();
        ComponentTree {
            catalog,
            offered,
            ticked,
            collapsed: BTreeSet::new(),
            cursor: 0,
        }
    }

    /// The components on offer, in catalog order.
    pub fn offered(&self) -> impl Iterator<Item = &'static Component> + '_ {
        self.offered.iter().copied()
    }

    fn is_offered(&self, id: &str) -> bool {
        self.offered.iter().any(|c| c.id == id)
    }

    fn component(&self, id: &str) -> Option<&'static Component> {
        self.offered.iter().copied().find(|c| c.id == id)
    }

    /// The visible rows: Select All, then each group that has components on
    /// offer, followed by its components unless the group is collapsed.
    pub fn rows(&self) -> Vec<Row<'static>> {
        let mut rows = vec![Row::All];
        for group in &self.catalog.groups {
            let children: Vec<&'static Component> = self
                .offered
                .iter()
                .copied()
                .filter(|c| c.parent == group.id)
                .collect();
            if children.is_empty() {
                continue;
            }
            rows.push(Row::Group(group.id.as_str()));
            if !self.collapsed.contains(&group.id) {
                rows.extend(children.iter().map(|c| Row::Component(c.id.as_str())));
            }
        }
        rows
    }

    /// The index of the highlighted row.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The highlighted row.
    pub fn current(&self) -> Row<'static> {
        let rows = self.rows();
        rows[self.cursor.min(rows.len() - 1)]
    }

    /// Moves the highlight by `delta` rows, stopping at either end.
    pub fn move_cursor(&mut self, delta: isize) {
        let last = self.rows().len() - 1;
        self.cursor = self.cursor.saturating_add_signed(delta).min(last);
    }

    /// Moves the highlight to the first or the last row.
    pub fn jump(&mut self, to_end: bool) {
        self.cursor = if to_end { self.rows().len() - 1 } else { 0 };
    }

    /// Collapses (`false`) or expands (`true`) the highlighted group, or the
    /// group of the highlighted component (moving the highlight onto it).
    pub fn set_expanded(&mut self, expanded: bool) {
        let group = match self.current() {
            Row::Group(g) => g,
            Row::Component(id) => match self.component(id) {
                Some(c) => c.parent.as_str(),
                None => return,
            },
            Row::All => return,
        };
        if expanded {
            self.collapsed.remove(group);
        } else {
            self.collapsed.insert(group.to_string());
        }
        if let Some(i) = self.rows().iter().position(|r| *r == Row::Group(group)) {
            if !expanded {
                self.cursor = i;
            }
        }
        self.cursor = self.cursor.min(self.rows().len() - 1);
    }

    /// Whether a group is expanded.
    pub fn is_expanded(&self, group: &str) -> bool {
        !self.collapsed.contains(group)
    }

    /// Whether a component is ticked.
    pub fn is_ticked(&self, id: &str) -> bool {
        self.ticked.contains(id)
    }

    /// The ticked component IDs, in catalog order.
    pub fn selected(&self) -> Vec<String> {
        self.offered
            .iter()
            .filter(|c| self.ticked.contains(&c.id))
            .map(|c| c.id.clone())
            .collect()
    }

    /// True when every component on offer is ticked.
    pub fn all_selected(&self) -> bool {
        self.ticked.len() == self.offered.len()
    }

    /// The components `id` requires, transitively, that are on offer
    /// (including `id` itself).
    fn reach(&self, id: &str) -> Vec<String> {
        self.catalog
            .close(&[id.to_string()])
            .ids
            .into_iter()
            .filter(|r| self.is_offered(r))
            .collect()
    }

    /// `id` and the components it requires that also require it: the unit
    /// that ticks and unticks together.
    fn unit(&self, id: &str) -> Vec<String> {
        self.reach(id)
            .into_iter()
            .filter(|other| other == id || self.reach(other).iter().any(|r| r == id))
            .collect()
    }

    /// Why `id` cannot be unticked now, if it cannot: the ticked components
    /// outside its unit that require a member of the unit.
    pub fn lock(&self, id: &str) -> Option<Locked> {
        if !self.ticked.contains(id) {
            return None;
        }
        let unit = self.unit(id);
        let required_by: Vec<(String, Option<String>)> = self
            .offered
            .iter()
            .filter(|c| self.ticked.contains(&c.id) && !unit.contains(&c.id))
            .filter(|c| c.requires.iter().any(|r| unit.contains(r)))
            .map(|c| (c.id.clone(), c.why.clone()))
            .collect();
        (!required_by.is_empty()).then(|| Locked {
            id: id.to_string(),
            required_by,
        })
    }

    /// The other members of `id`'s unit (mutual requirements), for display.
    pub fn partners(&self, id: &str) -> Vec<String> {
        self.unit(id).into_iter().filter(|u| u != id).collect()
    }

    /// The tick state shown for a row.
    pub fn check(&self, row: Row<'_>) -> Check {
        let of = |ids: Vec<&str>| {
            let on = ids.iter().filter(|id| self.ticked.contains(**id)).count();
            if on == 0 {
                Check::Off
            } else if on == ids.len() {
                Check::On
            } else {
                Check::Partial
            }
        };
        match row {
            Row::All => of(self.offered.iter().map(|c| c.id.as_str()).collect()),
            Row::Group(g) => of(self
                .offered
                .iter()
                .filter(|c| c.parent == g)
                .map(|c| c.id.as_str())
                .collect()),
            Row::Component(id) if self.lock(id).is_some() => Check::Locked,
            Row::Component(id) if self.ticked.contains(id) => Check::On,
            Row::Component(_) => Check::Off,
        }
    }

    /// Ticks `id` and everything it requires; explains each addition.
    pub fn tick(&mut self, id: &str) -> Toggled {
        let selection = self.catalog.close(&[id.to_string()]);
        let mut done = Toggled::default();
        for added in &selection.added {
            if self.is_offered(&added.id) && !self.ticked.contains(&added.id) {
                done.added.push(added.clone());
            }
        }
        for c in selection.ids {
            if self.is_offered(&c) {
                self.ticked.insert(c);
            }
        }
        done
    }

    /// Unticks `id` with its unit, unless a ticked component outside the
    /// unit requires it.
    pub fn untick(&mut self, id: &str) -> Result<Toggled, Locked> {
        if let Some(locked) = self.lock(id) {
            return Err(locked);
        }
        let mut done = Toggled::default();
        for member in self.unit(id) {
            if self.ticked.remove(&member) && member != id {
                done.also_removed.push(member);
            }
        }
        Ok(done)
    }

    /// Select All: ticks everything, or — when everything is ticked —
    /// unticks everything.
    pub fn toggle_all(&mut self) {
        if self.all_selected() {
            self.ticked.clear();
        } else {
            self.ticked = self.offered.iter().map(|c| c.id.clone()).collect();
        }
    }

    /// Toggles the highlighted row: a component, a whole group, or Select
    /// All. Unticking a group leaves ticked the members that components
    /// outside it still require (reported in [`Toggled::kept`]).
    pub fn toggle(&mut self) -> Result<Toggled, Locked> {
        match self.current() {
            Row::Component(id) if self.ticked.contains(id) => self.untick(id),
            Row::Component(id) => Ok(self.tick(id)),
            Row::All => {
                self.toggle_all();
                Ok(Toggled::default())
            }
            Row::Group(g) => {
                let members: Vec<String> = self
                    .offered
                    .iter()
                    .filter(|c| c.parent == g)
                    .map(|c| c.id.clone())
                    .collect();
                let mut done = Toggled::default();
                if self.check(Row::Group(g)) == Check::On {
                    // Untick what can be unticked, repeating while that
                    // frees more (a member may only be required by another).
                    loop {
                        let freed: Vec<String> = members
                            .iter()
                            .filter(|m| self.ticked.contains(*m) && self.lock(m).is_none())
                            .cloned()
                            .collect();
                        if freed.is_empty() {
                            break;
                        }
                        for m in freed {
                            if let Ok(t) = self.untick(&m) {
                                done.also_removed.extend(
                                    t.also_removed.into_iter().filter(|r| !members.contains(r)),
                                );
                            }
                        }
                    }
                    done.kept = members.iter().filter_map(|m| self.lock(m)).collect();
                } else {
                    for m in &members {
                        let t = self.tick(m);
                        done.added
                            .extend(t.added.into_iter().filter(|a| !members.contains(&a.id)));
                    }
                }
                Ok(done)
            }
        }
    }

    /// A short note shown beside a component: why it is locked, or which
    /// components go with it.
    pub fn note(&self, id: &str) -> Option<String> {
        if let Some(locked) = self.lock(id) {
            return Some(locked.short());
        }
        let partners = self.partners(id);
        if !partners.is_empty() {
            return Some(format!("goes with {}", partners.join(", ")));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cic() -> ComponentTree {
        ComponentTree::new(Catalog::for_role("cic").unwrap())
    }

    fn select(tree: &mut ComponentTree, row: Row<'_>) {
        tree.cursor = tree.rows().iter().position(|r| *r == row).unwrap();
    }

    #[test]
    fn everything_is_ticked_at_first() {
        let tree = cic();
        assert!(tree.all_selected());
        assert_eq!(tree.check(Row::All), Check::On);
        assert_eq!(tree.selected().len(), tree.offered().count());
        assert_eq!(tree.rows()[0], Row::All);
    }

    #[test]
    fn workgroups_is_locked_while_users_is_ticked() {
        let mut tree = cic();
        let locked = tree.untick("Workgroups").unwrap_err();
        assert_eq!(locked.required_by[0].0, "Users");
        assert_eq!(locked.short(), "required by Users");
        assert!(locked.to_string().contains("untick Users first"));
        assert!(tree.is_ticked("Workgroups"));
        assert_eq!(tree.check(Row::Component("Workgroups")), Check::Locked);
        // Users itself is required by AdminConfig; free it first.
        assert!(tree.untick("Users").is_err());
        tree.untick("AdminConfig").unwrap();
        tree.untick("Users").unwrap();
        assert_eq!(tree.check(Row::Component("Workgroups")), Check::On);
        tree.untick("Workgroups").unwrap();
        assert!(!tree.is_ticked("Workgroups"));
    }

    #[test]
    fn ticking_adds_requirements_and_explains_them() {
        let mut tree = cic();
        select(&mut tree, Row::All);
        tree.toggle().unwrap();
        assert!(tree.selected().is_empty());
        let done = tree.tick("Users");
        assert_eq!(tree.selected(), vec!["Users", "Workgroups"]);
        assert_eq!(done.added.len(), 1);
        assert!(done.added[0]
            .explain()
            .starts_with("added Workgroups: required by Users"));
        assert_eq!(tree.check(Row::All), Check::Partial);
    }

    #[test]
    fn mutual_requirements_untick_together() {
        let mut tree = cic();
        assert_eq!(tree.lock("Server IP"), None);
        assert_eq!(
            tree.note("Server IP").as_deref(),
            Some("goes with IP\\Handlers")
        );
        let done = tree.untick("Server IP").unwrap();
        assert_eq!(done.also_removed, vec!["IP\\Handlers".to_string()]);
        assert!(!tree.is_ticked("IP\\Handlers"));
        tree.tick("IP\\Handlers");
        assert!(tree.is_ticked("Server IP"));
    }

    #[test]
    fn unticking_a_group_keeps_what_others_require() {
        let mut tree = cic();
        select(&mut tree, Row::Group("Directory Services"));
        let done = tree.toggle().unwrap();
        // AdminConfig (Server Configuration) still requires Users, and
        // Users requires Workgroups.
        assert!(tree.is_ticked("Users") && tree.is_ticked("Workgroups"));
        assert!(!tree.is_ticked("Roles"));
        let kept: Vec<&str> = done.kept.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(kept, vec!["Users", "Workgroups"]);
        assert_eq!(tree.check(Row::Group("Directory Services")), Check::Partial);
        // Ticking the group again ticks all of it.
        tree.toggle().unwrap();
        assert_eq!(tree.check(Row::Group("Directory Services")), Check::On);
    }

    #[test]
    fn a_file_limits_the_tree_to_its_components() {
        let catalog = Catalog::for_role("cic").unwrap();
        let ids = vec!["Users".to_string(), "Workgroups".to_string()];
        let tree = ComponentTree::limited_to(catalog, &ids);
        assert_eq!(
            tree.rows(),
            vec![
                Row::All,
                Row::Group("Directory Services"),
                Row::Component("Users"),
                Row::Component("Workgroups")
            ]
        );
    }

    #[test]
    fn collapsing_hides_a_groups_components() {
        let mut tree = cic();
        select(&mut tree, Row::Component("Roles"));
        tree.set_expanded(false);
        assert_eq!(tree.current(), Row::Group("Directory Services"));
        assert!(!tree.rows().contains(&Row::Component("Roles")));
        tree.set_expanded(true);
        assert!(tree.rows().contains(&Row::Component("Roles")));
        tree.jump(true);
        assert_eq!(tree.cursor(), tree.rows().len() - 1);
        tree.move_cursor(5);
        assert_eq!(tree.cursor(), tree.rows().len() - 1);
        tree.move_cursor(-1000);
        assert_eq!(tree.cursor(), 0);
    }
}
