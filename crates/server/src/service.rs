//! The service host: what `transit server start` runs.
//!
//! The host takes the service lock (so imports refuse to run), starts every
//! registered [`Service`] on its own thread, and waits until SIGTERM,
//! SIGINT or SIGHUP arrives (or a service fails). Then it cancels the
//! shared [`CancelToken`], waits for every service to finish, and releases
//! the lock. Services are whatever the server runs in the background: the
//! update provider, scheduled work.
//!
//! [`start_daemon`] runs the same host in a detached child process and
//! returns once that process holds the lock.

use crate::error::{Result, ServerError};
use crate::lock::ServiceStatus;
use crate::root::ServerRoot;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use transit_core::{CancelToken, IoContext, PathIoError};

/// A failure a service reports when it stops for a reason other than the
/// host's stop request.
pub type ServiceFailure = Box<dyn std::error::Error + Send + Sync>;

/// Something the server service runs while it holds its lock.
pub trait Service: Send {
    /// The service's name, for logs and messages.
    fn name(&self) -> &str;

    /// Runs until `stop` is cancelled, then cleans up and returns. An
    /// early return with an error stops the whole host (and every other
    /// service); an early `Ok` ends only this service.
    fn run(self: Box<Self>, server: &ServerRoot, stop: &CancelToken) -> Result<(), ServiceFailure>;
}

/// How a foreground run ended.
#[derive(Debug)]
pub struct Stopped {
    /// The process ID that held the lock.
    pub pid: u32,
    /// Services that failed, with their errors (empty after a clean stop).
    pub failures: Vec<(String, String)>,
}

/// The set of services `transit server start` runs.
#[derive(Default)]
pub struct ServiceHost {
    services: Vec<Box<dyn Service>>,
}

impl ServiceHost {
    /// A host with no services: it holds the lock until stopped.
    pub fn new() -> ServiceHost {
        ServiceHost::default()
    }

    /// Adds a service; it starts when the host runs.
    pub fn register(&mut self, service: Box<dyn Service>) {
        self.services.push(service);
    }

    /// The registered services' names, in start order.
    pub fn names(&self) -> Vec<String> {
        self.services.iter().map(|s| s.name().to_string()).collect()
    }

    /// Runs in this process until SIGTERM, SIGINT or SIGHUP (or `stop` is
    /// cancelled by the caller, or a service fails): takes the lock, calls
    /// `started(pid)`, runs the services, then stops them and releases
    /// the lock. Signal handlers are installed before the lock is taken,
    /// so a stop request right after start is not lost.
    pub fn run_foreground(
        self,
        server: &ServerRoot,
        stop: &CancelToken,
        started: impl FnOnce(u32),
    ) -> Result<Stopped> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let signals = transit_core::cancel::cancel_on(stop, &[SIGTERM, SIGINT, SIGHUP])
            .at(server.run_dir())?;
        let guard = server.acquire_service_lock()?;
        let pid = std::process::id();
        tracing::info!(server = server.name(), pid, services = ?self.names(), "server service started");
        started(pid);
        let (done_tx, done_rx) = mpsc::channel::<(String, Option<String>)>();
        let failures = std::thread::scope(|scope| {
            for service in self.services {
                let name = service.name().to_string();
                let done_tx = done_tx.clone();
                scope.spawn(move || {
                    let outcome = service.run(server, stop);
                    let failure = match outcome {
                        Ok(()) => None,
                        Err(e) if stop.is_cancelled() => {
                            tracing::warn!(service = %name, "error while stopping: {e}");
                            None
                        }
                        Err(e) => {
                            tracing::error!(service = %name, "service failed: {e}");
                            stop.cancel();
                            Some(e.to_string())
                        }
                    };
                    let _ = done_tx.send((name, failure));
                });
            }
            drop(done_tx);
            while !stop.wait_timeout(Duration::from_secs(3600)) {}
            done_rx
                .iter()
                .filter_map(|(name, failure)| failure.map(|f| (name, f)))
                .collect::<Vec<_>>()
        });
        drop(guard);
        drop(signals);
        tracing::info!(server = server.name(), pid, "server service stopped");
        Ok(Stopped { pid, failures })
    }
}

