//! Draws export progress with indicatif: one bar per component plus a total.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;
use transit_migrator::ExportEvent;

/// Turns engine events into bars on stderr (hidden when stderr is not a
/// terminal, or when `quiet`).
pub struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    bars: Mutex<HashMap<String, (ProgressBar, u64)>>,
    quiet: bool,
}

impl Bars {
    pub fn new(quiet: bool) -> Bars {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let multi = MultiProgress::with_draw_target(target);
        let total = multi.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template(
                "{prefix:>28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {elapsed}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        total.set_prefix("total");
        Bars {
            multi,
            total,
            bars: Mutex::new(HashMap::new()),
            quiet,
        }
    }

    pub fn event(&self, event: ExportEvent) {
        let mut bars = self.bars.lock().expect("progress lock");
        match event {
            ExportEvent::Added { explanation } => {
                if self.quiet {
                    // JSON output carries the explanations instead.
                } else if self.multi.is_hidden() {
                    eprintln!("{explanation}");
                } else {
                    let _ = self.multi.println(explanation);
                }
            }
            ExportEvent::Planned { components } => {
                let style = ProgressStyle::with_template(
                    "{prefix:>28} [{bar:30}] {bytes}/{total_bytes} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> ");
                let mut sum = 0;
                for (id, estimate) in components {
                    let bar = self
                        .multi
                        .insert_before(&self.total, ProgressBar::new(estimate.max(1)));
                    bar.set_style(style.clone());
                    bar.set_prefix(id.clone());
                    sum += estimate;
                    bars.insert(id, (bar, 0));
                }
                self.total.set_length(sum.max(1));
            }
            ExportEvent::Building { id, bytes } => {
                if let Some((bar, seen)) = bars.get_mut(&id) {
                    self.total.inc(bytes.saturating_sub(*seen));
                    *seen = bytes.max(*seen);
                    if bytes > bar.length().unwrap_or(0) {
                        bar.set_length(bytes);
                    }
                    bar.set_position(bytes);
                }
            }
            ExportEvent::Built { id, .. } => {
                if let Some((bar, _)) = bars.get(&id) {
                    bar.set_position(bar.length().unwrap_or(0));
                    bar.set_message("packing");
                }
            }
            ExportEvent::Packing { id, bytes } => {
                if let Some((bar, _)) = bars.get(&id) {
                    bar.set_message(format!("packed {}", indicatif::HumanBytes(bytes)));
                }
            }
        }
    }

    pub fn finish(&self) {
        for (bar, _) in self.bars.lock().expect("progress lock").values() {
            bar.finish_and_clear();
        }
        self.total.finish_and_clear();
    }
}
