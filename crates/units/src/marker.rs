//! The metadata line that marks a unit as Transit's: `# <tag>: {json}`.
//!
//! Whatever wrote the unit serialises its own description into the line;
//! reading it back both identifies the unit and restores the description.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The marker line for `value` under `tag` (such as `transit-schedule`).
pub fn line<T: Serialize>(tag: &str, value: &T) -> String {
    format!(
        "# {tag}: {}",
        serde_json::to_string(value).expect("unit metadata serialises")
    )
}

/// The value marked with `tag` in a unit's text, if there is one that
/// parses as `T`.
pub fn read<T: DeserializeOwned>(tag: &str, text: &str) -> Option<T> {
    let prefix = format!("# {tag}: ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|json| serde_json::from_str(json).ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn marked_values_read_back_and_others_do_not() {
        let line = super::line("transit-x", &vec![1, 2]);
        let text = format!("[Unit]\n{line}\nDescription=x\n");
        assert_eq!(
            super::read::<Vec<i32>>("transit-x", &text),
            Some(vec![1, 2])
        );
        assert_eq!(super::read::<Vec<i32>>("transit-y", &text), None);
        assert_eq!(super::read::<String>("transit-x", &text), None);
    }
}
