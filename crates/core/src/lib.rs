//! The ground floor of Transit: the pieces every product (the Migrator,
//! the DB assistant, the update service) shares, with no dependency on any
//! other Transit crate.
//!
//! - [`cancel`]: one cancellation token for threads and async code, and
//!   [`cancel::cancel_on_signals`] for SIGINT/SIGTERM;
//! - [`progress`]: one progress interface that every engine reports
//!   through and every front end (indicatif bars, the wizard, JSON lines)
//!   draws;
//! - [`time`]: UTC stamps and the vendor's `MMDDYYYYhhmmss` file stamp;
//! - [`error`]: [`ErrorKind`], which every library error answers through
//!   [`Kind::kind`], and [`PathIoError`] for I/O errors that name a path;
//! - [`paths`]: path resolution and the "outside the server root" check;
//! - [`priority`]: lowering a background thread's priority.

pub mod cancel;
pub mod error;
pub mod paths;
pub mod priority;
pub mod progress;
pub mod time;

pub use cancel::{cancel_on_signals, CancelToken};
pub use error::{ErrorKind, IoContext, Kind, PathIoError};
pub use progress::{Event, NoProgress, Progress, Unit};
