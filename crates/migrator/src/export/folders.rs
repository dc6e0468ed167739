//! Folder safety checks and file listing for an export.

use crate::error::Result;
use std::path::{Component, Path, PathBuf};
use transit_core::IoContext;

/// The export folder's real path, created if needed; refused when it is
/// the server root or inside it (the shared rule of
/// [`transit_core::paths::create_outside_root`]).
pub fn prepare_export_folder(folder: &Path, root: &Path) -> Result<PathBuf> {
    Ok(transit_core::paths::create_outside_root(
        folder,
        root,
        "export folder",
    )?)
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
        let size = start.metadata().at(&start)?.len();
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
            .at(&dir)?
            .collect::<std::io::Result<Vec<_>>>()
            .at(&dir)?;
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            let path = entry.path();
            let kind = entry.file_type().at(&path)?;
            if kind.is_dir() {
                subdirs.push(path);
            } else if kind.is_file() {
                let size = entry.metadata().at(&path)?.len();
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
                    Err(crate::MigratorError::Folder(
                        transit_core::paths::PathCheckError::InsideRoot { .. }
                    ))
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
            Err(crate::MigratorError::Folder(
                transit_core::paths::PathCheckError::InsideRoot { .. }
            ))
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
