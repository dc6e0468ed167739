//! Checks on entry names taken from (possibly hostile) archives.

/// Whether `name` is a safe relative entry path: not empty, no NUL, not absolute
/// (`/x`), not backslash-rooted (`\x`), no drive letter or other `:` (`C:\x`,
/// alternate data streams), and no `.`/`..` or empty segment, where both `/` and
/// `\` count as separators. A single trailing `/` (a directory entry) is allowed.
pub fn is_safe_entry_path(name: &str) -> bool {
    if name.is_empty() || name.contains('\0') || name.contains(':') {
        return false;
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return false;
    }
    let body = name.strip_suffix('/').unwrap_or(name);
    if body.is_empty() {
        return false;
    }
    body.split(['/', '\\'])
        .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_relative_paths() {
        for ok in ["a", "a/b.txt", "dir/", "Users/ü x.reg", "a..b/c"] {
            assert!(is_safe_entry_path(ok), "{ok}");
        }
    }

    #[test]
    fn refuses_escapes() {
        for bad in [
            "",
            "/",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "\\x",
            "C:\\x",
            "C:x",
            "a\\..\\x",
            "a\0b",
            "a//b",
            "./a",
            "a/./b",
            "..",
        ] {
            assert!(!is_safe_entry_path(bad), "{bad:?}");
        }
    }
}
