//! Running Transit work outside an interactive session: systemd unit files
//! (a `.service`, optionally with a `.timer`), the same schedule as a
//! crontab line for machines without systemd, and the unit folder they
//! are installed into.
//!
//! Every product uses it: scheduled Migrator exports, the update client's
//! daemon, the DB assistant's "execute later". Units written here carry a
//! JSON [`marker`] line, so Transit recognises its own units and never
//! touches anyone else's.

pub mod calendar;
pub mod cron;
pub mod folder;
pub mod marker;
pub mod systemd;

pub use calendar::{At, Calendar, Every, Weekday};
pub use folder::{Scope, UnitError, UnitFolder};
pub use systemd::{ServiceKind, ServiceUnit, TimerUnit};
