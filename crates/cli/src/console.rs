//! The vendor console's switches (M-09), parsed exactly as documented so
//! existing scripts keep working:
//!
//! ```text
//! -export -exportNodes="all" -customHandlerPath=DIR -exportFolder=DIR -password=PW -noprompt
//! -import -importfile=FILE -importNodes="all" -extractionfolder=DIR -password=PW -importmode=0|1 -devMode -noprompt
//! ```
//!
//! Switch names ignore letter case; `noprompt` may omit its dash. Values
//! may be double-quoted, with spaces inside the quotes, whether the shell
//! removed the quotes or passed them through split at the spaces. Node
//! lists are comma-separated; spaces around the commas are ignored and
//! `all` may be written in any case. A lone `-` followed by a switch
//! without its dash is joined to it, as the reference's examples wrap
//! `-` / `customHandlerPath=…` across two lines.

use secrecy::SecretString;
use std::path::PathBuf;
use transit_migrator::import::{ImportMode, ImportPlan};
use transit_migrator::ExportPlan;

/// The console's switch table, shown by `transit help console`.
pub const HELP: &str = "Vendor console switches (names ignore case; values may be \"quoted\"):
  Export:  -export -exportFolder=DIR [-exportNodes=all|\"Users,Workgroups\"]
           [-customHandlerPath=DIR] [-password=PW] [-noprompt]
  Import:  -import -importfile=FILE -extractionfolder=DIR [-importNodes=all|LIST]
           [-password=PW] [-importmode=0|1] [-devMode] [-noprompt]
  -importmode: 0 = migration (default), 1 = recovery. Without -noprompt the
  console waits for a keystroke, which needs a terminal. An empty -password=
  takes the password from TRANSIT_PASSWORD (for passwords holding \" or
  other characters the command line cannot carry).
Example:
  transit --server-root /srv/cic console -export -exportfolder=\"/backup\" -exportNodes=\"all\" -password=foo noprompt";

/// A parsed console command line.
#[derive(Debug, Clone)]
pub struct ConsoleCommand {
    /// What to run.
    pub task: ConsoleTask,
    /// `-noprompt`: start without waiting for a keystroke.
    pub noprompt: bool,
}

/// The console's two tasks, as the plans `transit export` and `transit
/// import` run.
#[derive(Debug, Clone)]
pub enum ConsoleTask {
    /// `-export`: `-exportNodes` (or `["all"]`), `-customHandlerPath`,
    /// `-exportFolder`, `-password`.
    Export(ExportPlan),
    /// `-import`: `-importfile`, `-importNodes` (or `["all"]`),
    /// `-extractionfolder`, `-password`, `-importmode=1` (recovery) and
    /// `-devMode`; a restore point is always taken.
    Import(ImportPlan),
}

impl transit_core::Kind for ConsoleError {
    fn kind(&self) -> transit_core::ErrorKind {
        transit_core::ErrorKind::Usage
    }
}

/// A console command line that cannot be run, naming the switch at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    /// A switch the console does not know.
    #[error("unknown switch `{0}` (see `transit help console`)")]
    Unknown(String),
    /// A value switch given without `=VALUE`, or with an empty value.
    #[error("switch `{0}` needs a value, as in `{0}=VALUE`")]
    MissingValue(String),
    /// A flag given a value.
    #[error("switch `{0}` takes no value")]
    UnexpectedValue(String),
    /// The same switch twice.
    #[error("switch `{0}` is given twice")]
    Repeated(String),
    /// Both `-export` and `-import`.
    #[error("switches `-export` and `-import` conflict: give one of them")]
    BothTasks,
    /// Neither `-export` nor `-import`.
    #[error("say what to do: `-export` or `-import`")]
    NoTask,
    /// A switch of the other task.
    #[error("switch `{switch}` applies to {belongs} only, not to {task}")]
    WrongTask {
        /// The switch as written.
        switch: String,
        /// The task it belongs to.
        belongs: &'static str,
        /// The task given.
        task: &'static str,
    },
    /// A required switch is missing.
    #[error("{task} needs `{switch}`")]
    Required {
        /// The missing switch.
        switch: &'static str,
        /// The task.
        task: &'static str,
    },
    /// `-importmode` other than 0 or 1.
    #[error("switch `{0}` must be 0 (migration) or 1 (recovery)")]
    BadImportMode(String),
    /// A node list with an empty name.
    #[error("switch `{0}` has an empty node name in its list")]
    EmptyNode(String),
    /// A double quote that is never closed (the switch is named, its value
    /// is not repeated, as it may be a password).
    #[error("unterminated quote in the value of `{0}`")]
    Unterminated(String),
    /// A value split at a space because it was not quoted.
    #[error("the value of `{0}` contains a space: put it in double quotes")]
    SplitValue(String),
    /// `all` together with other names.
    #[error("switch `{0}` mixes `all` with other names: give `all` alone, or only names")]
    AllMixed(String),
    /// `-password=` empty without TRANSIT_PASSWORD.
    #[error("`-password=` is empty: set the password in the TRANSIT_PASSWORD environment variable (for passwords with `\"` or other characters the command line cannot carry), or give `-password=VALUE`")]
    EmptyPassword,
}

