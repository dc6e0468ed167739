//! One progress interface for every engine.
//!
//! An engine reports [`Event`]s to a [`Progress`] it was given; it never
//! draws anything itself. A job is a set of *tasks* (one per component,
//! table, file, …), each with a unit and an optional total, plus *notes*
//! (lines for the user) and *steps* (the phase the whole job is in). Front
//! ends fold the events into indicatif bars, the wizard's Status page, or
//! JSON lines (every event serialises with an `"event"` tag).
//!
//! Positions are absolute, so a front end that misses an event (or a JSON
//! consumer that starts late) still shows the right figure.

use serde::Serialize;

/// What a task counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Bytes (drawn as "1.5 MiB").
    Bytes,
    /// Items such as components, keys or files.
    Items,
    /// Table rows.
    Rows,
}

/// One progress report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A line for the user, such as "added Workgroups: required by Users".
    Note {
        /// The text.
        text: String,
    },
    /// The job entered a named step, such as "restore point".
    Step {
        /// The step.
        name: String,
    },
    /// A task begins. `total` is `None` when unknown yet.
    Begin {
        /// The task's name, unique within the job.
        task: String,
        /// What it counts.
        unit: Unit,
        /// How much there is to do, if known.
        total: Option<u64>,
    },
    /// A task's position (absolute), and its total when that changed.
    Advance {
        /// The task.
        task: String,
        /// Units done so far.
        done: u64,
        /// A new total, when the estimate changed.
        total: Option<u64>,
    },
    /// A short status of a task, such as "packing".
    Status {
        /// The task.
        task: String,
        /// The status text.
        text: String,
    },
    /// The task is complete.
    End {
        /// The task.
        task: String,
    },
}

impl Event {
    /// A [`Event::Note`].
    pub fn note(text: impl Into<String>) -> Event {
        Event::Note { text: text.into() }
    }

    /// A [`Event::Step`].
    pub fn step(name: impl Into<String>) -> Event {
        Event::Step { name: name.into() }
    }

    /// A [`Event::Begin`].
    pub fn begin(task: impl Into<String>, unit: Unit, total: Option<u64>) -> Event {
        Event::Begin {
            task: task.into(),
            unit,
            total,
        }
    }

    /// An [`Event::Advance`] without a new total.
    pub fn advance(task: impl Into<String>, done: u64) -> Event {
        Event::Advance {
            task: task.into(),
            done,
            total: None,
        }
    }

    /// A [`Event::Status`].
    pub fn status(task: impl Into<String>, text: impl Into<String>) -> Event {
        Event::Status {
            task: task.into(),
            text: text.into(),
        }
    }

    /// A [`Event::End`].
    pub fn end(task: impl Into<String>) -> Event {
        Event::End { task: task.into() }
    }
}

/// Receives progress events; engines may call it from several threads.
pub trait Progress: Sync {
    /// Handles one event.
    fn event(&self, event: Event);
}

/// A progress sink that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn event(&self, _: Event) {}
}

impl<F: Fn(Event) + Sync> Progress for F {
    fn event(&self, event: Event) {
        self(event)
    }
}

/// "1.5 MiB" style byte counts, for front ends that draw text themselves.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn closures_are_sinks_and_events_serialise_tagged() {
        let seen = Mutex::new(Vec::new());
        let sink = |e: Event| seen.lock().unwrap().push(e);
        let progress: &dyn Progress = &sink;
        progress.event(Event::begin("Users", Unit::Bytes, Some(10)));
        progress.event(Event::advance("Users", 4));
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(
            serde_json::to_string(&seen[1]).unwrap(),
            r#"{"event":"advance","task":"Users","done":4,"total":null}"#
        );
    }

    #[test]
    fn human_bytes_scales() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
