//! Local control over a Unix socket (the role of the vendor's ports 8042
//! and 8094 between the client service and its tray application): one
//! JSON request line, one JSON reply line. `status`, `log` and `cancel`
//! are answered at once; `check` and `apply` are queued to the agent's
//! loop, so they never race the timer's check-ins.

use crate::agent::{Agent, AgentError, Applied, Choice, Status, Trigger};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use transit_core::{CancelToken, IoContext, PathIoError};
use transit_provider::api::OfferJson;

/// A request on the control socket.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum Request {
    /// The agent's status.
    Status,
    /// Check in now and list the offers (the user then chooses now or later).
    Check,
    /// Apply offers now, or at the next scheduled time (`later`).
    Apply {
        /// Express or Custom.
        choice: Choice,
        /// Install at the next scheduled time instead of now.
        #[serde(default)]
        later: bool,
    },
    /// Stop the current operation: no new update starts, downloads stop.
    Cancel,
    /// The newest log lines.
    Log {
        /// How many.
        lines: usize,
    },
}

/// A reply on the control socket.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "lowercase")]
pub enum Reply {
    /// The status.
    Status(Box<Status>),
    /// The offers after a manual check.
    Check {
        /// The offers.
        available: Vec<OfferJson>,
        /// The provider that answered.
        provider: Option<String>,
    },
    /// What was applied.
    Applied {
        /// Per offer.
        results: Vec<Applied>,
    },
    /// Installs wait for the next scheduled time.
    Later {
        /// When (RFC 3339), if the schedule is known.
        at: Option<String>,
    },
    /// Cancel delivered (or nothing was running).
    Cancelled {
        /// An operation was running.
        running: bool,
    },
    /// Log lines.
    Log {
        /// The lines, oldest first.
        lines: Vec<String>,
    },
    /// The request failed.
    Error {
        /// Why.
        message: String,
    },
}

type Job = (Request, oneshot::Sender<Reply>);

async fn handle(
    stream: tokio::net::UnixStream,
    shared: Arc<crate::agent::Shared>,
    jobs: mpsc::Sender<Job>,
) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(read).take(64 * 1024);
    if reader.read_line(&mut line).await.is_err() {
        return;
    }
    let reply = match serde_json::from_str::<Request>(&line) {
        Err(e) => Reply::Error {
            message: format!("bad request: {e}"),
        },
        Ok(request) => match immediate(&shared, &request) {
            Some(reply) => reply,
            None => queued(&jobs, request).await,
        },
    };
    let mut text = serde_json::to_string(&reply).unwrap_or_default();
    text.push('\n');
    let _ = write.write_all(text.as_bytes()).await;
}

/// Answers `status`, `log` and `cancel` from the shared state.
fn immediate(shared: &crate::agent::Shared, request: &Request) -> Option<Reply> {
    match request {
        Request::Status => Some(Reply::Status(Box::new(shared.status_now()))),
        Request::Log { lines } => {
            let log = shared.log.lock().unwrap_or_else(|p| p.into_inner());
            let skip = log.len().saturating_sub(*lines);
            Some(Reply::Log {
                lines: log.iter().skip(skip).cloned().collect(),
            })
        }
        Request::Cancel => {
            let token = shared
                .cancel
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(t) = &token {
                t.cancel();
            }
            Some(Reply::Cancelled {
                running: token.is_some(),
            })
        }
        Request::Check | Request::Apply { .. } => None,
    }
}

/// Hands `check` and `apply` to the agent's loop and waits for the reply.
async fn queued(jobs: &mpsc::Sender<Job>, request: Request) -> Reply {
    let (tx, rx) = oneshot::channel();
    if jobs.send((request, tx)).await.is_err() {
        return Reply::Error {
            message: "the agent is stopping".into(),
        };
    }
    rx.await.unwrap_or(Reply::Error {
        message: "the agent stopped".into(),
    })
}

