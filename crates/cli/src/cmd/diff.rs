//! `transit diff A B`: compares any two of a server root, a migration file
//! and a `.reg` file (the work is `transit_migrator::diff`; this module
//! reads the options, picks the report format and the exit code).

use super::password;
use crate::cli::PasswordArgs;
use crate::exit::{Quiet, UsageError};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use transit_migrator::diff::report::{JsonReport, TextReport};
use transit_migrator::diff::{self, DiffError, DiffOptions, DiffSink, Password};

/// Shown after the options in `transit diff --help`.
const AFTER_HELP: &str = "\
Each side is recognised by what it is: a directory with server.toml, a
migration file (.ininmigr), or a Windows .reg file (REGEDIT5 or REGEDIT4).

Keys are compared per component, relative to the component's subtree
({ds} is each server's own Directory Services key, {server} its name), so
two servers with different names line up. Keys outside every component
are compared as \"(other registry)\" unless a side is a migration file. A
.reg file holds no files, so with a .reg side files are not compared.
A migration file's files are compared by the SHA-256 its manifest records,
without extracting them (its registry entries are read and checked);
`transit verify` checks every byte of a file.

Output: '+' only in B, '-' only in A, '~' in both but different (with
'name: old -> new' per value). --stat prints only the counts; --json
prints one JSON document (all details unless --stat).

Passwords: --password-file/--password-env apply to every encrypted
migration file side (and are ignored for a side that is not encrypted).
When B needs a different password, give it with --b-password-file or
--b-password-env; A then uses --password-file/--password-env.

Exit status: 0 when A and B hold the same data, 1 when they differ (as
diff(1) does; nothing is written to stderr). A failure prints \"error: ...\"
and exits with its own code (see transit --help), such as 6 for a wrong
password or 3 for a malformed .reg file.";

/// `transit diff A B`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct DiffArgs {
    /// The first side: a server root, a migration file or a .reg file.
    pub a: PathBuf,
    /// The second side.
    pub b: PathBuf,
    /// Components to compare: `all`, or a comma-separated list such as "Users,Workgroups".
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub components: Vec<String>,
    /// The password of A, and of B unless --b-password-* is given.
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Read B's password from the first line of this file (when B's
    /// password differs from A's).
    #[arg(long, value_name = "FILE", conflicts_with = "b_password_env")]
    pub b_password_file: Option<PathBuf>,
    /// Read B's password from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub b_password_env: Option<String>,
    /// Print only the counts per component and in total.
    #[arg(long)]
    pub stat: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `transit diff`: prints the differences, then fails with
/// [`Quiet(1)`](Quiet) when there are any.
pub fn run(args: DiffArgs) -> anyhow::Result<()> {
    let shared = password::read(&args.password)?;
    let own_b = password::read(&PasswordArgs {
        password_file: args.b_password_file.clone(),
        password_env: args.b_password_env.clone(),
    })?;
    let options = DiffOptions {
        components: (!args
            .components
            .iter()
            .any(|c| c.trim().eq_ignore_ascii_case("all")))
        .then(|| args.components.clone()),
        password_a: shared.clone().map_or(Password::None, Password::IfEncrypted),
        password_b: match (own_b, shared) {
            (Some(p), _) => Password::Exact(p),
            (None, Some(p)) => Password::IfEncrypted(p),
            (None, None) => Password::None,
        },
    };
    let stdout = std::io::stdout().lock();
    let out = std::io::BufWriter::with_capacity(1 << 16, stdout);
    let equal = if args.json {
        let mut report = JsonReport::new(out, args.stat);
        let equal = compare(&args, &options, &mut report)?;
        report.into_inner().flush()?;
        equal
    } else {
        let mut report = TextReport::new(out, args.stat);
        let equal = compare(&args, &options, &mut report)?;
        report.into_inner().flush()?;
        equal
    };
    if equal {
        Ok(())
    } else {
        Err(Quiet(crate::exit::Exit::Failure).into())
    }
}

fn compare(
    args: &DiffArgs,
    options: &DiffOptions,
    sink: &mut dyn DiffSink,
) -> anyhow::Result<bool> {
    let summary = diff::diff(&args.a, &args.b, options, sink).map_err(to_anyhow)?;
    Ok(summary.equal)
}

/// Puts the error the exit-code table knows at the top of the chain: the
/// archive, server and catalog errors as themselves (so a wrong password
/// exits as `transit inspect` does), bad paths as usage errors.
fn to_anyhow(err: DiffError) -> anyhow::Error {
    match err {
        DiffError::Archive(e) => e.into(),
        DiffError::Server(e) => e.into(),
        DiffError::Catalog(e) => e.into(),
        DiffError::Migrator(e) => e.into(),
        e @ (DiffError::Missing { .. }
        | DiffError::UnknownKind { .. }
        | DiffError::RoleMismatch { .. }) => UsageError(e.to_string()).into(),
        other => other.into(),
    }
}
