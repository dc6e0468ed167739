//! Key paths: backslash-separated, case-insensitive, case-preserving.

use std::fmt;

/// Why a string is not a valid key path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path is empty (use [`KeyPath::root`] for the root key).
    #[error("key path is empty")]
    Empty,
    /// Two backslashes in a row, or a leading or trailing backslash.
    #[error("key path `{path}` has an empty segment")]
    EmptySegment {
        /// The offending path.
        path: String,
    },
    /// A segment contains a control character, which no key name may hold.
    #[error("key path `{path}` contains a control character")]
    ControlChar {
        /// The offending path.
        path: String,
    },
}

/// A key's path below the registry root, such as
/// `EIC\Directory Services\Root`.
///
/// The registry root (`HKEY_LOCAL_MACHINE\SOFTWARE\Interactive Intelligence`)
/// is the empty path, [`KeyPath::root`]. Comparison and hashing are
/// case-insensitive; [`Display`](fmt::Display) gives the preserved case.
#[derive(Clone, Default)]
pub struct KeyPath {
    segments: Vec<String>,
}

/// The byte that separates segments in a [`KeyPath::sort_key`]. It sorts
/// below every character a key name may contain, so ordering by sort key is
/// a depth-first walk with siblings in regedit's order (upper-cased names).
pub const SORT_SEPARATOR: char = '\u{1}';

impl KeyPath {
    /// The registry root.
    pub fn root() -> KeyPath {
        KeyPath::default()
    }

    /// Parses a backslash-separated path. The empty string is an error; a
    /// leading or trailing backslash or `\\` is an empty segment.
    pub fn parse(text: &str) -> Result<KeyPath, PathError> {
        if text.is_empty() {
            return Err(PathError::Empty);
        }
        let mut segments = Vec::new();
        for seg in text.split('\\') {
            if seg.is_empty() {
                return Err(PathError::EmptySegment { path: text.into() });
            }
            if seg.chars().any(char::is_control) {
                return Err(PathError::ControlChar { path: text.into() });
            }
            segments.push(seg.to_owned());
        }
        Ok(KeyPath { segments })
    }

    /// Parses a path where the empty string means the root.
    pub fn parse_or_root(text: &str) -> Result<KeyPath, PathError> {
        if text.is_empty() {
            Ok(KeyPath::root())
        } else {
            KeyPath::parse(text)
        }
    }

    /// True for the registry root.
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The segments, in preserved case.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The last segment (the key's own name); `None` for the root.
    pub fn name(&self) -> Option<&str> {
        self.segments.last().map(String::as_str)
    }

    /// The parent path; `None` for the root.
    pub fn parent(&self) -> Option<KeyPath> {
        if self.is_root() {
            return None;
        }
        Some(KeyPath {
            segments: self.segments[..self.segments.len() - 1].to_vec(),
        })
    }

    /// This path with one more segment. Fails on an empty or invalid name.
    pub fn join(&self, name: &str) -> Result<KeyPath, PathError> {
        let child = KeyPath::parse(name)?;
        let mut segments = self.segments.clone();
        segments.extend(child.segments);
        Ok(KeyPath { segments })
    }

    /// True when `self` is `other` or lies below it (case-insensitively).
    pub fn starts_with(&self, other: &KeyPath) -> bool {
        other.segments.len() <= self.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|(a, b)| fold(a) == fold(b))
    }

    /// Replaces the prefix `from` with `to`; `None` when `from` is not a prefix.
    pub fn rebase(&self, from: &KeyPath, to: &KeyPath) -> Option<KeyPath> {
        if !self.starts_with(from) {
            return None;
        }
        let mut segments = to.segments.clone();
        segments.extend_from_slice(&self.segments[from.segments.len()..]);
        Some(KeyPath { segments })
    }

