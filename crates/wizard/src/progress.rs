//! The Status page's model: progress events folded into a fraction done,
//! a current activity and a short log.

use std::collections::HashMap;
use transit_core::progress::human_bytes;
use transit_core::{Event, Unit};

/// How many log lines the Status page keeps.
pub const LOG_LINES: usize = 200;

/// What the Status page shows about a running job.
///
/// An `Items` task (the import's component counter) drives the bar with
/// its own position; every other task (an export's components, counted in
/// bytes) is one unit of the bar, done when it ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Units done (components built or imported).
    pub done: usize,
    /// Units in all (0 until the engine has planned).
    pub total: usize,
    /// What is happening now.
    pub activity: String,
    /// Notable events, oldest first (at most [`LOG_LINES`]).
    pub log: Vec<String>,
    units: HashMap<String, Unit>,
}

impl Progress {
    /// The fraction done, 0.0 to 1.0.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64).clamp(0.0, 1.0)
        }
    }

    fn log(&mut self, line: String) {
        if self.log.len() == LOG_LINES {
            self.log.remove(0);
        }
        self.log.push(line);
    }

    fn counter(&self, task: &str) -> bool {
        self.units.get(task) == Some(&Unit::Items)
    }

    /// Folds in one event.
    pub fn event(&mut self, event: Event) {
        match event {
            Event::Note { text } => self.log(text),
            Event::Step { name } => {
                self.activity = name.clone();
                self.log(name);
            }
            Event::Begin { task, unit, total } => {
                self.units.insert(task.clone(), unit);
                if unit == Unit::Items {
                    self.total = total.unwrap_or(0) as usize;
                } else {
                    self.total += 1;
                    self.activity = "reading the registry snapshot and files".into();
                }
            }
            Event::Advance { task, done, .. } => {
                if self.counter(&task) {
                    self.done = done as usize;
                } else {
                    self.activity = format!("building {task}: {} read", human_bytes(done));
                }
            }
            Event::Status { task, text } => {
                if self.counter(&task) {
                    self.activity = format!("importing {text}");
                    self.log(format!("importing {text}"));
                } else {
                    self.activity = format!("{task}: {text}");
                }
            }
            Event::End { task } => {
                if self.counter(&task) {
                    self.done = self.total;
                } else {
                    self.done += 1;
                    self.log(format!("built {task}"));
                }
            }
        }
    }

    /// Marks the job complete (the bar shows 100 %).
    pub fn complete(&mut self) {
        self.done = self.total.max(1);
        self.total = self.total.max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_tasks_count_as_they_end() {
        let mut p = Progress::default();
        p.event(Event::begin("Users", Unit::Bytes, Some(2048)));
        p.event(Event::begin("Roles", Unit::Bytes, Some(10)));
        assert_eq!((p.done, p.total), (0, 2));
        p.event(Event::advance("Users", 1536));
        assert_eq!(p.activity, "building Users: 1.5 KiB read");
        p.event(Event::end("Users"));
        assert_eq!(p.ratio(), 0.5);
        assert_eq!(p.log.last().unwrap(), "built Users");
    }

    #[test]
    fn the_import_counter_drives_the_bar() {
        let mut p = Progress::default();
        p.event(Event::step("restore point"));
        assert_eq!(p.activity, "restore point");
        p.event(Event::begin("components", Unit::Items, Some(4)));
        p.event(Event::advance("components", 2));
        p.event(Event::status("components", "Users (3 of 4)"));
        assert_eq!((p.done, p.total), (2, 4));
        assert_eq!(p.activity, "importing Users (3 of 4)");
        p.complete();
        assert_eq!(p.ratio(), 1.0);
    }
}
