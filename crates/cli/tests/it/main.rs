//! The integration tests of `transit-cli`, as one test binary (one link on
//! two cores instead of one per file).

mod common;
mod console;
mod db;
mod db_copy;
mod db_migrate;
mod diff;
mod export;
mod fidelity;
mod hardening;
mod import;
mod logs;
mod netns;
mod registry;
mod restore;
mod schedule;
mod server;
mod update;
mod update_client;
mod update_console;
mod update_discovery;
mod update_provider;
mod update_remote;
mod update_rollout;
mod update_switchover;
mod wizard_tmux;
