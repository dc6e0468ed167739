//! Progress reporting and cancellation, passed in by the caller.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What an export reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportEvent {
    /// The closure added a component.
    Added {
        /// "added X: required by Y (…)"
        explanation: String,
    },
    /// The plan is ready: every component with its estimated bytes.
    Planned {
        /// (component ID, estimated bytes) in build order.
        components: Vec<(String, u64)>,
    },
    /// A component's data read so far (registry text and file bytes).
    Building {
        /// The component.
        id: String,
        /// Bytes read so far.
        bytes: u64,
    },
    /// A component's inner zip is complete.
    Built {
        /// The component.
        id: String,
        /// Size of its inner zip.
        size: u64,
    },
    /// Bytes of a component written into the migration file so far.
    Packing {
        /// The component.
        id: String,
        /// Bytes written.
        bytes: u64,
    },
}

/// Receives progress events; called from several threads.
pub trait ProgressSink: Sync {
    /// Handles one event.
    fn event(&self, event: ExportEvent);
}

/// A sink that ignores everything.
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn event(&self, _: ExportEvent) {}
}

impl<F: Fn(ExportEvent) + Sync> ProgressSink for F {
    fn event(&self, event: ExportEvent) {
        self(event)
    }
}

/// A shared stop flag. The CLI sets it from Stop or a signal handler; the
/// engine checks it between steps and inside long streams.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Requests cancellation.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The flag itself, for `signal_hook::flag::register`.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}
