//! Import: a migration file into a server root.
//!
//! [`preflight`] runs every check before anything changes; [`rules`] holds
//! the M-06 import rules as named units; [`import`] plans the files, takes a
//! restore point, stages files under the root, applies the registry in one
//! transaction and renames the files into place; [`report`] is the M-08
//! report.

mod engine;
pub mod extract;
pub mod preflight;
pub mod report;
pub mod review;
pub mod rules;

pub use engine::{import, ImportPlan, COMPONENTS_TASK};
pub use preflight::{ImportMode, Refusal};
pub use report::{ComponentReport, ImportReport};
