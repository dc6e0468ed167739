//! Streaming one side's keys of a region in sort-key order.
//!
//! A region is a subtree minus some excluded subtrees (the `(other
//! registry)` group is the whole tree minus every component's subtree).
//! Excluded subtrees are never read: the walk descends key by key only
//! along the ancestors of an excluded subtree and streams every other
//! subtree whole with [`RegistryRead::walk`], a page at a time.
//!
//! Sorting by [`KeyPath::sort_key`] is a depth-first walk with siblings in
//! case-insensitive order, and [`RegistryRead::subkeys`] lists children in
//! that order, so the stitched stream stays in sort-key order.

use super::merge::KeyEntry;
use super::{DiffError, Result};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender};
use transit_registry::path::SORT_SEPARATOR;
use transit_registry::{KeyPath, RegistryRead, SubtreeIter};

/// Work left to do, innermost last.
enum Work<'r> {
    /// A subtree with nothing excluded inside: streamed as is.
    Whole(SubtreeIter<'r>),
    /// A key with an excluded subtree somewhere below: emitted alone, then
    /// its children are scheduled one by one.
    Partial(KeyPath),
}

/// The keys of one region of one side, as [`KeyEntry`]s relative to the
/// region's top, in sort-key order.
pub struct RegionWalk<'r> {
    reader: &'r dyn RegistryRead,
    /// Errors name this file.
    origin: &'r Path,
    /// Segments of the top key.
    top_len: usize,
    /// Bytes of the top key's sort key.
    top_sort_len: usize,
    /// Sort keys of the excluded subtrees.
    excluded: Vec<String>,
    stack: Vec<Work<'r>>,
    failed: bool,
}

impl<'r> RegionWalk<'r> {
    /// Walks the subtree at `top` (nothing when it is `None` or missing),
    /// leaving out the subtrees at `excluded`. Errors name `origin`.
    pub fn new(
        reader: &'r dyn RegistryRead,
        origin: &'r Path,
        top: Option<&KeyPath>,
        excluded: &[KeyPath],
    ) -> RegionWalk<'r> {
        let mut walk = RegionWalk {
            reader,
            origin,
            top_len: 0,
            top_sort_len: 0,
            excluded: excluded.iter().map(KeyPath::sort_key).collect(),
            stack: Vec::new(),
            failed: false,
        };
        if let Some(top) = top {
            walk.top_len = top.segments().len();
            walk.top_sort_len = top.sort_key().len();
            if let Some(work) = walk.schedule(top.clone()) {
                walk.stack.push(work);
            }
        }
        walk
    }

    /// How to visit `path`: skipped when excluded, key by key when an
    /// excluded subtree lies below it, else streamed whole.
    fn schedule(&self, path: KeyPath) -> Option<Work<'r>> {
        let sort = path.sort_key();
        if self.excluded.contains(&sort) {
            return None;
        }
        let below = |e: &String| {
            if sort.is_empty() {
                !e.is_empty()
            } else {
                e.len() > sort.len()
                    && e.starts_with(&sort)
                    && e[sort.len()..].starts_with(SORT_SEPARATOR)
            }
        };
        if self.excluded.iter().any(below) {
            Some(Work::Partial(path))
        } else {
            Some(Work::Whole(self.reader.walk(&path)))
        }
    }

    fn entry(&self, path: KeyPath, values: Vec<transit_registry::NamedValue>) -> KeyEntry {
        let sort = path.sort_key()[self.top_sort_len..].to_string();
        let name = path.segments()[self.top_len..].join("\\");
        KeyEntry { sort, name, values }
    }

    fn step(&mut self) -> Result<Option<KeyEntry>> {
        let map = DiffError::registry(self.origin);
        while let Some(work) = self.stack.pop() {
            match work {
                Work::Whole(mut iter) => {
                    if let Some(record) = iter.next() {
                        let record = record.map_err(&map)?;
                        self.stack.push(Work::Whole(iter));
                        return Ok(Some(self.entry(record.path, record.values)));
                    }
                }
                Work::Partial(path) => {
                    // The stored case of the path, and whether it exists.
                    let Some(stored) = self.reader.stored_path(&path).map_err(&map)? else {
                        continue;
                    };
                    let values = self.reader.values(&stored).map_err(&map)?;
                    let children = self.reader.subkeys(&stored).map_err(&map)?;
                    for child in children.iter().rev() {
                        let child = stored.join(child).map_err(|e| map(e.into()))?;
                        if let Some(work) = self.schedule(child) {
                            self.stack.push(work);
                        }
                    }
                    return Ok(Some(self.entry(stored, values)));
                }
            }
        }
        Ok(None)
    }
}

impl Iterator for RegionWalk<'_> {
    type Item = Result<KeyEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.step() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Keys per batch handed from a background walk to the merge.
const BATCH: usize = 512;

/// Sends a walk's keys over `tx` in batches (for a walk on another thread);
/// stops at the first error, which is sent too, or when the receiver is gone.
pub(crate) fn send_batches(
    walk: impl Iterator<Item = Result<KeyEntry>>,
    tx: &SyncSender<Result<Vec<KeyEntry>>>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    for item in walk {
        match item {
            Ok(entry) => {
                batch.push(entry);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if tx.send(Ok(full)).is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Ok(batch));
    }
}

/// The receiving end of [`send_batches`], as a key stream again.
pub(crate) struct Batches {
    rx: Receiver<Result<Vec<KeyEntry>>>,
    current: std::vec::IntoIter<KeyEntry>,
}

impl Batches {
    /// Reads the batches arriving on `rx`.
    pub(crate) fn new(rx: Receiver<Result<Vec<KeyEntry>>>) -> Batches {
        Batches {
            rx,
            current: Vec::new().into_iter(),
        }
    }
}

impl Iterator for Batches {
    type Item = Result<KeyEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.current.next() {
                return Some(Ok(entry));
            }
            match self.rx.recv().ok()? {
                Ok(batch) => self.current = batch.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
