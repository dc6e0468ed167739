//! Folder safety checks and file listing for an export.

use crate::error::{io_at, MigratorError, Result};
use std::path::{Component, Path, PathBuf};

/// Resolves `path` to an absolute, symlink-free path even when its last
/// parts do not exist yet: `.` and `..` are resolved lexically first, then
/// the nearest existing ancestor is canonicalised and the rest appended.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_err(io_at(path))?.join(path)
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

/// Refuses an export folder that is the server root or lies inside it,
/// then creates it if needed. The check runs again on the created folder's
/// real path (a `..` after a symlink resolves differently in the kernel);
/// if that fails, the folders just created are removed. Returns the
/// folder's real path.
pub fn prepare_export_folder(folder: &Path, root: &Path) -> Result<PathBuf> {
    let resolved = resolve(folder)?;
    let root = resolve(root)?;
    let inside = |folder: PathBuf| MigratorError::FolderInsideRoot {
        folder,
        root: root.clone(),
    };
    if resolved.starts_with(&root) {
        return Err(inside(resolved));
    }
    let created: Vec<PathBuf> = resolved
        .ancestors()
        .take_while(|p| !p.exists())
        .map(Path::to_path_buf)
        .collect();
    std::fs::create_dir_all(&resolved).map_err(io_at(&resolved))?;
    let real = resolved.canonicalize().map_err(io_at(&resolved))?;
    if real.starts_with(&root) {
        for dir in &created {
            let _ = std::fs::remove_dir(dir);
        }
        return Err(inside(real));
    }
    Ok(real)
}

/// One file to export: where it is and the path it gets in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileItem {
    /// The file on disk.
    pub source: PathBuf,
    /// The entry path inside the component's zip (`/`-separated).
    pub entry: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Lists a folder (with all its subfolders) or a single file, in a stable
/// order, naming each entry `prefix/relative/path`. A missing selection
/// yields nothing.
pub fn list_files(base: &Path, selector: &str, prefix: &str) -> Result<Vec<FileItem>> {
    let start = base.join(selector);
    let mut out = Vec::new();
    if start.is_file() {
        let size = start.metadata().map_err(io_at(&start))?.len();
        out.push(FileItem {
            entry: format!("{prefix}/{}", selector.trim_matches('/')),
            source: start,
            size,
        });
        return Ok(out);
    }
    if !start.is_dir() {
        return Ok(out);
    }
    let mut stack = vec![start];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(io_at(&dir))?
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(io_at(&dir))?;
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            let path = entry.path();
            let kind = entry.file_type().map_err(io_at(&path))?;
            if kind.is_dir() {
                subdirs.push(path);
            } else if kind.is_file() {
                let size = entry.metadata().map_err(io_at(&path))?.len();
                out.push(FileItem {
                    entry: entry_name(prefix, path.strip_prefix(base).unwrap_or(&path)),
                    source: path,
                    size,
                });
            }
            // Symlinks and special files are not configuration data.
        }
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(out)
}

fn entry_name(prefix: &str, relative: &Path) -> String {
    let mut name = prefix.to_string();
    for part in relative.components() {
        if let Component::Normal(p) = part {
            name.push('/');
            name.push_str(&p.to_string_lossy());
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_inside_root_is_refused_even_before_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("server");
        std::fs::create_dir_all(&root).unwrap();
        for bad in [
            root.clone(),
            root.join("files"),
            root.join("new/deeper"),
            root.join("x/../files"),
        ] {
            assert!(
                matches!(
                    prepare_export_folder(&bad, &root),
                    Err(MigratorError::FolderInsideRoot { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(
            !root.join("new").exists(),
            "a refused folder is not created"
        );
        let ok = prepare_export_folder(&dir.path().join("out/sub"), &root).unwrap();
        assert!(ok.is_dir());
    }

    #[test]
    fn a_symlink_into_the_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("server");
        std::fs::create_dir_all(root.join("files")).unwrap();
        let link = dir.path().join("sneaky");
        std::os::unix::fs::symlink(root.join("files"), &link).unwrap();
        assert!(matches!(
            prepare_export_folder(&link, &root),
            Err(MigratorError::FolderInsideRoot { .. })
        ));
    }

    #[test]
    fn listing_is_recursive_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a/z.txt", "a/b/c/d.txt", "a/b/a.txt", "a/m.txt"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f).unwrap();
        }
        let items = list_files(dir.path(), "a", "files").unwrap();
        let names: Vec<_> = items.iter().map(|i| i.entry.as_str()).collect();
        assert_eq!(
            names,
            [
                "files/a/m.txt",
                "files/a/z.txt",
                "files/a/b/a.txt",
                "files/a/b/c/d.txt"
            ]
        );
        assert_eq!(
            list_files(dir.path(), "a/m.txt", "files").unwrap()[0].entry,
            "files/a/m.txt"
        );
        assert!(list_files(dir.path(), "missing", "files")
            .unwrap()
            .is_empty());
    }
}
