//! `transit completions SHELL` and `transit man`, generated from the
//! clap definition, so they always list exactly the commands there are.

use crate::cli::Cli;
use clap::CommandFactory;
use std::io::Write;

/// Writes the completion script for `shell` to standard output.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command, "transit", &mut out);
    out.flush()?;
    Ok(())
}

/// Writes the manual page (roff) to standard output: the top-level page,
/// then one section per subcommand.
pub fn man() -> anyhow::Result<()> {
    let command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(command.clone()).render(&mut out)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("transit-{}", sub.get_name());
        let page = sub.clone().name(name);
        clap_mangen::Man::new(page).render(&mut out)?;
    }
    out.flush()?;
    Ok(())
}
