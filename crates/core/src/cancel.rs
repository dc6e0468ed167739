//! One cancellation token for threads and async code.
//!
//! A [`CancelToken`] is cheap to clone; every clone sees the same state.
//! Engines check [`CancelToken::is_cancelled`] between steps and inside
//! long streams; threads that sleep use [`CancelToken::wait_timeout`];
//! async tasks await [`CancelToken::cancelled`]. The front end cancels it
//! from a Stop key or, through [`cancel_on_signals`], from SIGINT/SIGTERM.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct Inner {
    flag: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
    task: tokio_util::sync::CancellationToken,
}

/// A shared stop request.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<Inner>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Requests cancellation. Idempotent; wakes every waiter.
    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        let _guard = self.0.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.0.wake.notify_all();
        self.0.task.cancel();
    }

    /// True once cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
    }

    /// Blocks the calling thread until the token is cancelled or `timeout`
    /// passes; returns whether it was cancelled. A thread that waits
    /// between periodic jobs uses this instead of `sleep`, so a stop
    /// request ends the wait at once.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut guard = self.0.lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.is_cancelled() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            guard = self
                .0
                .wake
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Completes when the token is cancelled (for async tasks, such as an
    /// HTTP server's graceful shutdown).
    pub async fn cancelled(&self) {
        self.0.task.cancelled().await
    }
}

/// Keeps the signal handlers of [`cancel_on_signals`] installed; dropping
/// it stops forwarding signals to the token.
#[derive(Debug)]
pub struct SignalGuard {
    handle: signal_hook::iterator::Handle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Cancels `token` on SIGINT (Ctrl-C) or SIGTERM, for as long as the
/// returned guard lives. The process no longer dies of those signals
/// meanwhile: the engine stops at its next check and cleans up.
pub fn cancel_on_signals(token: &CancelToken) -> std::io::Result<SignalGuard> {
    cancel_on(
        token,
        &[signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM],
    )
}

/// Cancels `token` on any of `signals` (such as SIGHUP for a program whose
/// terminal may go away), for as long as the returned guard lives.
pub fn cancel_on(token: &CancelToken, signals: &[i32]) -> std::io::Result<SignalGuard> {
    let mut iter = signal_hook::iterator::Signals::new(signals)?;
    let handle = iter.handle();
    let token = token.clone();
    let thread = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for _signal in iter.forever() {
                token.cancel();
            }
        })?;
    Ok(SignalGuard {
        handle,
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_state_and_waiters_wake() {
        let token = CancelToken::new();
        let other = token.clone();
        assert!(!token.wait_timeout(Duration::from_millis(10)));
        let waiter = std::thread::spawn(move || other.wait_timeout(Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(20));
        token.cancel();
        assert!(waiter.join().unwrap());
        assert!(token.is_cancelled());
    }

    #[tokio::test]
    async fn async_tasks_see_the_cancel() {
        let token = CancelToken::new();
        let other = token.clone();
        let task = tokio::spawn(async move { other.cancelled().await });
        token.cancel();
        task.await.unwrap();
    }

    #[test]
    fn a_signal_cancels_the_token() {
        let token = CancelToken::new();
        let guard = cancel_on(&token, &[signal_hook::consts::SIGUSR1]).unwrap();
        signal_hook::low_level::raise(signal_hook::consts::SIGUSR1).unwrap();
        assert!(token.wait_timeout(Duration::from_secs(5)));
        drop(guard);
    }
}
