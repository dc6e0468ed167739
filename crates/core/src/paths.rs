//! Path resolution and the "outside the server root" rule.
//!
//! Export folders, extraction folders, schedules and the wizard all refuse
//! a folder that is the server root or lies inside it, through
//! [`check_outside_root`], so the same refusal reads the same everywhere
//! and gives the same exit code ([`ErrorKind::Refused`]).

use crate::error::{ErrorKind, IoContext, Kind, PathIoError};
use std::path::{Component, Path, PathBuf};

/// Why a folder was refused.
#[derive(Debug, thiserror::Error)]
pub enum PathCheckError {
    /// The folder is the server root or inside it.
    #[error("{what} {} is inside the server root {}: choose a folder outside it", .path.display(), .root.display())]
    InsideRoot {
        /// What the folder is for ("export folder", "extraction folder").
        what: &'static str,
        /// The folder, resolved.
        path: PathBuf,
        /// The server root, resolved.
        root: PathBuf,
    },
    /// Resolving or creating the folder failed.
    #[error(transparent)]
    Io(#[from] PathIoError),
}

impl Kind for PathCheckError {
    fn kind(&self) -> ErrorKind {
        match self {
            PathCheckError::InsideRoot { .. } => ErrorKind::Refused,
            PathCheckError::Io(e) => e.kind(),
        }
    }
}

/// Resolves `path` to an absolute, symlink-free path even when its last
/// parts do not exist yet: `.` and `..` are resolved lexically first, then
/// the nearest existing ancestor is canonicalised and the rest appended.
pub fn resolve(path: &Path) -> Result<PathBuf, PathIoError> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().at(path)?.join(path)
    };
    let mut normal = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other.as_os_str()),
        }
    }
    let mut existing = normal.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let mut out = canonical;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Ok(out);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return Ok(normal),
        }
    }
}

/// Refuses `folder` when it is `root` or lies inside it (after resolving
/// `..` and symlinks on both); returns the folder's resolved path.
/// `what` names the folder in the message ("export folder").
pub fn check_outside_root(
    folder: &Path,
    root: &Path,
    what: &'static str,
) -> Result<PathBuf, PathCheckError> {
    let resolved = resolve(folder)?;
    let root = resolve(root)?;
    if resolved.starts_with(&root) {
        return Err(PathCheckError::InsideRoot {
            what,
            path: resolved,
            root,
        });
    }
    Ok(resolved)
}

/// [`check_outside_root`], then creates the folder if needed and checks
/// its real path again (a `..` after a symlink resolves differently in the
/// kernel); if that second check fails, the folders just created are
/// removed. Returns the folder's real path.
pub fn create_outside_root(
    folder: &Path,
    root: &Path,
    what: &'static str,
) -> Result<PathBuf, PathCheckError> {
    let resolved = check_outside_root(folder, root, what)?;
    let root = resolve(root)?;
    let created: Vec<PathBuf> = resolved
        .ancestors()
        .take_while(|p| !p.exists())
        .map(Path::to_path_buf)
        .collect();
    std::fs::create_dir_all(&resolved).at(&resolved)?;
    let real = resolved.canonicalize().at(&resolved)?;
    if real.starts_with(&root) {
        for dir in &created {
            let _ = std::fs::remove_dir(dir);
        }
        return Err(PathCheckError::InsideRoot {
            what,
            path: real,
            root,
        });
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_root_and_folders_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        for inside in [
            root.clone(),
            root.join("exports"),
            root.join("a/../b"),
            dir.path().join("x/../root/y"),
        ] {
            let err = check_outside_root(&inside, &root, "export folder").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Refused, "{}", inside.display());
            assert!(err.to_string().starts_with("export folder "));
        }
        let outside = dir.path().join("exports");
        assert_eq!(
            check_outside_root(&outside, &root, "export folder").unwrap(),
            resolve(&outside).unwrap()
        );
    }

    #[test]
    fn a_symlink_into_the_root_is_inside() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("files")).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(root.join("files"), &link).unwrap();
        assert!(check_outside_root(&link.join("new"), &root, "x").is_err());
        let made = create_outside_root(&dir.path().join("a/b"), &root, "x").unwrap();
        assert!(made.is_dir());
    }
}