    /// The case-folded key the store sorts and matches on: folded segments
    /// joined by [`SORT_SEPARATOR`]. The root's sort key is empty.
    pub fn sort_key(&self) -> String {
        let mut out = String::new();
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                out.push(SORT_SEPARATOR);
            }
            out.push_str(&fold(seg));
        }
        out
    }

    /// Rebuilds a path from its stored, case-preserved text.
    pub(crate) fn from_stored(text: &str) -> KeyPath {
        if text.is_empty() {
            return KeyPath::root();
        }
        KeyPath {
            segments: text.split('\\').map(str::to_owned).collect(),
        }
    }
}

/// Case-folds a key or value name the way the store compares names, and
/// the way regedit orders sibling keys: upper-cased character by character
/// with the simple (one-to-one) mapping, as Windows does, so `ß` stays `ß`
/// and `_` (after `Z`) sorts after every letter.
pub fn fold(name: &str) -> String {
    if name.is_ascii() {
        name.to_ascii_uppercase()
    } else {
        name.chars().map(upcase).collect()
    }
}

/// The simple upper-case mapping of one character: itself when Unicode
/// maps it to several characters (`ß` → `SS`) or to none.
fn upcase(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

impl PartialEq for KeyPath {
    fn eq(&self, other: &Self) -> bool {
        self.segments.len() == other.segments.len() && self.starts_with(other)
    }
}

impl Eq for KeyPath {}

impl std::hash::Hash for KeyPath {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.sort_key().hash(state)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("\\"))
    }
}

impl fmt::Debug for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPath({self})")
    }
}

impl std::str::FromStr for KeyPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyPath::parse(s)
    }
}

impl transit_core::Kind for PathError {
    fn kind(&self) -> transit_core::ErrorKind {
        transit_core::ErrorKind::Usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_empty_and_empty_segments() {
        assert_eq!(KeyPath::parse(""), Err(PathError::Empty));
        for bad in ["a\\\\b", "\\a", "a\\"] {
            assert!(matches!(
                KeyPath::parse(bad),
                Err(PathError::EmptySegment { .. })
            ));
        }
        assert!(matches!(
            KeyPath::parse("a\nb"),
            Err(PathError::ControlChar { .. })
        ));
    }

    #[test]
    fn comparison_ignores_case_but_display_preserves_it() {
        let a = KeyPath::parse("EIC\\Directory Services").unwrap();
        let b = KeyPath::parse("eic\\DIRECTORY services").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "EIC\\Directory Services");
        assert_eq!(a.sort_key(), b.sort_key());
    }

    #[test]
    fn sort_key_orders_depth_first() {
        let parent = KeyPath::parse("a").unwrap();
        let child = KeyPath::parse("a\\z").unwrap();
        let sibling = KeyPath::parse("a!").unwrap();
        assert!(parent.sort_key() < child.sort_key());
        assert!(child.sort_key() < sibling.sort_key());
    }

    #[test]
    fn siblings_sort_as_regedit_does() {
        // regedit compares upper-cased names: `_` and `` ` `` come after
        // every letter, `{` after those; case never matters.
        let mut names = ["key`", "Key_1", "keyb", "KEYA", "Key{", "Key1"];
        names.sort_by_key(|n| KeyPath::parse(n).unwrap().sort_key());
        assert_eq!(names, ["Key1", "KEYA", "keyb", "Key_1", "key`", "Key{"]);
    }

    #[test]
    fn folding_is_one_character_for_one() {
        assert_eq!(fold("straße"), "STRAßE");
        assert_eq!(fold("Ärger_x"), "ÄRGER_X");
        assert_ne!(
            KeyPath::parse("straße").unwrap(),
            KeyPath::parse("STRASSE").unwrap()
        );
    }

    #[test]
    fn rebase_and_parent() {
        let p = KeyPath::parse("A\\B\\C").unwrap();
        let from = KeyPath::parse("a\\b").unwrap();
        let to = KeyPath::parse("X").unwrap();
        assert_eq!(p.rebase(&from, &to).unwrap().to_string(), "X\\C");
        assert_eq!(p.parent().unwrap().to_string(), "A\\B");
        assert!(KeyPath::root().parent().is_none());
    }
}
