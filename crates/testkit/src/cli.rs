//! Runs of the real `transit` binary.

use assert_cmd::assert::Assert;
use assert_cmd::Command;
use std::path::Path;
use transit_cli::exit::Exit;

/// `transit --server-root ROOT`, with `TRANSIT_SERVER_ROOT` and
/// `TRANSIT_LOG` removed from the environment.
pub fn transit(root: &Path) -> Command {
    let mut cmd = Command::cargo_bin("transit").expect("the transit binary is built");
    cmd.env_remove("TRANSIT_SERVER_ROOT")
        .env_remove("TRANSIT_LOG")
        .arg("--server-root")
        .arg(root);
    cmd
}

/// Asserts a run's exit status by its name in the exit table.
pub trait ExitAssert {
    /// Asserts the run ended with `exit`.
    fn exit(self, exit: Exit) -> Assert;
}

impl ExitAssert for Assert {
    fn exit(self, exit: Exit) -> Assert {
        self.code(i32::from(exit.code()))
    }
}