/// Starts the service host in a detached child process (its own process
/// group, standard output and error into `logs/service.out`), by running
/// `program args…`, which must end up in [`ServiceHost::run_foreground`]
/// for `server` (for the CLI: `transit --server-root R server start`).
/// Returns the child's PID once it holds the lock; fails if it exits or
/// does not take the lock within ten seconds.
pub fn start_daemon(server: &ServerRoot, program: &Path, args: &[&std::ffi::OsStr]) -> Result<u32> {
    use std::os::unix::process::CommandExt;
    if let ServiceStatus::Running { pid } = server.service_status()? {
        return Err(ServerError::ServiceRunning { pid });
    }
    let logs = server.logs_dir();
    std::fs::create_dir_all(&logs).at(&logs)?;
    let out_path = logs.join("service.out");
    let out = std::fs::File::create(&out_path).at(&out_path)?;
    let err = out.try_clone().at(&out_path)?;
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .at(program)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let ServiceStatus::Running { pid } = server.service_status()? {
            if pid == child.id() {
                return Ok(pid);
            }
        }
        if let Some(status) = child.try_wait().at(program)? {
            let output = std::fs::read_to_string(&out_path).unwrap_or_default();
            return Err(ServerError::Io(PathIoError::new(
                program,
                std::io::Error::other(format!(
                    "the service exited at start ({status}): {}",
                    output.trim()
                )),
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(ServerError::Io(PathIoError::new(
        program,
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "the service did not take the lock within 10 s (pid {})",
                child.id()
            ),
        ),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Role;
    use crate::release::ProductRelease;
    use crate::root::InitParams;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    fn root(dir: &Path) -> ServerRoot {
        ServerRoot::init(
            dir,
            InitParams {
                name: "CIC01".into(),
                site_name: "Indy".into(),
                site_id: 1,
                role: Role::Cic,
                release: "2015 R1".parse::<ProductRelease>().unwrap(),
                patch: 0,
                machine_key: None,
            },
        )
        .unwrap()
    }

    struct Waits(Arc<AtomicBool>);
    impl Service for Waits {
        fn name(&self) -> &str {
            "waits"
        }
        fn run(self: Box<Self>, _: &ServerRoot, stop: &CancelToken) -> Result<(), ServiceFailure> {
            while !stop.wait_timeout(Duration::from_secs(60)) {}
            self.0.store(true, Ordering::SeqCst);
            Ok(())
        }
    }

    struct Fails;
    impl Service for Fails {
        fn name(&self) -> &str {
            "fails"
        }
        fn run(self: Box<Self>, _: &ServerRoot, _: &CancelToken) -> Result<(), ServiceFailure> {
            Err("port 8092 is taken".into())
        }
    }

    #[test]
    fn services_run_while_the_lock_is_held_and_stop_with_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let server = root(&dir.path().join("s"));
        let stopped_cleanly = Arc::new(AtomicBool::new(false));
        let mut host = ServiceHost::new();
        host.register(Box::new(Waits(Arc::clone(&stopped_cleanly))));
        let stop = CancelToken::new();
        let outcome = std::thread::scope(|scope| {
            let (server, stop) = (&server, &stop);
            let run = scope.spawn(move || host.run_foreground(server, stop, |_| {}));
            let deadline = Instant::now() + Duration::from_secs(10);
            while server.service_status().unwrap() == ServiceStatus::Stopped {
                assert!(Instant::now() < deadline, "the host never took the lock");
                std::thread::sleep(Duration::from_millis(10));
            }
            assert!(matches!(
                server.acquire_service_lock(),
                Err(ServerError::ServiceRunning { .. })
            ));
            stop.cancel();
            run.join().unwrap().unwrap()
        });
        assert!(outcome.failures.is_empty());
        assert!(stopped_cleanly.load(Ordering::SeqCst));
        assert_eq!(server.service_status().unwrap(), ServiceStatus::Stopped);
    }

    #[test]
    fn a_failing_service_stops_the_host_and_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let server = root(&dir.path().join("s"));
        let stopped_cleanly = Arc::new(AtomicBool::new(false));
        let mut host = ServiceHost::new();
        host.register(Box::new(Waits(Arc::clone(&stopped_cleanly))));
        host.register(Box::new(Fails));
        let outcome = host
            .run_foreground(&server, &CancelToken::new(), |_| {})
            .unwrap();
        assert_eq!(
            outcome.failures,
            vec![("fails".to_string(), "port 8092 is taken".to_string())]
        );
        assert!(
            stopped_cleanly.load(Ordering::SeqCst),
            "the other service was stopped"
        );
        assert_eq!(server.service_status().unwrap(), ServiceStatus::Stopped);
    }
}
