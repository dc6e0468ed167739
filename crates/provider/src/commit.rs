//! Group commit: one writer commits check-ins in groups.
//!
//! Handlers hand their check-in to [`Committer::commit`] and wait; the
//! writer takes everything queued (up to [`MAX_GROUP`]) and commits it
//! as one transaction, then answers every waiter. While one group
//! commits, the next one gathers, so a group waits at most about one
//! commit (a few milliseconds) and the number of commits per second
//! stays small under load. A waiter is answered only after its group is
//! committed: **a 200 reply to a check-in means the check-in is
//! committed.** Two check-ins of one machine never share a group; the
//! later one waits for the next.

use crate::store::{CheckInRecord, Committed, Store, StoreError};
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The largest group committed at once.
pub const MAX_GROUP: usize = 2048;

/// How many check-ins may wait for the writer before new ones are
/// turned away as busy (503).
pub const QUEUE: usize = 16 * 1024;

struct Job {
    record: CheckInRecord,
    reply: oneshot::Sender<Result<Committed, Arc<StoreError>>>,
}

/// Why a check-in was not committed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommitError {
    /// The queue is full: the provider is overloaded (reply 503).
    #[error("the provider is busy: {QUEUE} check-ins are waiting to be committed")]
    Busy,
    /// The writer has stopped (the provider is shutting down).
    #[error("the provider is stopping")]
    Stopped,
    /// The store failed; nothing of the group was committed.
    #[error(transparent)]
    Store(Arc<StoreError>),
}

/// Counters of the writer.
#[derive(Debug, Default)]
pub struct CommitStats {
    /// Groups committed.
    pub groups: AtomicU64,
    /// Check-ins committed (saved or refused as claimed).
    pub checkins: AtomicU64,
    /// Check-ins waiting now.
    pub queued: AtomicU64,
}

/// The handle to the one writer.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
    stats: Arc<CommitStats>,
}

impl Committer {
    /// Starts the writer on the current runtime. It ends when every
    /// `Committer` clone is dropped, after committing what was queued.
    pub fn start(store: Arc<dyn Store>) -> (Committer, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(CommitStats::default());
        let task = tokio::spawn(writer(store, rx, Arc::clone(&stats)));
        (Committer { tx, stats }, task)
    }

    /// Commits one check-in with whatever else is queued; returns once
    /// its group is committed.
    pub async fn commit(&self, record: CheckInRecord) -> Result<Committed, CommitError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .try_send(Job { record, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => CommitError::Busy,
                mpsc::error::TrySendError::Closed(_) => CommitError::Stopped,
            })?;
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        match answer.await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(CommitError::Store(e)),
            Err(_) => Err(CommitError::Stopped),
        }
    }

    /// The writer's counters.
    pub fn stats(&self) -> &CommitStats {
        &self.stats
    }
}

async fn writer(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>, stats: Arc<CommitStats>) {
    let mut pending: VecDeque<Job> = VecDeque::new();
    loop {
        if pending.is_empty() {
            match rx.recv().await {
                Some(job) => pending.push_back(job),
                None => break,
            }
        }
        while pending.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => break,
            }
        }
        let mut seen = HashSet::new();
        let mut records = Vec::new();
        let mut replies = Vec::new();
        let mut later = VecDeque::new();
        for job in pending.drain(..) {
            if records.len() < MAX_GROUP && seen.insert(job.record.machine_id.clone()) {
                records.push(job.record);
                replies.push(job.reply);
            } else {
                later.push_back(job);
            }
        }
        pending = later;
        let outcome = store.commit_checkins(&records).await;
        stats.groups.fetch_add(1, Ordering::Relaxed);
        stats
            .queued
            .fetch_sub(records.len() as u64, Ordering::Relaxed);
        match outcome {
            Ok(outcomes) => {
                stats
                    .checkins
                    .fetch_add(records.len() as u64, Ordering::Relaxed);
                for (reply, c) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(c));
                }
            }
            Err(e) => {
                tracing::error!("check-in group of {} not committed: {e}", records.len());
                let e = Arc::new(e);
                for reply in replies {
                    let _ = reply.send(Err(Arc::clone(&e)));
                }
            }
        }
    }
}
