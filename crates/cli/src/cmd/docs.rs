//! `transit completions SHELL` and `transit man`, generated from the
//! clap definition, so they always list exactly the commands there are.

use crate::cli::Cli;
use clap::CommandFactory;

/// Writes the completion script for `shell` to standard output.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut command = Cli::command();
    // Generated into memory first: clap_complete panics when its writer fails.
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "transit", &mut out);
    crate::output::write_stdout_bytes(&out);
    Ok(())
}

/// Writes the manual page (roff) to standard output: the top-level page,
/// then one section per subcommand.
pub fn man() -> anyhow::Result<()> {
    let command = Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut out)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("transit-{}", sub.get_name());
        let page = sub.clone().name(name);
        clap_mangen::Man::new(page).render(&mut out)?;
    }
    crate::output::write_stdout_bytes(&out);
    Ok(())
}
