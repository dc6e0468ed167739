//! Update states (Pre-Approval, Inactive, GA, Remove) and their rules.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use transit_core::{ErrorKind, Kind};

/// The current state of an update on the provider; clients read it at
/// every check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UpdateState {
    /// Ingested and awaiting approval: never offered (the default).
    #[serde(rename = "Pre-Approval")]
    PreApproval,
    /// Old or obsolete: never offered.
    Inactive,
    /// Generally available: offered to machines with the application.
    #[serde(rename = "GA")]
    Ga,
    /// Removed from machines at their next check-in: rolled back to the
    /// previous version, or uninstalled when there is none.
    Remove,
}

impl UpdateState {
    /// Every state, in the console's order.
    pub const ALL: [UpdateState; 4] = [
        UpdateState::PreApproval,
        UpdateState::Inactive,
        UpdateState::Ga,
        UpdateState::Remove,
    ];

    /// The state a freshly ingested update gets.
    pub const DEFAULT: UpdateState = UpdateState::PreApproval;

    /// Whether an administrator may move an update from `self` to `to`.
    /// Every change is allowed except into Remove from anything but GA
    /// (only an update that was pushed out can be removed from machines).
    pub fn change_to(self, to: UpdateState) -> Result<UpdateState, StateError> {
        if to == UpdateState::Remove && !matches!(self, UpdateState::Ga | UpdateState::Remove) {
            return Err(StateError::RemoveNeedsGa { from: self });
        }
        Ok(to)
    }
}

impl fmt::Display for UpdateState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UpdateState::PreApproval => "Pre-Approval",
            UpdateState::Inactive => "Inactive",
            UpdateState::Ga => "GA",
            UpdateState::Remove => "Remove",
        })
    }
}

impl FromStr for UpdateState {
    type Err = StateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let folded: String = text
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        Ok(match folded.as_str() {
            "preapproval" => UpdateState::PreApproval,
            "inactive" => UpdateState::Inactive,
            "ga" => UpdateState::Ga,
            "remove" => UpdateState::Remove,
            _ => return Err(StateError::Unknown(text.to_string())),
        })
    }
}

/// A state change that is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Not a state name.
    #[error("`{0}` is not a state (Pre-Approval, Inactive, GA, Remove)")]
    Unknown(String),
    /// Remove applies only to an update that is GA.
    #[error("only a GA update can be marked Remove (this one is {from})")]
    RemoveNeedsGa {
        /// The current state.
        from: UpdateState,
    },
}

impl Kind for StateError {
    fn kind(&self) -> ErrorKind {
        match self {
            StateError::Unknown(_) => ErrorKind::Usage,
            StateError::RemoveNeedsGa { .. } => ErrorKind::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use UpdateState::*;

    #[test]
    fn state_changes_table() {
        // (from, to, allowed)
        let table = [
            (PreApproval, Ga, true),
            (PreApproval, Inactive, true),
            (PreApproval, Remove, false),
            (Inactive, Ga, true),
            (Inactive, Remove, false),
            (Ga, Inactive, true),
            (Ga, Remove, true),
            (Ga, PreApproval, true),
            (Remove, Ga, true),
            (Remove, Remove, true),
        ];
        for (from, to, allowed) in table {
            assert_eq!(from.change_to(to).is_ok(), allowed, "{from} -> {to}");
        }
        assert_eq!(UpdateState::DEFAULT, PreApproval);
    }

    #[test]
    fn names_round_trip() {
        for state in UpdateState::ALL {
            assert_eq!(state.to_string().parse::<UpdateState>().unwrap(), state);
        }
        assert_eq!("pre-approval".parse::<UpdateState>().unwrap(), PreApproval);
        assert_eq!("ga".parse::<UpdateState>().unwrap(), Ga);
        assert!("approved".parse::<UpdateState>().is_err());
    }
}
