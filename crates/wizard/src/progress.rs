//! The Status page's model: export and import events folded into a
//! fraction done, a current activity and a short log.

use transit_migrator::import::ImportEvent;
use transit_migrator::ExportEvent;

/// How many log lines the Status page keeps.
pub const LOG_LINES: usize = 200;

/// What the Status page shows about a running job.
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
}

/// "1.5 MiB" style byte counts.
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

    /// Folds in one export event.
    pub fn export_event(&mut self, event: ExportEvent) {
        match event {
            ExportEvent::Added { explanation } => self.log(explanation),
            ExportEvent::Planned { components } => {
                self.total = components.len();
                let bytes: u64 = components.iter().map(|(_, b)| b).sum();
                self.activity = "reading the registry snapshot and files".into();
                self.log(format!(
                    "planned {} components, about {}",
                    components.len(),
                    human_bytes(bytes)
                ));
            }
            ExportEvent::Building { id, bytes } => {
                self.activity = format!("building {id}: {} read", human_bytes(bytes));
            }
            ExportEvent::Built { id, size } => {
                self.done += 1;
                self.log(format!("built {id} ({})", human_bytes(size)));
            }
            ExportEvent::Packing { id, bytes } => {
                self.activity = format!("packing {id}: {} written", human_bytes(bytes));
            }
        }
    }

    /// Folds in one import event.
    pub fn import_event(&mut self, event: ImportEvent) {
        match event {
            ImportEvent::Step(step) => {
                self.activity = step.clone();
                self.log(step);
            }
            ImportEvent::Component { id, index, total } => {
                self.total = total;
                self.done = index.saturating_sub(1);
                self.activity = format!("importing {id} ({index} of {total})");
                self.log(format!("importing {id}"));
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
    fn export_events_count_built_components() {
        let mut p = Progress::default();
        p.export_event(ExportEvent::Planned {
            components: vec![("Users".into(), 2048), ("Roles".into(), 10)],
        });
        assert_eq!((p.done, p.total), (0, 2));
        p.export_event(ExportEvent::Building {
            id: "Users".into(),
            bytes: 1536,
        });
        assert_eq!(p.activity, "building Users: 1.5 KiB read");
        p.export_event(ExportEvent::Built {
            id: "Users".into(),
            size: 100,
        });
        assert_eq!(p.ratio(), 0.5);
        assert_eq!(p.log.last().unwrap(), "built Users (100 B)");
    }

    #[test]
    fn import_events_follow_the_component_index() {
        let mut p = Progress::default();
        p.import_event(ImportEvent::Step("restore point".into()));
        assert_eq!(p.activity, "restore point");
        p.import_event(ImportEvent::Component {
            id: "Users".into(),
            index: 3,
            total: 4,
        });
        assert_eq!((p.done, p.total), (2, 4));
        p.complete();
        assert_eq!(p.ratio(), 1.0);
    }
}
