//! Retention for scheduled exports: keep the newest K migration files of
//! one server in a folder, and never touch anything else.
//!
//! A file belongs to the server when its name is exactly
//! `<ServerName>_<MMDDYYYYhhmmss>.ininmigr` with a valid date and time, and
//! it is a regular file (not a symlink or a folder). "Newest" is decided by
//! the stamp in the name, which the export writes in UTC, not by the file's
//! modification time, which copies and restores change.

use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use transit_core::IoContext;

/// How many of the newest files (or restore points) to keep: at least one.
/// The one `--keep` type of `export`, `schedule add` and
/// `restore-points prune`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Keep(NonZeroUsize);

impl Keep {
    /// The count.
    pub fn get(self) -> usize {
        self.0.get()
    }
}

impl TryFrom<u32> for Keep {
    type Error = String;

    fn try_from(n: u32) -> Result<Keep, String> {
        NonZeroUsize::new(n as usize)
            .map(Keep)
            .ok_or_else(|| format!("{n}: keep at least 1 (K is how many of the newest are kept)"))
    }
}

impl From<Keep> for u32 {
    fn from(keep: Keep) -> u32 {
        u32::try_from(keep.get()).unwrap_or(u32::MAX)
    }
}

impl std::str::FromStr for Keep {
    type Err = String;

    fn from_str(text: &str) -> Result<Keep, String> {
        let n: i64 = text
            .trim()
            .parse()
            .map_err(|_| format!("{text}: expected a whole number K >= 1"))?;
        u32::try_from(n)
            .map_err(|_| format!("{n}: keep at least 1 (K is how many of the newest are kept)"))
            .and_then(Keep::try_from)
    }
}

impl std::fmt::Display for Keep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What retention kept and deleted, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    /// The server's migration files that stay.
    pub kept: Vec<PathBuf>,
    /// The server's migration files that were deleted.
    pub deleted: Vec<PathBuf>,
}

/// Deletes all but the newest `keep` migration files of `server_name` in
/// `folder`. Other files, other servers' files and anything whose name
/// does not parse are left alone. `just_written`, the export that triggered
/// retention, is always kept and counts toward `keep`, even when files
/// named with a later stamp exist (a clock stepped back, copied-in files).
pub fn apply(
    folder: &Path,
    server_name: &str,
    keep: Keep,
    just_written: Option<&Path>,
) -> Result<Retention> {
    let mut ours: Vec<(Stamp, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(folder).at(folder)? {
        let entry = entry.at(folder)?;
        let Some(stamp) = entry
            .file_name()
            .to_str()
            .and_then(|name| stamp_of(name, server_name))
        else {
            continue;
        };
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).at(&path)?;
        if meta.file_type().is_file() {
            ours.push((stamp, path));
        }
    }
    ours.sort_by(|a, b| b.cmp(a));
    // The new export goes first, whatever its stamp.
    if let Some(new) = just_written.and_then(|p| p.file_name()) {
        if let Some(at) = ours.iter().position(|(_, p)| p.file_name() == Some(new)) {
            let entry = ours.remove(at);
            ours.insert(0, entry);
        }
    }
    let mut outcome = Retention::default();
    for (index, (_, path)) in ours.into_iter().enumerate() {
        if index < keep.get() {
            outcome.kept.push(path);
        } else {
            std::fs::remove_file(&path).at(&path)?;
            tracing::info!(file = %path.display(), "retention deleted an old migration file");
            outcome.deleted.push(path);
        }
    }
    Ok(outcome)
}

/// The stamp of `<server>_<MMDDYYYYhhmmss>.ininmigr`, if `name` is exactly
/// that for this server (the server name compared exactly, letter case
/// included, so another server's files are never touched).
fn stamp_of(name: &str, server_name: &str) -> Option<Stamp> {
    let rest = name
        .strip_suffix(transit_archive::EXTENSION)?
        .strip_suffix('.')?;
    let (server, digits) = rest.rsplit_once('_')?;
    if server != server_name {
        return None;
    }
    transit_core::time::parse_file_stamp(digits)
}