/// The environment variable an empty `-password=` reads.
pub const PASSWORD_ENV: &str = "TRANSIT_PASSWORD";

/// The switches with every `-password=` value (and anything that looks like
/// the rest of a split password) replaced, for logs.
pub fn redact<S: AsRef<str>>(args: &[S]) -> Vec<String> {
    let mut out = Vec::new();
    let mut after_password = false;
    for arg in args {
        let arg = arg.as_ref();
        let lower = arg.to_ascii_lowercase();
        if lower.starts_with("-password=") {
            out.push("-password=<removed>".to_string());
            after_password = true;
        } else if after_password && !arg.starts_with('-') && !lower.eq("noprompt") {
            out.push("<removed>".to_string());
        } else {
            out.push(arg.to_string());
            after_password = false;
        }
    }
    out
}

/// Where a switch belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Export,
    Import,
    Both,
}

/// One known switch: its canonical spelling, whether it takes a value,
/// and which task it belongs to.
struct Switch {
    name: &'static str,
    takes_value: bool,
    scope: Scope,
}

const SWITCHES: &[Switch] = &[
    Switch {
        name: "-export",
        takes_value: false,
        scope: Scope::Export,
    },
    Switch {
        name: "-exportNodes",
        takes_value: true,
        scope: Scope::Export,
    },
    Switch {
        name: "-customHandlerPath",
        takes_value: true,
        scope: Scope::Export,
    },
    Switch {
        name: "-exportFolder",
        takes_value: true,
        scope: Scope::Export,
    },
    Switch {
        name: "-password",
        takes_value: true,
        scope: Scope::Both,
    },
    Switch {
        name: "-noprompt",
        takes_value: false,
        scope: Scope::Both,
    },
    Switch {
        name: "-import",
        takes_value: false,
        scope: Scope::Import,
    },
    Switch {
        name: "-importfile",
        takes_value: true,
        scope: Scope::Import,
    },
    Switch {
        name: "-importNodes",
        takes_value: true,
        scope: Scope::Import,
    },
    Switch {
        name: "-extractionfolder",
        takes_value: true,
        scope: Scope::Import,
    },
    Switch {
        name: "-importmode",
        takes_value: true,
        scope: Scope::Import,
    },
    Switch {
        name: "-devMode",
        takes_value: false,
        scope: Scope::Import,
    },
];

