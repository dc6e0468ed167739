//! `transit components`: the component tree of a role.

use crate::cli::RoleArg;
use crate::output::{self, ComponentJson, ComponentsJson, GroupJson};
use std::path::Path;
use transit_catalog::Catalog;
use transit_server::{Role, ServerRoot};

pub fn run(root: &Path, role: Option<RoleArg>, json: bool) -> anyhow::Result<()> {
    let role = match role {
        Some(RoleArg::Cic) => "cic",
        Some(RoleArg::Media) => "media",
        // Without --role, the server root's own role, if there is a root.
        None => match ServerRoot::open(root) {
            Ok(server) if server.identity().server.role == Role::Media => "media",
            _ => "cic",
        },
    };
    let catalog = Catalog::for_role(role)?;
    if json {
        let groups = catalog
            .groups
            .iter()
            .map(|g| GroupJson {
                group: &g.id,
                components: catalog
                    .children(&g.id)
                    .map(|c| ComponentJson {
                        id: &c.id,
                        aliases: &c.aliases,
                        registry: &c.registry,
                        files: &c.files,
                        custom_handlers: c.custom_handlers,
                        method: c.method.name(),
                        rules: &c.rules,
                        requires: &c.requires,
                    })
                    .collect(),
            })
            .collect();
        return output::print_pretty(&ComponentsJson { role, groups });
    }
    outln!("{} components ({} role)", catalog.components.len(), role);
    for group in &catalog.groups {
        outln!("{}", group.id);
        let children: Vec<_> = catalog.children(&group.id).collect();
        for (i, c) in children.iter().enumerate() {
            let branch = if i + 1 == children.len() {
                "└─"
            } else {
                "├─"
            };
            let requires = if c.requires.is_empty() {
                String::new()
            } else {
                format!("  requires {}", c.requires.join(", "))
            };
            outln!("  {branch} {:<30} [{}]{requires}", c.id, c.method.name());
        }
    }
    Ok(())
}