/// A file-name stamp, ordered by time.
type Stamp = transit_core::time::OffsetDateTime;

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str) {
        std::fs::write(dir.join(name), name).unwrap();
    }

    fn names(paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn parses_only_this_servers_well_formed_names() {
        assert_eq!(
            stamp_of("CIC01_11232026130501.ininmigr", "CIC01").map(transit_core::time::rfc3339),
            Some("2026-11-23T13:05:01Z".to_string())
        );
        assert!(stamp_of("cic01_11232026130501.ininmigr", "CIC01").is_none());
        for other in [
            "CIC02_11232026130501.ininmigr",
            "CIC01_1123202613050.ininmigr",
            "CIC01_13232026130501.ininmigr",
            "CIC01_11232026250501.ininmigr",
            "CIC01_11232026130501.ininmigr.partial-x",
            "CIC01_11232026130501.zip",
            "CIC01_x1232026130501.ininmigr",
            "CIC01.ininmigr",
            "notes.txt",
        ] {
            assert_eq!(stamp_of(other, "CIC01"), None, "{other}");
        }
        // A server name with an underscore still splits at the last one.
        assert!(stamp_of("CIC_A_01012025000000.ininmigr", "CIC_A").is_some());
    }

    #[test]
    fn keeps_the_newest_by_stamp_across_years_and_leaves_the_rest_alone() {
        let dir = tempfile::tempdir().unwrap();
        // Lexical order of MMDDYYYY differs from time order: 12…2025 sorts
        // after 01…2026 as text but is older.
        for name in [
            "CIC01_12312025235959.ininmigr",
            "CIC01_01012026000000.ininmigr",
            "CIC01_06152026120000.ininmigr",
            "CIC01_11232026130501.ininmigr",
            "CIC02_01012020000000.ininmigr",
            "readme.txt",
            "CIC01_bad.ininmigr",
        ] {
            touch(dir.path(), name);
        }
        std::fs::create_dir(dir.path().join("CIC01_01011999000000.ininmigr")).unwrap();
        let outcome = apply(dir.path(), "CIC01", Keep::try_from(2).unwrap(), None).unwrap();
        assert_eq!(
            names(&outcome.kept),
            [
                "CIC01_11232026130501.ininmigr",
                "CIC01_06152026120000.ininmigr"
            ]
        );
        assert_eq!(
            names(&outcome.deleted),
            [
                "CIC01_01012026000000.ininmigr",
                "CIC01_12312025235959.ininmigr"
            ]
        );
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "CIC01_01011999000000.ininmigr",
                "CIC01_06152026120000.ininmigr",
                "CIC01_11232026130501.ininmigr",
                "CIC01_bad.ininmigr",
                "CIC02_01012020000000.ininmigr",
                "readme.txt",
            ]
        );
    }

    #[test]
    fn the_new_export_survives_files_stamped_later() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "CIC01_01012030000000.ininmigr",
            "CIC01_11232026130501.ininmigr",
            "CIC01_01012020000000.ininmigr",
        ] {
            touch(dir.path(), name);
        }
        let new = dir.path().join("CIC01_11232026130501.ininmigr");
        let outcome = apply(dir.path(), "CIC01", Keep::try_from(1).unwrap(), Some(&new)).unwrap();
        assert_eq!(names(&outcome.kept), ["CIC01_11232026130501.ininmigr"]);
        assert_eq!(
            names(&outcome.deleted),
            [
                "CIC01_01012030000000.ininmigr",
                "CIC01_01012020000000.ininmigr"
            ]
        );
        assert!(new.exists());
    }

    #[cfg(unix)]
    #[test]
    fn never_follows_or_deletes_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        touch(elsewhere.path(), "precious");
        std::os::unix::fs::symlink(
            elsewhere.path().join("precious"),
            dir.path().join("CIC01_01012020000000.ininmigr"),
        )
        .unwrap();
        touch(dir.path(), "CIC01_01012026000000.ininmigr");
        let outcome = apply(dir.path(), "CIC01", Keep::try_from(1).unwrap(), None).unwrap();
        assert!(outcome.deleted.is_empty());
        assert!(elsewhere.path().join("precious").exists());
        assert!(dir
            .path()
            .join("CIC01_01012020000000.ininmigr")
            .is_symlink());
    }
}