async fn serve_job(agent: &mut Agent, request: Request) -> Reply {
    let err = |e: AgentError| Reply::Error {
        message: e.to_string(),
    };
    match request {
        Request::Check => match agent.cycle(Trigger::Manual).await {
            Ok(_) => Reply::Check {
                available: agent.available().to_vec(),
                provider: agent
                    .shared
                    .status
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .provider
                    .clone(),
            },
            Err(e) => err(e),
        },
        Request::Apply { later: true, .. } => match agent.later() {
            Ok(at) => Reply::Later { at },
            Err(e) => err(e),
        },
        Request::Apply { choice, .. } => match agent.apply(&choice).await {
            Ok(results) => Reply::Applied { results },
            Err(e) => err(e),
        },
        _ => Reply::Error {
            message: "not a queued request".into(),
        },
    }
}

/// Runs the agent as a daemon until `stop`: the control socket, and
/// check-ins at a random moment between `check_min` and `check_max`
/// (never before the provider's next-check time), plus the scheduled
/// install time when something waits for it.
pub async fn run(mut agent: Agent, stop: CancelToken) -> Result<(), AgentError> {
    let socket = agent.config.socket_path();
    let _ = std::fs::remove_file(&socket);
    let listener = tokio::net::UnixListener::bind(&socket).at(&socket)?;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).at(&socket)?;
    let (jobs, mut queue) = mpsc::channel::<Job>(16);
    let shared = Arc::clone(&agent.shared);
    let accept_stop = stop.clone();
    let accept = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = accept_stop.cancelled() => break,
                conn = listener.accept() => {
                    if let Ok((stream, _)) = conn {
                        tokio::spawn(handle(stream, Arc::clone(&shared), jobs.clone()));
                    }
                }
            }
        }
    });
    // Discovery runs when the service starts, and only then.
    if agent.config.discovery {
        agent.discover().await;
    }
    agent.log(&format!(
        "agent started: {} provider(s), control socket {}",
        agent.providers().len(),
        socket.display()
    ));
    let mut due = tokio::time::Instant::now() + agent.timer_interval();
    loop {
        {
            let mut s = agent
                .shared
                .status
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let left = due.saturating_duration_since(tokio::time::Instant::now());
            s.next_checkin = Some(transit_core::time::rfc3339(
                transit_core::time::now() + time::Duration::seconds(left.as_secs() as i64),
            ));
        }
        let mut wake = due;
        let mut install_due = false;
        if let Some(at) = agent.next_install() {
            let secs = (at - transit_core::time::now()).whole_seconds();
            if secs > 0 {
                let at = tokio::time::Instant::now() + Duration::from_secs(secs as u64);
                if at < wake {
                    wake = at;
                    install_due = true;
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep_until(wake) => {
                let _ = agent.cycle(Trigger::Timer).await;
                if !install_due {
                    due = tokio::time::Instant::now() + agent.next_wait();
                }
            }
            Some((request, reply)) = queue.recv() => {
                let r = serve_job(&mut agent, request).await;
                let _ = reply.send(r);
            }
        }
    }
    agent.log("agent stopped");
    accept.abort();
    let _ = std::fs::remove_file(&socket);
    Ok(())
}

/// Why a control request failed on the caller's side.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No agent listens on the socket.
    #[error("no agent is running ({}): {source}", .path.display())]
    NotRunning {
        /// The socket.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The exchange broke.
    #[error(transparent)]
    Io(#[from] PathIoError),
    /// The reply does not parse.
    #[error("the agent's reply does not parse: {0}")]
    Decode(String),
}

impl transit_core::Kind for ControlError {
    fn kind(&self) -> transit_core::ErrorKind {
        match self {
            ControlError::NotRunning { .. } => transit_core::ErrorKind::Refused,
            ControlError::Io(e) => transit_core::Kind::kind(e),
            ControlError::Decode(_) => transit_core::ErrorKind::Other,
        }
    }
}

/// Sends one request to the agent listening on `socket` and waits for
/// its reply (`timeout`: none for check and apply, which may take long).
pub fn request(
    socket: &Path,
    request: &Request,
    timeout: Option<Duration>,
) -> Result<Reply, ControlError> {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).map_err(|source| {
        ControlError::NotRunning {
            path: socket.to_path_buf(),
            source,
        }
    })?;
    stream.set_read_timeout(timeout).at(socket)?;
    let mut text = serde_json::to_string(request).expect("a request serialises");
    text.push('\n');
    stream.write_all(text.as_bytes()).at(socket)?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).at(socket)?;
    serde_json::from_str(&line).map_err(|e| ControlError::Decode(e.to_string()))
}
