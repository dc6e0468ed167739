//! `transit diff A B`: compares any two of a server root, a migration file
//! and a `.reg` file (the work is `transit_migrator::diff`; this module
//! reads the options, picks the report format and the exit code).

use super::password;
use crate::cli::{DiffArgs, PasswordArgs};
use crate::exit::{Quiet, UsageError};
use crate::progress::Bars;
use std::io::Write;
use transit_core::{cancel_on_signals, CancelToken};
use transit_migrator::diff::report::{JsonReport, TextReport};
use transit_migrator::diff::{self, DiffError, DiffOptions, DiffSink, Password};

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
    let cancel = CancelToken::new();
    let _signals = cancel_on_signals(&cancel)?;
    // Progress on stderr (only on a terminal, and never under --json);
    // the differences go to stdout.
    let bars = Bars::new(args.json);
    let summary =
        diff::diff_with(&args.a, &args.b, options, sink, &bars, &cancel).map_err(to_anyhow);
    bars.finish();
    Ok(summary?.equal)
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
