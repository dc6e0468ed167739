//! `waves-base-language` on what the target already has. When a migration
//! renames the waves' language folders (`fr-fr` → `fr`), the target's own
//! `Waves/fr-fr` folder follows, so all waves of a language sit in one
//! place. (The target's own Attendant profiles need nothing: in migration
//! mode `attendant-overwrite` replaces them with the imported ones, whose
//! `Language` values the key rule renames.) The reference: "If you imported Interaction Attendant Data,
//! the import renamed the language folders in the
//! `InteractionAttendantWaves` folder to reflect the new naming
//! convention."
//!
//! The files move after the registry commits. The restore point keeps a
//! copy of each moved file (put back on rollback) and lists its new place
//! as created (removed on rollback), so a failure or a kill at any moment
//! rolls the move back with the rest of the import.

use crate::error::Result;
use crate::export::folders::list_files;
use crate::import::report::ComponentReport;
use std::collections::HashSet;
use std::path::Path;
use transit_catalog::Component;
use transit_core::IoContext;

/// The rule's ID.
const ID: &str = "waves-base-language";
/// The Attendant waves area, relative to the server root.
const WAVES: &str = "files/Resources/Attendant/Waves";

/// The component of `components` that carries the rule and holds the
/// waves (files).
pub(super) fn component<'c>(components: &[&'c Component]) -> Option<&'c Component> {
    components
        .iter()
        .copied()
        .find(|c| c.rules.iter().any(|r| r == ID) && !c.files.is_empty())
}

/// The target's own wave files to move.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct WaveMoves {
    /// Files to move (from, to), relative to the server root.
    pub(super) moves: Vec<(String, String)>,
    /// Folders renamed (from, to).
    pub(super) folders: Vec<(String, String)>,
    /// Files left where they are because the new place is taken (from, to).
    pub(super) left: Vec<(String, String)>,
}

/// The moves that rename the target's own `Waves/<lang>-<region>` folders
/// to `Waves/<lang>`.
pub(super) fn plan(root: &Path) -> Result<WaveMoves> {
    let mut out = WaveMoves::default();
    let waves = root.join(WAVES);
    let Ok(entries) = std::fs::read_dir(&waves) else {
        return Ok(out);
    };
    let mut folders: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.at(&waves)?;
        if !entry.file_type().at(entry.path())?.is_dir() {
            continue;
        }
        if let Some(name) = entry.file_name().to_str() {
            if name.contains('-') {
                folders.push(name.to_string());
            }
        }
    }
    folders.sort();
    // The places already taken by a planned move (a set: a large target
    // has thousands of waves, and a list made this quadratic).
    let mut taken: HashSet<String> = HashSet::new();
    for lang in folders {
        let base = lang
            .split_once('-')
            .map(|(b, _)| b.to_ascii_lowercase())
            .unwrap_or_default();
        let from_dir = format!("{WAVES}/{lang}");
        let to_dir = format!("{WAVES}/{base}");
        let mut moved_any = false;
        for item in list_files(root, &from_dir, "")? {
            let from = item.entry.trim_start_matches('/').to_string();
            let tail = from.strip_prefix(&format!("{from_dir}/")).unwrap_or(&from);
            let to = format!("{to_dir}/{tail}");
            if taken.contains(&to) || root.join(&to).exists() {
                out.left.push((from, to));
            } else {
                taken.insert(to.clone());
                out.moves.push((from, to));
                moved_any = true;
            }
        }
        if moved_any {
            out.folders.push((from_dir, to_dir));
        }
    }
    Ok(out)
}

/// Records the moves in the waves component's report: each folder renamed
/// and each file left where it is.
pub(super) fn report(moves: &WaveMoves, cr: &mut ComponentReport) {
    for (from, to) in &moves.folders {
        let files = moves
            .moves
            .iter()
            .filter(|(f, _)| f.starts_with(&format!("{from}/")))
            .count();
        cr.target_renamed.push((
            from.clone(),
            format!("→ {to} ({files} files of the target's own)"),
        ));
        *cr.rules.entry(ID.to_string()).or_default() += 1;
    }
    for (from, to) in &moves.left {
        cr.target_renamed
            .push((from.clone(), format!("left in place: {to} exists")));
    }
}

/// Moves the files (after the registry commit) and removes the folders
/// the move emptied.
pub(super) fn apply(root: &Path, moves: &WaveMoves) -> Result<()> {
    for (from, to) in &moves.moves {
        let (from, to) = (root.join(from), root.join(to));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).at(parent)?;
        }
        std::fs::rename(&from, &to).at(&from)?;
    }
    for (from, _) in &moves.folders {
        remove_empty_dirs(&root.join(from));
    }
    Ok(())
}

/// Removes `dir` and its subfolders, deepest first, where they are empty.
fn remove_empty_dirs(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_dirs(&entry.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, rel).unwrap();
    }

    #[test]
    fn region_folders_move_to_their_base_language_and_taken_places_are_left() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        touch(root, &format!("{WAVES}/fr-fr/a.wav"));
        touch(root, &format!("{WAVES}/fr-fr/sub/b.wav"));
        touch(root, &format!("{WAVES}/fr-fr/taken.wav"));
        touch(root, &format!("{WAVES}/fr/taken.wav"));
        touch(root, &format!("{WAVES}/de/c.wav"));
        let moves = plan(root).unwrap();
        assert_eq!(
            moves.moves,
            [
                (format!("{WAVES}/fr-fr/a.wav"), format!("{WAVES}/fr/a.wav")),
                (
                    format!("{WAVES}/fr-fr/sub/b.wav"),
                    format!("{WAVES}/fr/sub/b.wav")
                ),
            ]
        );
        assert_eq!(moves.left.len(), 1);
        apply(root, &moves).unwrap();
        assert!(root.join(format!("{WAVES}/fr/sub/b.wav")).is_file());
        assert!(!root.join(format!("{WAVES}/fr-fr/sub")).exists());
        // The file whose place was taken stays, so its folder does too.
        assert!(root.join(format!("{WAVES}/fr-fr/taken.wav")).is_file());
        assert_eq!(plan(root).unwrap().moves, []);
    }
}
