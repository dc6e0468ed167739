//! Comparing a component's files by path, size and SHA-256.
//!
//! A server root's files are listed exactly as an export selects them
//! (the component's areas under `files/`, plus `files/Handlers/Custom` as
//! `handlers/…` for the custom-handlers component), so their names match
//! a migration file's entries. A migration file's sizes and hashes come
//! from its manifest: nothing is extracted. A root's file is hashed only
//! when the other side has a file of the same path and size; files of
//! different sizes differ without reading them.

use super::source::{Side, SideFiles};
use super::{FileChange, FileDiff, FileInfo, Result};
use crate::export::folders::list_files;
use crate::export::REGISTRY_ENTRY;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use transit_catalog::Component;
use transit_core::IoContext;
use transit_server::layout::files::CUSTOM_HANDLERS;

/// One file as a side lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The entry path (`files/…` or `handlers/…`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256, when known.
    pub sha256: Option<String>,
    /// Where to read it to hash it (a server root's file).
    pub source: Option<PathBuf>,
}

impl Listed {
    fn info(&self) -> FileInfo {
        FileInfo {
            size: self.size,
            sha256: self.sha256.clone(),
        }
    }
}

/// A component's files on one side, sorted by path.
pub(crate) fn list(side: &Side, component: &Component) -> Result<Vec<Listed>> {
    let mut out = Vec::new();
    match &side.files {
        SideFiles::Root(files_dir) => {
            let mut items = Vec::new();
            for selector in &component.files {
                items.extend(list_files(files_dir, selector, "files")?);
            }
            if component.custom_handlers {
                items.extend(list_files(
                    &files_dir.join(CUSTOM_HANDLERS),
                    "",
                    "handlers",
                )?);
            }
            out.extend(items.into_iter().map(|item| Listed {
                path: item.entry,
                size: item.size,
                sha256: None,
                source: Some(item.source),
            }));
        }
        SideFiles::Manifest(records) => {
            if let Some(record) = records.iter().find(|r| r.id == component.id) {
                out.extend(
                    record
                        .entries
                        .iter()
                        .filter(|e| e.path != REGISTRY_ENTRY)
                        .map(|e| Listed {
                            path: e.path.clone(),
                            size: e.size,
                            sha256: Some(e.sha256.clone()),
                            source: None,
                        }),
                );
            }
        }
        SideFiles::None => {}
    }
    out.sort_by(|x, y| x.path.cmp(&y.path));
    out.dedup_by(|x, y| x.path == y.path);
    Ok(out)
}

/// Where a path is found.
enum Pair {
    OnlyA(usize),
    OnlyB(usize),
    Both(usize, usize),
}

/// Compares two sorted file lists, calling `emit` with each difference in
/// path order. Hashes the root files it needs on up to `threads` threads.
pub fn compare(
    mut a: Vec<Listed>,
    mut b: Vec<Listed>,
    threads: usize,
    emit: &mut dyn FnMut(FileDiff) -> Result<()>,
) -> Result<()> {
    let (mut i, mut j) = (0, 0);
    let mut pairs = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.path.cmp(&y.path),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                pairs.push(Pair::OnlyA(i));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                pairs.push(Pair::OnlyB(j));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                pairs.push(Pair::Both(i, j));
                i += 1;
                j += 1;
            }
        }
    }
    // Hash what is needed: same path and size, hash unknown.
    let mut jobs: Vec<(bool, usize, PathBuf)> = Vec::new();
    for pair in &pairs {
        if let Pair::Both(i, j) = *pair {
            if a[i].size != b[j].size {
                continue;
            }
            for (is_a, list, k) in [(true, &a, i), (false, &b, j)] {
                if let (None, Some(source)) = (&list[k].sha256, &list[k].source) {
                    jobs.push((is_a, k, source.clone()));
                }
            }
        }
    }
    for ((is_a, k, _), hash) in jobs.iter().zip(hash_all(&jobs, threads)?) {
        let list = if *is_a { &mut a } else { &mut b };
        list[*k].sha256 = Some(hash);
    }
    for pair in pairs {
        let diff = match pair {
            Pair::OnlyA(i) => FileDiff {
                path: a[i].path.clone(),
                change: FileChange::Removed(a[i].info()),
            },
            Pair::OnlyB(j) => FileDiff {
                path: b[j].path.clone(),
                change: FileChange::Added(b[j].info()),
            },
            Pair::Both(i, j) => {
                if a[i].size == b[j].size && a[i].sha256 == b[j].sha256 {
                    continue;
                }
                FileDiff {
                    path: a[i].path.clone(),
                    change: FileChange::Changed {
                        old: a[i].info(),
                        new: b[j].info(),
                    },
                }
            }
        };
        emit(diff)?;
    }
    Ok(())
}

/// Hashes every job's file, in job order, on up to `threads` threads; the
/// first failure (in job order) is the error.
fn hash_all(jobs: &[(bool, usize, PathBuf)], threads: usize) -> Result<Vec<String>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<String>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    let work = || loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let Some((_, _, path)) = jobs.get(n) else {
            break;
        };
        let hash = sha256_file(path);
        results.lock().expect("results lock")[n] = Some(hash);
    };
    let threads = threads.clamp(1, jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|r| r.expect("every job runs"))
        .collect()
}

/// The lowercase hex SHA-256 of a file, as the manifest records it.
pub fn sha256_file(path: &Path) -> Result<String> {
    Ok(transit_archive::sha256_file(path).at(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_hash_is_reported_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone");
        let jobs = vec![(true, 0, missing.clone())];
        match hash_all(&jobs, 2) {
            Err(crate::diff::DiffError::Io(e)) => assert_eq!(e.path(), missing),
            other => panic!("{other:?}"),
        }
    }
}
