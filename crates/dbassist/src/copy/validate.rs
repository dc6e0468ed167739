//! Validation: the row count and the order-independent checksum
//! ([`super::canon`]) of one table on both sides, within the same filter,
//! each side read by its own thread. When they differ, a second pass over
//! the one key bucket that differs names the first differing key.

use super::batch::Batch;
use super::canon::{self, Checksum};
use super::plan::{Segment, TablePlan};
use super::read::{read, Cut};
use super::Local;
use crate::error::{DbError, Result};
use crate::target::DbTarget;
use serde::Serialize;
use std::collections::BTreeMap;
use transit_core::CancelToken;

/// Key buckets used to find a difference.
const BUCKETS: usize = 256;

/// One table's validation.
#[derive(Debug, Clone, Serialize)]
pub struct TableValidation {
    /// The table.
    pub table: String,
    /// Source rows (within the filter), less the rejected rows.
    pub source_rows: u64,
    /// Target rows (within the filter).
    pub target_rows: u64,
    /// The source's checksum (less the rejected rows).
    pub source_checksum: String,
    /// The target's checksum.
    pub target_checksum: String,
    /// True when both agree.
    pub equal: bool,
    /// The first key whose rows differ, as `Column=value, …`.
    pub first_difference: Option<String>,
}

/// One side's pass: the checksum and per-bucket checksums.
struct Pass {
    total: Checksum,
    buckets: Vec<Checksum>,
}

/// The bucket of a canonical key: any hash both sides share in this
/// process will do (buckets only find where the sides differ), so a fast
/// one (SipHash with fixed keys) rather than a second SHA-256 per row.
fn bucket_of(key: &[u8]) -> usize {
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    h.write(key);
    (h.finish() % BUCKETS as u64) as usize
}

/// Reads every row of `plan` on `target` and folds it with `each`.
fn scan(
    target: &DbTarget,
    plan: &TablePlan,
    cancel: &CancelToken,
    mut each: impl FnMut(&Batch) + Send,
) -> Result<()> {
    let local = Local::new()?;
    let mut db = local.connect(target)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(4);
    let cut = Cut {
        rows: 10_000,
        bytes: 8 << 20,
        on_key_change: false,
    };
    std::thread::scope(|s| {
        let consumer = s.spawn(move || {
            while let Some(batch) = rx.blocking_recv() {
                each(&batch);
            }
        });
        let result = local.run(read(&mut db, plan, &Segment::All, cut, &tx, cancel));
        drop(tx);
        consumer
            .join()
            .map_err(|_| DbError::Refused("validation thread panicked".into()))?;
        result.map(|_| ())
    })
}

fn pass(target: &DbTarget, plan: &TablePlan, cancel: &CancelToken) -> Result<Pass> {
    let mut out = Pass {
        total: Checksum::default(),
        buckets: vec![Checksum::default(); BUCKETS],
    };
    let mut scratch = Vec::new();
    let mut key = Vec::new();
    scan(target, plan, cancel, |batch| {
        for r in 0..batch.len() {
            let digest = canon::row_digest(&plan.kinds, batch.row(r), &mut scratch);
            key.clear();
            super::write::canon_key_into(plan, batch, r, &mut key);
            out.total.add(&digest);
            out.buckets[bucket_of(&key)].add(&digest);
        }
    })?;
    Ok(out)
}

/// The rows of one bucket: canonical key → (display key, sorted digests).
type BucketRows = BTreeMap<Vec<u8>, (String, Vec<[u8; 32]>)>;

fn bucket_rows(
    target: &DbTarget,
    plan: &TablePlan,
    bucket: usize,
    cancel: &CancelToken,
) -> Result<BucketRows> {
    let mut out = BucketRows::new();
    let mut scratch = Vec::new();
    scan(target, plan, cancel, |batch| {
        for r in 0..batch.len() {
            let key = super::write::canon_key(plan, batch, r);
            if bucket_of(&key) != bucket {
                continue;
            }
            let digest = canon::row_digest(&plan.kinds, batch.row(r), &mut scratch);
            let shown = super::write::key_shown(plan, batch, r);
            let entry = out.entry(key).or_insert_with(|| (shown, Vec::new()));
            entry.1.push(digest);
        }
    })?;
    for (_, digests) in out.values_mut() {
        digests.sort();
    }
    Ok(out)
}

/// Validates one table; `rejected` is the checksum of rows the copy
/// rejected (they are expected on the source only).
///
/// `copied` is the checksum of the source rows the copy read, when it is
/// known for every batch ([`super::state::Marker::source_sum`]): then only
/// the target is read, and the source only when the two differ (to find
/// the first differing key, and to compare with the source as it is now).
pub fn validate_table(
    source: &DbTarget,
    target: &DbTarget,
    plan: &TablePlan,
    rejected: &Checksum,
    copied: Option<&Checksum>,
    cancel: &CancelToken,
) -> Result<TableValidation> {
    let (mut src, tgt) = match copied {
        Some(copied) => {
            let tgt = pass(target, plan, cancel)?;
            let mut total = *copied;
            total.subtract(rejected);
            if total == tgt.total {
                return Ok(TableValidation {
                    table: plan.table.name.clone(),
                    source_rows: total.rows,
                    target_rows: tgt.total.rows,
                    source_checksum: total.hex(),
                    target_checksum: tgt.total.hex(),
                    equal: true,
                    first_difference: None,
                });
            }
            (pass(source, plan, cancel)?, tgt)
        }
        None => {
            let (src, tgt) = std::thread::scope(|s| {
                let src = s.spawn(|| pass(source, plan, cancel));
                let tgt = pass(target, plan, cancel);
                (src.join(), tgt)
            });
            (
                src.map_err(|_| DbError::Refused("validation thread panicked".into()))??,
                tgt?,
            )
        }
    };
    src.total.subtract(rejected);
    let equal = src.total == tgt.total;
    let mut first_difference = None;
    if !equal {
        let differing = (0..BUCKETS).find(|&b| src.buckets[b] != tgt.buckets[b]);
        if let Some(bucket) = differing {
            let (a, b) = std::thread::scope(|s| {
                let a = s.spawn(|| bucket_rows(source, plan, bucket, cancel));
                let b = bucket_rows(target, plan, bucket, cancel);
                (a.join(), b)
            });
            let a = a.map_err(|_| DbError::Refused("validation thread panicked".into()))??;
            let b = b?;
            let keys: std::collections::BTreeSet<&Vec<u8>> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let (x, y) = (a.get(key), b.get(key));
                if x.map(|v| &v.1) != y.map(|v| &v.1) {
                    let shown = x.or(y).map(|v| v.0.clone()).unwrap_or_default();
                    let what = match (x, y) {
                        (Some(_), None) => "missing on the target",
                        (None, Some(_)) => "only on the target",
                        _ => "values differ",
                    };
                    first_difference = Some(format!("{shown} ({what})"));
                    break;
                }
            }
        }
    }
    Ok(TableValidation {
        table: plan.table.name.clone(),
        source_rows: src.total.rows,
        target_rows: tgt.total.rows,
        source_checksum: src.total.hex(),
        target_checksum: tgt.total.hex(),
        equal,
        first_difference,
    })
}
