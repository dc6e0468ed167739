//! The registry of a demo CIC server.

use super::{dw, entry, multi, names, sz, Sink, LANGUAGES};
use crate::Result;
use rand::{Rng, RngCore};
use transit_registry::{KeyPath, Registry, ValueData, WriteTxn};
use transit_server::layout::{self, files};
use transit_server::machine_key::MachineKey;
use transit_server::ServerRoot;

/// Roughly how many values [`registry`] writes for `users` users.
pub fn estimated_values(users: u64) -> u64 {
    users * 50 + 2000
}

/// Counts that scale with the number of users.
pub(super) struct Scale {
    pub workgroups: u64,
    pub line_groups: u64,
    pub skills: u64,
    pub reports: u64,
    pub client_buttons: u64,
    pub handlers: u64,
    pub attendant_profiles: u64,
    pub registration_groups: u64,
}

impl Scale {
    pub fn new(users: u64) -> Scale {
        Scale {
            workgroups: (users / 20).max(3),
            line_groups: (users / 50).max(2),
            skills: (users / 50).max(3),
            reports: (users / 10).max(10),
            client_buttons: (users / 100).max(5),
            handlers: (users / 10).max(6),
            attendant_profiles: (users / 200).max(2),
            registration_groups: (users / 250).max(2),
        }
    }
}

fn key(text: &str) -> KeyPath {
    KeyPath::parse(text).expect("generated key paths are valid")
}

mod features;
mod outside;
mod parameters;
mod people;
mod telephony;

use features::*;
use outside::*;
use parameters::*;
use people::*;
use telephony::*;

/// Users, stations, lines and phones are written in transactions of this
/// many entries, so one transaction never grows unbounded.
const BATCH: u64 = 20_000;

/// What every container's generator shares.
struct Gen<'a> {
    root: &'a ServerRoot,
    key: &'a MachineKey,
    users: u64,
    scale: Scale,
    salt: u64,
    site: String,
    server: String,
}

impl Gen<'_> {
    /// The DS key of `entry_name` in `container`.
    fn ds(&self, container: &str, entry_name: &str) -> KeyPath {
        self.root
            .ds_container(container)
            .join(entry_name)
            .expect("entry names are valid key segments")
    }
}

/// Runs `write` for every user index, committing every [`BATCH`].
fn per_user(
    g: &Gen<'_>,
    registry: &mut Registry,
    mut write: impl FnMut(&mut WriteTxn<'_>, u64) -> Result<()>,
) -> Result<()> {
    for batch_start in (0..g.users).step_by(BATCH as usize) {
        let mut txn = registry.write()?;
        for i in batch_start..(batch_start + BATCH).min(g.users) {
            write(&mut txn, i)?;
        }
        txn.commit()?;
    }
    Ok(())
}

/// The station of user `i`.
fn station_name(i: u64) -> String {
    format!("STA-{:06}", i + 1)
}

/// The SIP line of user `i`.
fn line_name(i: u64) -> String {
    format!("SIP-{:06}", i + 1)
}

/// Writes the whole registry, container by container, in a fixed order
/// (so the same seed draws the same values).
pub(super) fn registry(
    registry: &mut Registry,
    root: &ServerRoot,
    machine_key: &MachineKey,
    users: u64,
    rng: &mut impl RngCore,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let g = Gen {
        root,
        key: machine_key,
        users,
        scale: Scale::new(users),
        salt: rng.next_u64(),
        site: root.site_name().to_string(),
        server: root.name().to_string(),
    };
    people::users(&g, registry, rng, sink)?;
    let mut txn = registry.write()?;
    workgroups(&g, &mut txn, rng, sink)?;
    roles(&g, &mut txn, sink)?;
    skills(&g, &mut txn, sink)?;
    schedules(&g, &mut txn, sink)?;
    txn.commit()?;
    stations(&g, registry, sink)?;
    lines(&g, registry, sink)?;
    managed_phones(&g, registry, sink)?;
    let mut txn = registry.write()?;
    line_groups(&g, &mut txn, sink)?;
    registration_groups(&g, &mut txn, sink)?;
    proxy_groups(&g, &mut txn, sink)?;
    server_parameters(&g, &mut txn, rng, sink)?;
    structured_parameters(&g, &mut txn, rng, sink)?;
    ip_tables(&g, &mut txn, sink)?;
    dnis_mappings(&g, &mut txn, sink)?;
    mail_providers(&g, &mut txn, sink)?;
    data_sources(&g, &mut txn, sink)?;
    client_buttons(&g, &mut txn, sink)?;
    reports(&g, &mut txn, sink)?;
    attendant_profiles(&g, &mut txn, sink)?;
    recorder(&g, &mut txn, rng, sink)?;
    ipa(&g, &mut txn, rng, sink)?;
    admin_config(&g, &mut txn, sink)?;
    dial_plan(&g, &mut txn, sink)?;
    outside_ds(&g, &mut txn, rng, sink)?;
    txn.commit()?;
    Ok(())
}

fn tracked(
    txn: &mut WriteTxn<'_>,
    sink: &mut Sink<'_>,
    key: &KeyPath,
    values: &[(String, ValueData)],
) -> Result<()> {
    let borrowed: Vec<(&str, ValueData)> = values
        .iter()
        .map(|(n, v)| (n.as_str(), v.clone()))
        .collect();
    entry(txn, sink, key, &borrowed)
}

/// The name of report `r`; even reports are production reports.
pub(super) fn report_name(r: u64) -> String {
    let kind = if r.is_multiple_of(2) {
        "Agent Performance"
    } else {
        "Custom Analysis"
    };
    format!("{kind} {:04}", r + 1)
}

const ROLES: &[&str] = &[
    "Agent",
    "Supervisor",
    "Administrator",
    "Business User",
    "Manager",
    "Operator",
    "Analyst",
    "Recorder Admin",
];
const RIGHTS: &[&str] = &[
    "Login",
    "Make Calls",
    "Transfer",
    "Monitor",
    "Coach",
    "Record",
    "Administer Users",
    "Administer Server",
    "View Reports",
];
const STATUSES: &[&str] = &[
    "Available",
    "Away from desk",
    "At lunch",
    "In a meeting",
    "Do not disturb",
];
const SCHEDULES: &[&str] = &[
    "Business Hours",
    "After Hours",
    "Holidays",
    "Weekend",
    "Emergency",
];
const PARAM_WORDS: &[&str] = &[
    "ACD Agent Timeout",
    "Queue Overflow Limit",
    "Recording Compression",
    "Session Limit",
    "Retry Interval",
    "Log Retention",
    "Web Chat Timeout",
    "Callback Window",
    "Email Poll Interval",
    "IVR Max Digits",
];
