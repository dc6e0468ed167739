//! Group commit: one writer commits check-ins in groups.
//!
//! Handlers hand their check-in to [`Committer::commit`] and wait; the
//! writer takes everything queued (up to [`MAX_GROUP`]) and commits it
//! as one transaction, then answers every waiter. Up to the store's
//! [`Store::commit_parallelism`] groups commit at once (one for SQLite,
//! which has one writer; several for PostgreSQL, whose own group commit
//! shares their WAL flushes): a check-in that arrives while every slot
//! is busy gathers with the others into the next group, so a group waits
//! at most about one commit and the number of commits per second stays
//! small under load. A waiter is answered only after its group is
//! committed: **a 200 reply to a check-in means the check-in is
//! committed.** Two check-ins of one machine never share a group; the
//! later one waits for the next.

use crate::store::{CheckInRecord, Committed, Store, StoreError};
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// The largest group committed at once.
pub const MAX_GROUP: usize = 2048;

/// How many check-ins may wait for the writer before new ones are
/// turned away as busy (503).
pub const QUEUE: usize = 16 * 1024;

type Reply = oneshot::Sender<Result<Committed, Arc<StoreError>>>;

struct Job {
    record: CheckInRecord,
    reply: Reply,
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

impl transit_core::Kind for CommitError {
    fn kind(&self) -> transit_core::ErrorKind {
        match self {
            CommitError::Busy => transit_core::ErrorKind::Other,
            CommitError::Stopped => transit_core::ErrorKind::Cancelled,
            CommitError::Store(e) => transit_core::Kind::kind(&**e),
        }
    }
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
    let limit = store.commit_parallelism().max(1);
    let mut pending: VecDeque<Job> = VecDeque::new();
    // Machines whose check-in is in a group being committed now.
    let mut busy: HashSet<String> = HashSet::new();
    let mut in_flight: JoinSet<Vec<String>> = JoinSet::new();
    let mut closed = false;
    loop {
        // Everything already queued joins the next group.
        while !closed && pending.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => pending.push_back(job),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => closed = true,
            }
        }
        while in_flight.len() < limit {
            let Some((records, replies)) = next_group(&mut pending, &busy) else {
                break;
            };
            busy.extend(records.iter().map(|r| r.machine_id.clone()));
            let (store, stats) = (Arc::clone(&store), Arc::clone(&stats));
            in_flight.spawn(commit_group(store, stats, records, replies));
        }
        if closed && pending.is_empty() && in_flight.is_empty() {
            break;
        }
        tokio::select! {
            job = rx.recv(), if !closed => match job {
                Some(job) => pending.push_back(job),
                None => closed = true,
            },
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                for id in done.unwrap_or_default() {
                    busy.remove(&id);
                }
            }
        }
    }
}

/// Takes the next group from `pending`, in arrival order: at most
/// [`MAX_GROUP`] check-ins, no machine twice and none whose earlier
/// check-in is still being committed (those wait, in order, for a later
/// group). `None` when nothing can go now.
fn next_group(
    pending: &mut VecDeque<Job>,
    busy: &HashSet<String>,
) -> Option<(Vec<CheckInRecord>, Vec<Reply>)> {
    let mut seen = HashSet::new();
    let mut records = Vec::new();
    let mut replies = Vec::new();
    let mut later = VecDeque::new();
    for job in pending.drain(..) {
        let id = &job.record.machine_id;
        if records.len() < MAX_GROUP && !busy.contains(id) && seen.insert(id.clone()) {
            records.push(job.record);
            replies.push(job.reply);
        } else {
            // A machine held back here also holds back its later ones.
            seen.insert(id.clone());
            later.push_back(job);
        }
    }
    *pending = later;
    (!records.is_empty()).then_some((records, replies))
}

/// Commits one group and answers its waiters; returns its machine IDs.
async fn commit_group(
    store: Arc<dyn Store>,
    stats: Arc<CommitStats>,
    records: Vec<CheckInRecord>,
    replies: Vec<Reply>,
) -> Vec<String> {
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
    records.into_iter().map(|r| r.machine_id).collect()
}
