//! Exit codes, in one place.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | any other failure |
//! | 2 | usage: bad arguments or options |
//! | 3 | bad input file: a malformed `.reg` file, `server.toml`, or registry database |
//! | 4 | refused by a safety or version rule (such as overwriting an existing server) |
//! | 5 | the server service is running |

use transit_registry::RegistryError;
use transit_server::ServerError;

/// The exit-code table as shown at the end of `--help`.
pub const HELP: &str = "Exit codes:
  0  success
  1  any other failure
  2  usage: bad arguments or options
  3  bad input file (malformed .reg file, server.toml or registry database)
  4  refused by a safety or version rule
  5  the server service is running (stop it first)";

/// A mistake in how the command was called (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit code for an error, found by walking its cause chain.
pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<ServerError>() {
            match e {
                ServerError::ServiceRunning { .. } => return 5,
                ServerError::BadIdentity { .. } => return 3,
                ServerError::AlreadyExists(_) => return 4,
                ServerError::Registry(r) => return registry_code(r),
                _ => {}
            }
        }
        if let Some(e) = cause.downcast_ref::<RegistryError>() {
            return registry_code(e);
        }
    }
    1
}

fn registry_code(err: &RegistryError) -> u8 {
    match err {
        RegistryError::RegFile(_)
        | RegistryError::OutsideRoot { .. }
        | RegistryError::BadKeyLine { .. }
        | RegistryError::BadValueLine { .. }
        | RegistryError::Corrupt(_) => 3,
        RegistryError::Path(_) | RegistryError::InvalidValue { .. } => 2,
        _ => 1,
    }
}