/// Parses the console's arguments (everything after `console`).
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<ConsoleCommand, ConsoleError> {
    let mut given: Vec<(&'static Switch, String, Option<String>)> = Vec::new();
    let mut previous_takes_value: Option<String> = None;
    for token in tokens(args)? {
        let (written, value) = match token.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(unquote(value))),
            None => (token.clone(), None),
        };
        let lookup = if written.eq_ignore_ascii_case("noprompt") {
            "-noprompt".to_string()
        } else {
            written.clone()
        };
        let Some(switch) = SWITCHES
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(&lookup))
        else {
            // A dashless word after a value is most likely the rest of an
            // unquoted value with a space; say so without repeating it.
            return Err(match previous_takes_value {
                Some(prev) if !written.starts_with('-') => ConsoleError::SplitValue(prev),
                _ => ConsoleError::Unknown(written),
            });
        };
        previous_takes_value = switch.takes_value.then(|| written.clone());
        match (&value, switch.takes_value) {
            (Some(_), false) => return Err(ConsoleError::UnexpectedValue(written)),
            (None, true) => return Err(ConsoleError::MissingValue(written)),
            // An empty `-password=` takes TRANSIT_PASSWORD (below).
            (Some(v), true) if v.is_empty() && switch.name != "-password" => {
                return Err(ConsoleError::MissingValue(written))
            }
            _ => {}
        }
        if given.iter().any(|(s, _, _)| std::ptr::eq(*s, switch)) {
            return Err(ConsoleError::Repeated(written));
        }
        given.push((switch, written, value));
    }
    let has = |name: &str| given.iter().any(|(s, _, _)| s.name == name);
    let scope = match (has("-export"), has("-import")) {
        (true, true) => return Err(ConsoleError::BothTasks),
        (false, false) => return Err(ConsoleError::NoTask),
        (true, false) => Scope::Export,
        (false, true) => Scope::Import,
    };
    let task_name = |s: Scope| {
        if s == Scope::Export {
            "-export"
        } else {
            "-import"
        }
    };
    for (switch, written, _) in &given {
        if switch.scope != Scope::Both && switch.scope != scope {
            return Err(ConsoleError::WrongTask {
                switch: written.clone(),
                belongs: task_name(switch.scope),
                task: task_name(scope),
            });
        }
    }
    let value = |name: &str| {
        given
            .iter()
            .find(|(s, _, _)| s.name == name)
            .and_then(|(_, w, v)| v.clone().map(|v| (w.clone(), v)))
    };
    let required = |name: &'static str| {
        value(name).map(|(_, v)| v).ok_or(ConsoleError::Required {
            switch: name,
            task: task_name(scope),
        })
    };
    let nodes = |name: &str| match value(name) {
        None => Ok(vec!["all".to_string()]),
        Some((written, list)) => node_list(&written, &list),
    };
    // A password with characters the shell or the quoting cannot carry
    // (such as `"`) comes from TRANSIT_PASSWORD when `-password=` is empty.
    let password = match value("-password") {
        None => None,
        Some((_, v)) if v.is_empty() => match std::env::var(PASSWORD_ENV) {
            Ok(p) if !p.is_empty() => Some(SecretString::from(p)),
            _ => return Err(ConsoleError::EmptyPassword),
        },
        Some((_, v)) => Some(SecretString::from(v)),
    };
    let task = match scope {
        Scope::Export => ConsoleTask::Export(ExportPlan {
            components: nodes("-exportNodes")?,
            handlers: value("-customHandlerPath").map(|(_, v)| PathBuf::from(v)),
            folder: PathBuf::from(required("-exportFolder")?),
            password,
            threads: None,
            // The vendor console skips the Dialer package creator under -noprompt.
            dialer_package: !has("-noprompt"),
        }),
        _ => ConsoleTask::Import(ImportPlan {
            force: false,
            file: PathBuf::from(required("-importfile")?),
            components: nodes("-importNodes")?,
            extract_to: PathBuf::from(required("-extractionfolder")?),
            password,
            mode: match value("-importmode") {
                None => ImportMode::Migration,
                Some((_, v)) if v.trim() == "0" => ImportMode::Migration,
                Some((_, v)) if v.trim() == "1" => ImportMode::Recovery,
                Some((written, _)) => return Err(ConsoleError::BadImportMode(written)),
            },
            restore_point: true,
            dev_mode: has("-devMode"),
            dry_run: false,
        }),
    };
    Ok(ConsoleCommand {
        task,
        noprompt: has("-noprompt"),
    })
}

/// Rejoins arguments that a quoted value was split across, and a lone `-`
/// with the dashless switch that follows it.
fn tokens<S: AsRef<str>>(args: &[S]) -> Result<Vec<String>, ConsoleError> {
    let mut out: Vec<String> = Vec::new();
    let mut open: Option<String> = None;
    let mut dash_pending = false;
    for arg in args {
        let arg = arg.as_ref();
        let joined = match open.take() {
            Some(mut partial) => {
                partial.push(' ');
                partial.push_str(arg);
                partial
            }
            None => arg.to_string(),
        };
        if joined.matches('"').count() % 2 == 1 {
            open = Some(joined);
            continue;
        }
        if joined.trim().is_empty() {
            continue;
        }
        if joined == "-" {
            dash_pending = true;
            continue;
        }
        if std::mem::take(&mut dash_pending) {
            if joined.starts_with('-') {
                return Err(ConsoleError::Unknown("-".into()));
            }
            out.push(format!("-{joined}"));
        } else {
            out.push(joined);
        }
    }
    if let Some(partial) = open {
        let switch = partial.split('=').next().unwrap_or("").to_string();
        return Err(ConsoleError::Unterminated(switch));
    }
    if dash_pending {
        return Err(ConsoleError::Unknown("-".into()));
    }
    Ok(out)
}

/// A value without its double quotes (they delimit; they are not data).
fn unquote(value: &str) -> String {
    value.replace('"', "")
}

/// A comma-separated node list; `all` in any case means every component.
fn node_list(switch: &str, list: &str) -> Result<Vec<String>, ConsoleError> {
    let names: Vec<String> = list.split(',').map(|n| n.trim().to_string()).collect();
    if names.iter().any(String::is_empty) {
        return Err(ConsoleError::EmptyNode(switch.to_string()));
    }
    if names.iter().any(|n| n.eq_ignore_ascii_case("all")) {
        if names.len() > 1 {
            return Err(ConsoleError::AllMixed(switch.to_string()));
        }
        return Ok(vec!["all".to_string()]);
    }
    Ok(names)
}

#[cfg(test)]
mod tests;
