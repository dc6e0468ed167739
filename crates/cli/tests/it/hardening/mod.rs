//! The Migrator hardening of issue 11: each module reproduces one way the
//! Migrator broke under a hostile user or a failing machine.

mod demo_bounds;
mod disk_full;
mod exits;
mod outputs;
mod pipes;
