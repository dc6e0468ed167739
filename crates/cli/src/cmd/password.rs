//! Reading a migration file's password from a file or the environment.

use crate::cli::PasswordArgs;
use crate::exit::UsageError;
use anyhow::Context;
use secrecy::SecretString;

/// The password the options name, if any. A password file's first line is
/// used, without its line ending; an empty password is refused. The
/// password is held as a [`SecretString`], so no debug print shows it.
pub fn read(args: &PasswordArgs) -> anyhow::Result<Option<SecretString>> {
    let password = if let Some(file) = &args.password_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading password file {}", file.display()))?;
        Some(text.lines().next().unwrap_or("").to_string())
    } else if let Some(var) = &args.password_env {
        let value = std::env::var(var)
            .map_err(|_| UsageError(format!("environment variable {var} is not set")))?;
        Some(value)
    } else {
        None
    };
    if password.as_deref() == Some("") {
        return Err(UsageError("the password is empty".into()).into());
    }
    Ok(password.map(SecretString::from))
}
