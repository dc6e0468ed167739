//! The one place that draws progress: [`transit_core::Event`]s become
//! indicatif bars on standard error: one per task, an optional total, and a
//! spinner for the job's current step.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use transit_core::{Event, Progress, Unit};

struct Task {
    bar: ProgressBar,
    done: u64,
    total: u64,
}

#[derive(Default)]
struct State {
    tasks: HashMap<String, Task>,
    step: Option<ProgressBar>,
    total: Option<ProgressBar>,
}

/// Draws events as indicatif bars. Hidden when standard error is not a
/// terminal; with `quiet` (JSON output) nothing at all is drawn, notes
/// included, since the JSON carries them.
pub struct Bars {
    multi: MultiProgress,
    state: Mutex<State>,
    quiet: bool,
    with_total: Option<&'static str>,
}

fn style(unit: Unit, known_total: bool) -> ProgressStyle {
    let template = match (unit, known_total) {
        (Unit::Bytes, true) => {
            "{prefix:>28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}"
        }
        (Unit::Items, true) => "{prefix:>28} [{bar:30}] {pos}/{len} {msg}",
        (Unit::Rows, true) => {
            "{prefix:>28} [{bar:30}] {human_pos}/{human_len} rows {per_sec} ETA {eta} {msg}"
        }
        (Unit::Bytes, false) => "{spinner} {prefix:>26} {bytes} {bytes_per_sec} {msg}",
        (Unit::Items, false) => "{spinner} {prefix:>26} {pos} {msg}",
        (Unit::Rows, false) => "{spinner} {prefix:>26} {human_pos} rows {per_sec} {msg}",
    };
    ProgressStyle::with_template(template)
        .expect("valid template")
        .progress_chars("=> ")
}

impl Bars {
    /// Bars on standard error; `quiet` draws nothing.
    pub fn new(quiet: bool) -> Bars {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Bars {
            multi: MultiProgress::with_draw_target(target),
            state: Mutex::new(State::default()),
            quiet,
            with_total: None,
        }
    }

    /// Adds a bar labelled `label` that sums every task.
    pub fn with_total(mut self, label: &'static str) -> Bars {
        self.with_total = Some(label);
        self
    }

    fn note(&self, text: String) {
        if self.quiet {
            return;
        }
        if self.multi.is_hidden() {
            eprintln!("{text}");
        } else {
            let _ = self.multi.println(text);
        }
    }

    fn total_bar(&self, state: &mut State, unit: Unit) -> Option<ProgressBar> {
        let label = self.with_total?;
        Some(
            state
                .total
                .get_or_insert_with(|| {
                    let bar = self.multi.add(ProgressBar::new(0));
                    bar.set_style(style(unit, true));
                    bar.set_prefix(label);
                    bar
                })
                .clone(),
        )
    }

    /// Clears every bar (call once the job ended, before printing results).
    pub fn finish(&self) {
        let state = self.state.lock().expect("progress lock");
        for task in state.tasks.values() {
            task.bar.finish_and_clear();
        }
        for bar in state.step.iter().chain(state.total.iter()) {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bars {
    fn event(&self, event: Event) {
        let mut state = self.state.lock().expect("progress lock");
        let state = &mut *state;
        match event {
            Event::Note { text } => self.note(text),
            Event::Step { name } => {
                let bar = state.step.get_or_insert_with(|| {
                    let bar = self.multi.insert(0, ProgressBar::new_spinner());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
                bar.set_message(name);
            }
            Event::Begin { task, unit, total } => {
                let bar = ProgressBar::new(total.unwrap_or(0));
                let bar = match &state.total {
                    Some(total_bar) => self.multi.insert_before(total_bar, bar),
                    None => self.multi.add(bar),
                };
                bar.set_style(style(unit, total.is_some()));
                bar.set_prefix(task.clone());
                if let Some(total_bar) = self.total_bar(state, unit) {
                    total_bar.inc_length(total.unwrap_or(0));
                }
                state.tasks.insert(
                    task,
                    Task {
                        bar,
                        done: 0,
                        total: total.unwrap_or(0),
                    },
                );
            }
            Event::Advance { task, done, total } => {
                let Some(t) = state.tasks.get_mut(&task) else {
                    return;
                };
                let new_total = total.unwrap_or(t.total).max(done);
                let (grew, moved) = (
                    new_total.saturating_sub(t.total),
                    done.saturating_sub(t.done),
                );
                if grew > 0 {
                    t.bar.set_length(new_total);
                    t.total = new_total;
                }
                t.bar.set_position(done);
                t.done = t.done.max(done);
                if let Some(total_bar) = &state.total {
                    total_bar.inc_length(grew);
                    total_bar.inc(moved);
                }
            }
            Event::Status { task, text } => {
                if let Some(t) = state.tasks.get(&task) {
                    t.bar.set_message(text);
                }
            }
            Event::End { task } => {
                if let Some(t) = state.tasks.get_mut(&task) {
                    let rest = t.total.saturating_sub(t.done);
                    t.bar.set_position(t.total.max(t.done));
                    t.done = t.total.max(t.done);
                    if let Some(total_bar) = &state.total {
                        total_bar.inc(rest);
                    }
                }
            }
        }
    }
}

/// Prints every event as one JSON object per line on standard output
/// (`--progress json`), for scripts.
#[derive(Default)]
pub struct JsonLines {
    out: Mutex<()>,
}

impl JsonLines {
    /// Prints one JSON value as a line.
    pub fn line(&self, value: &impl serde::Serialize) {
        let _guard = self.out.lock().expect("stdout lock");
        if let Ok(text) = serde_json::to_string(value) {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
}

impl Progress for JsonLines {
    fn event(&self, event: Event) {
        self.line(&event);
    }
}
