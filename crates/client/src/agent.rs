//! The agent: check-ins with failover, the group's mode and schedule,
//! verified downloads, installs and removals, results to the provider.

use crate::config::{provider_url, ClientConfig};
use crate::install::{InstallError, Installer};
use crate::net::{Downloads, Net, NetError};
use crate::schedule;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use transit_core::{CancelToken, ErrorKind, IoContext, Kind, PathIoError};
use transit_provider::api::{
    Accepted, CheckIn, CheckInReply, EffectiveSettings, InstalledJson, Mode, OfferJson,
    ResultEntry, ResultStatus, Results,
};
use transit_update::applicability::Action;
use transit_update::client::{ClientTrust, VerifiedRepo};
use transit_update::publishers::AllowList;
use transit_update::VerifyError;

/// The installer property that moves a client to another provider.
pub const MOVE_PROPERTY: &str = "providerservername";

/// Why the agent could not start or an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A local file.
    #[error(transparent)]
    Io(#[from] PathIoError),
    /// The trust files (root, publishers).
    #[error("trust: {0}")]
    Trust(String),
    /// No provider answered.
    #[error("no provider answered: {}", .0.join("; "))]
    NoProvider(Vec<String>),
    /// A provider refused or sent something unusable.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Verification refused the repository or an update.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// An install or removal failed.
    #[error(transparent)]
    Install(#[from] InstallError),
    /// The licence gate.
    #[error(transparent)]
    Licence(#[from] crate::licence::LicenceError),
    /// A bundle file refused (`install-bundle`).
    #[error(transparent)]
    Bundle(#[from] transit_update::BundleError),
    /// Another agent runs on this state folder.
    #[error("another agent is running on {}", .0.display())]
    Busy(PathBuf),
}

impl Kind for AgentError {
    fn kind(&self) -> ErrorKind {
        match self {
            AgentError::Io(e) => e.kind(),
            AgentError::Trust(_) => ErrorKind::BadInput,
            AgentError::NoProvider(_) => ErrorKind::Other,
            AgentError::Net(e) => e.kind(),
            AgentError::Verify(e) => e.kind(),
            AgentError::Install(e) => e.kind(),
            AgentError::Licence(e) => e.kind(),
            AgentError::Bundle(e) => e.kind(),
            AgentError::Busy(_) => ErrorKind::Refused,
        }
    }
}

/// What the agent keeps between runs (`state.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Persisted {
    /// The machine's ID at the providers.
    pub machine_id: String,
    /// The machine's secret.
    pub token: String,
    /// Providers set by an update's `providerservername` (tried first).
    #[serde(default)]
    pub moved_to: Vec<String>,
    /// The settings from the last check-in.
    #[serde(default)]
    pub settings: Option<EffectiveSettings>,
    /// Results not yet accepted by a provider.
    #[serde(default)]
    pub pending: Vec<ResultEntry>,
    /// Errors to report at the next check-in.
    #[serde(default)]
    pub errors: Vec<String>,
    /// An install asked for a restart.
    #[serde(default)]
    pub restart_required: bool,
    /// The user chose "later": install at the next scheduled time.
    #[serde(default)]
    pub later: bool,
}

/// What `status` shows.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Status {
    /// The machine's name.
    pub name: String,
    /// The machine's ID.
    pub machine_id: String,
    /// The group, mode and schedule from the last check-in.
    pub settings: Option<EffectiveSettings>,
    /// The providers in the order they are tried.
    pub providers: Vec<String>,
    /// The provider that answered last.
    pub provider: Option<String>,
    /// When the last check-in succeeded (RFC 3339).
    pub last_checkin: Option<String>,
    /// When the next check-in is due (RFC 3339).
    pub next_checkin: Option<String>,
    /// Updates offered and not yet applied.
    pub available: Vec<OfferJson>,
    /// Of those, the ones downloaded and verified.
    pub downloaded: Vec<i64>,
    /// Installed applications.
    pub installed: Vec<InstalledJson>,
    /// Errors of the last operations.
    pub errors: Vec<String>,
    /// A restart is required.
    pub restart_required: bool,
    /// Installs wait for the next scheduled time (the user chose "later").
    pub later: bool,
    /// What the agent is doing now.
    pub busy: Option<String>,
    /// Signature verification is on.
    pub verify_signatures: bool,
    /// The discovery key.
    pub discovery_key: String,
    /// Payload bytes received since start.
    pub received_bytes: u64,
    /// Connections that dropped during downloads since start.
    pub dropped_connections: u64,
    /// Downloads resumed with Range since start.
    pub resumed: u64,
    /// Downloads told to wait their turn since start (group limits).
    #[serde(default)]
    pub queued_downloads: u64,
    /// Why the last check-in found no provider (cleared by the next that
    /// does; a provider's outage is not reported to it as a client error).
    #[serde(default)]
    pub last_checkin_error: Option<String>,
    /// Check-ins in a row that found no provider.
    #[serde(default)]
    pub failed_checkins: u32,
}

/// One applied offer's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Applied {
    /// The update's catalog ID.
    pub id: i64,
    /// The application.
    pub application: String,
    /// The result.
    pub status: ResultStatus,
    /// Details.
    pub description: String,
}

/// Why a check-in happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The check timer: the group's mode decides.
    Timer,
    /// A manual check: only look (the user chooses now or later).
    Manual,
}

/// Which offers to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Choice {
    /// Express: every offer.
    Express,
    /// Custom: the chosen catalog IDs.
    Custom(Vec<i64>),
}

/// Shared between the agent and its control socket.
#[derive(Debug, Default)]
pub struct Shared {
    /// The status.
    pub status: Mutex<Status>,
    /// The newest log lines.
    pub log: Mutex<VecDeque<String>>,
    /// The current operation's cancel token.
    pub cancel: Mutex<Option<CancelToken>>,
    /// The downloads' live counters.
    pub downloads: std::sync::OnceLock<Arc<Downloads>>,
}

impl Shared {
    /// The status with the download counters as they are now.
    pub fn status_now(&self) -> Status {
        let mut s = self
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(d) = self.downloads.get() {
            s.received_bytes = d.stats.received.load(Ordering::Relaxed);
            s.dropped_connections = d.stats.dropped.load(Ordering::Relaxed);
            s.resumed = d.stats.resumed.load(Ordering::Relaxed);
        }
        s
    }
}

const LOG_LINES: usize = 500;

/// The client agent.
pub struct Agent {
    /// Its settings.
    pub config: ClientConfig,
    net: Net,
    downloads: Arc<Downloads>,
    installer: Installer,
    trust: ClientTrust,
    state: Persisted,
    /// Status, log, cancel.
    pub shared: Arc<Shared>,
    available: Vec<OfferJson>,
    next_secs: Option<u64>,
    last_provider: Option<String>,
    /// Check-ins in a row that found no provider (see [`crate::backoff`]).
    failures: u32,
    /// The longest `Retry-After` of the last failed check-in.
    retry_after: Option<u64>,
    last_checkin_error: Option<String>,
    _lock: std::fs::File,
}

fn lock_state(dir: &Path) -> Result<std::fs::File, AgentError> {
    let path = dir.join("agent.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .at(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(AgentError::Busy(dir.to_path_buf())),
    }
}

fn machine_id(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let mut rng = rand::thread_rng();
    format!("{slug}-{:08x}", rng.gen::<u32>())
}

fn sha256_file(path: &Path) -> Result<String, PathIoError> {
    let mut file = std::fs::File::open(path).at(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).at(path)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

impl Agent {
    /// Opens the agent's state (creating it at the first start), takes
    /// its lock and finishes or rolls back an interrupted operation.
    pub fn open(config: ClientConfig) -> Result<Agent, AgentError> {
        std::fs::create_dir_all(&config.state_dir).at(&config.state_dir)?;
        let lock = lock_state(&config.state_dir)?;
        let root = std::fs::read(&config.trust_root).at(&config.trust_root)?;
        let allow =
            AllowList::load(&config.publishers).map_err(|e| AgentError::Trust(e.to_string()))?;
        let trust = ClientTrust::new(root, allow, &config.state_dir.join("tuf"))
            .map_err(|e| AgentError::Trust(e.to_string()))?;

        let downloads = Arc::new(Downloads::new(
            config.state_dir.join("downloads"),
            config.max_rate,
        ));
        let installer = Installer::new(&config.install_root, &config.state_dir);
        let state_path = config.state_dir.join("state.json");
        let mut state: Persisted = match std::fs::read(&state_path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => Persisted::default(),
        };
        if state.machine_id.is_empty() {
            state.machine_id = machine_id(&config.name);
            let mut rng = rand::thread_rng();
            state.token = (0..32)
                .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
                .collect();
        }
        let net = Net::new(&config, &state.machine_id)?;
        if !config.verify_signatures {
            tracing::warn!(
                "verify_signatures is off (--allow-unverified): publisher signatures are not checked"
            );
        }
        let shared = Arc::new(Shared::default());
        let _ = shared.downloads.set(Arc::clone(&downloads));
        let mut agent = Agent {
            config,
            net,
            downloads,
            installer,
            trust,
            state,
            shared,
            available: Vec::new(),
            next_secs: None,
            failures: 0,
            retry_after: None,
            last_checkin_error: None,
            last_provider: None,
            _lock: lock,
        };
        if !agent.config.verify_signatures {
            agent.log("verify_signatures is OFF (allowed by --allow-unverified): publisher signatures are not checked");
        }
        if let Some(r) = agent.installer.recover()? {
            let j = &r.journal;
            let (status, what) = match (j.op, r.completed) {
                (crate::install::Op::Install, true) => (ResultStatus::Installed, "completed"),
                (crate::install::Op::Install, false) => {
                    (ResultStatus::InstallFailed, "interrupted; rolled back")
                }
                (crate::install::Op::Remove, _) => (ResultStatus::Removed, "completed"),
            };
            agent.log(&format!(
                "recovered an interrupted {:?} of {} ({} -> {}): {what}",
                j.op,
                j.application,
                j.from
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "none".into()),
                j.to.map(|v| v.to_string()).unwrap_or_else(|| "none".into()),
            ));
            if j.restart_required && r.completed {
                agent.state.restart_required = true;
            }
            // Bundle installs (`install-bundle`) have no catalog ID to report.
            if j.update_id > 0 {
                agent.state.pending.push(ResultEntry {
                    update_id: j.update_id,
                    status,
                    description: format!("interrupted by a crash; {what} at the next start"),
                });
            }
        }
        agent.save()?;
        agent.refresh_status();
        Ok(agent)
    }

    fn save(&self) -> Result<(), PathIoError> {
        let bytes = serde_json::to_vec_pretty(&self.state).expect("state serialises");
        crate::install::write_atomic(&self.config.state_dir.join("state.json"), &bytes)
    }

    /// Adds a line to the log (memory ring, `agent.log` and tracing).
    pub fn log(&self, line: &str) {
        tracing::info!("{line}");
        let stamped = format!(
            "{} {line}",
            transit_core::time::rfc3339(transit_core::time::now())
        );
        let path = self.config.state_dir.join("agent.log");
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = std::io::Write::write_all(&mut f, format!("{stamped}\n").as_bytes());
        }
        let mut log = self.shared.log.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() == LOG_LINES {
            log.pop_front();
        }
        log.push_back(stamped);
    }

    /// The providers in the order they are tried: where an update moved
    /// the client, then the group's assigned providers, then client.toml's.
    pub fn providers(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let group = self
            .state
            .settings
            .as_ref()
            .map(|s| s.settings.providers.clone())
            .unwrap_or_default();
        for p in self
            .state
            .moved_to
            .iter()
            .chain(&group)
            .chain(&self.config.providers)
        {
            if let Ok(url) = provider_url(p) {
                if !out.contains(&url) {
                    out.push(url);
                }
            }
        }
        out
    }

    /// Updates the shared status.
    pub fn refresh_status(&self) {
        let stats = &self.downloads.stats;
        let downloaded = self
            .available
            .iter()
            .filter(|o| self.verified_path(o).is_some_and(|p| p.is_file()))
            .map(|o| o.id)
            .collect();
        let mut s = self.shared.status.lock().unwrap_or_else(|p| p.into_inner());
        let busy = s.busy.take();
        let last = s.last_checkin.take();
        *s = Status {
            name: self.config.name.clone(),
            machine_id: self.state.machine_id.clone(),
            settings: self.state.settings.clone(),
            providers: self.providers(),
            provider: self.last_provider.clone(),
            last_checkin: last,
            next_checkin: self.next_secs.map(|n| {
                transit_core::time::rfc3339(
                    transit_core::time::now() + time::Duration::seconds(n as i64),
                )
            }),
            available: self.available.clone(),
            downloaded,
            installed: self.installer.installed(),
            errors: self.state.errors.clone(),
            restart_required: self.state.restart_required,
            later: self.state.later,
            busy,
            verify_signatures: self.config.verify_signatures,
            discovery_key: self.config.discovery_key.clone(),
            received_bytes: stats.received.load(Ordering::Relaxed),
            dropped_connections: stats.dropped.load(Ordering::Relaxed),
            resumed: stats.resumed.load(Ordering::Relaxed),
            queued_downloads: stats.queued.load(Ordering::Relaxed),
            last_checkin_error: self.last_checkin_error.clone(),
            failed_checkins: self.failures,
        };
    }

    fn set_busy(&self, what: Option<&str>) {
        self.shared
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .busy = what.map(str::to_string);
    }

    /// A random check timer interval in `[check_min, check_max]`.
    pub fn timer_interval(&self) -> Duration {
        crate::backoff::timer(
            self.config.check_min,
            self.config.check_max,
            &mut rand::thread_rng(),
        )
    }

    /// How long to wait before the next check-in ([`crate::backoff::next_wait`]):
    /// the timer's random interval, but never before the provider's
    /// next-check time; after a check-in that found no provider, a retry
    /// spread out.
    pub fn next_wait(&self) -> Duration {
        crate::backoff::next_wait(
            self.failures,
            self.retry_after.map(Duration::from_secs),
            self.next_secs,
            self.config.check_min,
            self.config.check_max,
            &mut rand::thread_rng(),
        )
    }

    /// When the next scheduled install is due (Automatic mode, or the
    /// user's "later"), if something waits for it.
    pub fn next_install(&self) -> Option<time::OffsetDateTime> {
        let s = self.state.settings.as_ref()?;
        let waiting =
            !self.available.is_empty() && (self.state.later || s.settings.mode == Mode::Automatic);
        waiting.then(|| {
            schedule::next_window(
                transit_core::time::now(),
                s.settings.install_day,
                s.settings.install_hour,
            )
        })
    }

    fn checkin_body(&self) -> CheckIn {
        CheckIn {
            machine_id: self.state.machine_id.clone(),
            token: self.state.token.clone(),
            name: self.config.name.clone(),
            ip: None,
            group: self.config.group.clone(),
            cic_server: self.config.cic_server,
            installed: self.installer.installed(),
            errors: self.state.errors.iter().take(64).cloned().collect(),
            restart_required: self.state.restart_required,
        }
    }

    /// One check-in, trying each provider in order until one answers.
    pub async fn checkin(&mut self) -> Result<(String, CheckInReply), AgentError> {
        let body = self.checkin_body();
        let mut failures = Vec::new();
        self.retry_after = None;
        for base in self.providers() {
            match self
                .net
                .post::<_, CheckInReply>(&base, "/v1/checkin", &body)
                .await
            {
                Ok(reply) => {
                    if !failures.is_empty() {
                        self.log(&format!("failed over to {base} ({})", failures.join("; ")));
                    }
                    return Ok((base, reply));
                }
                Err(e) if e.try_next() => {
                    if let Some(secs) = e.retry_after() {
                        self.retry_after = Some(self.retry_after.unwrap_or(0).max(secs));
                    }
                    failures.push(e.to_string())
                }
                Err(e) => return Err(e.into()),
            }
        }
        if failures.is_empty() {
            failures.push("no provider is configured (`providers` in client.toml)".into());
        }
        Err(AgentError::NoProvider(failures))
    }

    async fn report(&mut self, base: &str) {
        if self.state.pending.is_empty() {
            return;
        }
        let body = Results {
            machine_id: self.state.machine_id.clone(),
            token: self.state.token.clone(),
            results: self.state.pending.clone(),
        };
        match self
            .net
            .post::<_, Accepted>(base, "/v1/results", &body)
            .await
        {
            Ok(_) => {
                self.state.pending.clear();
                let _ = self.save();
            }
            Err(e) => self.log(&format!("results not reported yet: {e}")),
        }
    }

    fn record(
        &mut self,
        applied: &mut Vec<Applied>,
        o: &OfferJson,
        status: ResultStatus,
        description: String,
    ) {
        self.log(&format!(
            "{} {} ({}): {:?} {description}",
            o.application, o.version, o.target, status
        ));
        if matches!(
            status,
            ResultStatus::DownloadFailed | ResultStatus::InstallFailed
        ) {
            self.state
                .errors
                .push(format!("{} {}: {description}", o.application, o.version));
            let n = self.state.errors.len();
            if n > 16 {
                self.state.errors.drain(..n - 16);
            }
        }
        self.state.pending.push(ResultEntry {
            update_id: o.id,
            status,
            description: description.clone(),
        });
        applied.push(Applied {
            id: o.id,
            application: o.application.clone(),
            status,
            description,
        });
    }

    /// One check-in cycle: check in, report results, and act on the
    /// offers as the trigger and the group's mode say.
    pub async fn cycle(&mut self, trigger: Trigger) -> Result<Vec<Applied>, AgentError> {
        self.set_busy(Some("checking in"));
        let result = self.cycle_inner(trigger).await;
        self.set_busy(None);
        match &result {
            Err(e @ AgentError::NoProvider(_)) => {
                // The providers' outage, not this machine's error: retried
                // soon (spread out), shown in status, not reported.
                self.failures = self.failures.saturating_add(1);
                self.last_checkin_error = Some(e.to_string());
                self.log(&format!(
                    "check-in found no provider ({} in a row): {e}",
                    self.failures
                ));
            }
            Err(e) => {
                self.log(&format!("check-in failed: {e}"));
                self.state.errors.push(format!("check-in: {e}"));
                let n = self.state.errors.len();
                if n > 16 {
                    self.state.errors.drain(..n - 16);
                }
                let _ = self.save();
            }
            Ok(_) => {}
        }
        self.refresh_status();
        result
    }

    async fn cycle_inner(&mut self, trigger: Trigger) -> Result<Vec<Applied>, AgentError> {
        let (base, reply) = self.checkin().await?;
        self.failures = 0;
        self.retry_after = None;
        self.last_checkin_error = None;
        // Reported: the errors are the provider's now.
        self.state.errors.clear();
        self.state.settings = Some(reply.settings.clone());
        self.next_secs = Some(reply.next_checkin_secs);
        self.last_provider = Some(base.clone());
        self.shared
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last_checkin = Some(transit_core::time::rfc3339(transit_core::time::now()));
        self.available = reply.updates.clone();
        self.save()?;
        self.refresh_status();
        self.log(&format!(
            "checked in at {base}: group {}, mode {}, {} update(s) offered",
            reply.settings.group,
            reply.settings.settings.mode,
            reply.updates.len()
        ));
        self.report(&base).await;

        let mode = reply.settings.settings.mode;
        let now = transit_core::time::now();
        let window = schedule::in_window(
            now,
            reply.settings.settings.install_day,
            reply.settings.settings.install_hour,
        );
        // Removals are forced by the provider; High Priority ignores mode and schedule.
        let mut now_ids: Vec<i64> = reply
            .updates
            .iter()
            .filter(|o| o.high_priority || !matches!(o.action, Action::Install))
            .map(|o| o.id)
            .collect();
        let mut download_ids: Vec<i64> = Vec::new();
        if trigger == Trigger::Timer {
            let due_later = self.state.later && window;
            match mode {
                Mode::Automatic if window => now_ids = reply.updates.iter().map(|o| o.id).collect(),
                Mode::Automatic | Mode::Download => {
                    download_ids = reply.updates.iter().map(|o| o.id).collect()
                }
                Mode::Notify | Mode::Manual => {}
            }
            if due_later {
                now_ids = reply.updates.iter().map(|o| o.id).collect();
                self.state.later = false;
                self.save()?;
            }
        }
        let mut applied = Vec::new();
        if !now_ids.is_empty() {
            applied = self
                .apply_on(&base, &Choice::Custom(now_ids.clone()))
                .await?;
        }
        let to_download: Vec<OfferJson> = self
            .available
            .iter()
            .filter(|o| download_ids.contains(&o.id) && !now_ids.contains(&o.id))
            .filter(|o| matches!(o.action, Action::Install))
            .cloned()
            .collect();
        if !to_download.is_empty() {
            let cancel = self.begin_op();
            self.set_busy(Some("downloading"));
            self.download_all(&base, &to_download, &cancel, &mut applied)
                .await;
            self.end_op();
        }
        if !applied.is_empty() {
            self.report(&base).await;
        }
        self.save()?;
        Ok(applied)
    }

    fn begin_op(&self) -> CancelToken {
        let cancel = CancelToken::new();
        self.downloads.set_cancel(cancel.clone());
        *self.shared.cancel.lock().unwrap_or_else(|p| p.into_inner()) = Some(cancel.clone());
        cancel
    }

    fn end_op(&self) {
        *self.shared.cancel.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn verified_path(&self, o: &OfferJson) -> Option<PathBuf> {
        let name = Path::new(&o.target)
            .file_name()?
            .to_string_lossy()
            .into_owned();
        Some(self.downloads.dir.join(format!("{}-{name}.verified", o.id)))
    }

    async fn open_repo(&self, base: &str) -> Result<VerifiedRepo, VerifyError> {
        let metadata = url::Url::parse(&format!("{base}/v1/repository/metadata/"))
            .map_err(|e| VerifyError::Unavailable(e.to_string()))?;
        let targets = url::Url::parse(&format!("{base}/v1/repository/targets/"))
            .map_err(|e| VerifyError::Unavailable(e.to_string()))?;
        let transport = self.net.transport(Arc::clone(&self.downloads));
        transit_update::client::refresh_with(&self.trust, metadata, targets, transport).await
    }

    /// Downloads and verifies one offer: tough checks the metadata, then
    /// the payload's length and hash as it streams from the downloaded
    /// file; only then is the `.verified` file named.
    async fn fetch_verified(
        &self,
        repo: &VerifiedRepo,
        o: &OfferJson,
    ) -> Result<(PathBuf, transit_update::client::VerifiedUpdate), VerifyError> {
        let update = repo.update_with(&o.target, self.config.verify_signatures)?;
        let m = &update.manifest;
        if !m.application.eq_ignore_ascii_case(&o.application) || m.install_version != o.version {
            return Err(VerifyError::PayloadMismatch {
                target: o.target.clone(),
                detail: format!(
                    "the offer says {} {}, the signed manifest {} {}",
                    o.application, o.version, m.application, m.install_version
                ),
            });
        }
        let dest = self
            .verified_path(o)
            .ok_or_else(|| VerifyError::NotFound(o.target.clone()))?;
        if dest.is_file() {
            // Verified before (the name is given only after tough's check);
            // hash again in case the disk changed under it.
            let path = dest.clone();
            let sha = tokio::task::spawn_blocking(move || sha256_file(&path))
                .await
                .map_err(|e| VerifyError::Unavailable(e.to_string()))??;
            if sha == update.sha256 {
                return Ok((dest, update));
            }
            let _ = std::fs::remove_file(&dest);
        }
        self.downloads.expect(&update.sha256, update.length);
        let stats = &self.downloads.stats;
        stats.last_bytes.store(0, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let result = repo
            .download_with(&o.target, &dest, self.config.verify_signatures)
            .await;
        match &result {
            Ok(u) => {
                let secs = started.elapsed().as_secs_f64();
                let bytes = stats.last_bytes.load(Ordering::Relaxed);
                if bytes > 0 {
                    let transfer = stats.last_micros.load(Ordering::Relaxed) as f64 / 1e6;
                    self.log(&format!(
                        "transfer of {}: {bytes} bytes in {transfer:.3} s ({:.2} MB/s)",
                        o.target,
                        bytes as f64 / transfer.max(1e-9) / 1e6
                    ));
                }
                self.log(&format!(
                    "verified {}: {} bytes, SHA-256 {} (download and verification {:.3} s)",
                    o.target, u.length, u.sha256, secs
                ));
                self.downloads.discard(&update.sha256);
            }
            Err(VerifyError::PayloadMismatch { .. }) => self.downloads.discard(&update.sha256),
            Err(_) => {}
        }
        result.map(|u| (dest, u))
    }

    async fn download_all(
        &mut self,
        base: &str,
        offers: &[OfferJson],
        cancel: &CancelToken,
        applied: &mut Vec<Applied>,
    ) {
        let repo = match self.open_repo(base).await {
            Ok(r) => r,
            Err(e) => {
                for o in offers {
                    self.record(
                        applied,
                        o,
                        ResultStatus::DownloadFailed,
                        format!("metadata refused: {e}"),
                    );
                }
                return;
            }
        };
        for o in offers {
            if cancel.is_cancelled() {
                break;
            }
            if self.verified_path(o).is_some_and(|p| p.is_file()) {
                continue;
            }
            match self.fetch_verified(&repo, o).await {
                Ok(_) => self.record(applied, o, ResultStatus::Downloaded, String::new()),
                Err(e) => self.record(applied, o, ResultStatus::DownloadFailed, e.to_string()),
            }
        }
    }

    fn run_control(&self, argv: &[String], what: &str, app: &str) {
        let Some((program, args)) = argv.split_first() else {
            return;
        };
        match std::process::Command::new(program).args(args).status() {
            Ok(s) if s.success() => self.log(&format!("{what} {app}: done")),
            Ok(s) => self.log(&format!("{what} {app}: {s}")),
            Err(e) => self.log(&format!("{what} {app}: {program}: {e}")),
        }
    }

    /// Applies offers now (Express: all; Custom: the chosen), checking in
    /// first when the agent has not yet. Downloads what is missing.
    pub async fn apply(&mut self, choice: &Choice) -> Result<Vec<Applied>, AgentError> {
        let base = match self.last_provider.clone() {
            Some(b) if !self.available.is_empty() => b,
            _ => {
                let (base, reply) = self.checkin().await?;
                self.available = reply.updates;
                self.state.settings = Some(reply.settings);
                self.last_provider = Some(base.clone());
                base
            }
        };
        let r = self.apply_on(&base, choice).await;
        self.report(&base).await;
        let _ = self.save();
        self.refresh_status();
        r
    }

    async fn apply_on(&mut self, base: &str, choice: &Choice) -> Result<Vec<Applied>, AgentError> {
        let chosen: Vec<OfferJson> = self
            .available
            .iter()
            .filter(|o| match choice {
                Choice::Express => true,
                Choice::Custom(ids) => ids.contains(&o.id),
            })
            .cloned()
            .collect();
        let cancel = self.begin_op();
        self.set_busy(Some("applying"));
        let r = self.apply_offers(base, &chosen, &cancel).await;
        self.end_op();
        self.set_busy(None);
        let applied = r?;
        let done: Vec<i64> = applied
            .iter()
            .filter(|a| matches!(a.status, ResultStatus::Installed | ResultStatus::Removed))
            .map(|a| a.id)
            .collect();
        self.available.retain(|o| !done.contains(&o.id));
        if self.available.is_empty() {
            self.state.later = false;
        }
        self.save()?;
        self.refresh_status();
        Ok(applied)
    }

    async fn apply_offers(
        &mut self,
        base: &str,
        offers: &[OfferJson],
        cancel: &CancelToken,
    ) -> Result<Vec<Applied>, AgentError> {
        let mut applied = Vec::new();
        let installs: Vec<&OfferJson> = offers
            .iter()
            .filter(|o| matches!(o.action, Action::Install))
            .collect();
        let mut repo = None;
        if !installs.is_empty() {
            if let Err(e) = crate::licence::check(self.config.server_root.as_deref()) {
                for o in &installs {
                    self.record(&mut applied, o, ResultStatus::InstallFailed, e.to_string());
                }
                return Ok(applied);
            }
            match self.open_repo(base).await {
                Ok(r) => repo = Some(r),
                Err(e) => {
                    for o in &installs {
                        self.record(
                            &mut applied,
                            o,
                            ResultStatus::DownloadFailed,
                            format!("metadata refused, nothing installed: {e}"),
                        );
                    }
                    return Ok(applied);
                }
            }
        }
        for o in offers {
            if cancel.is_cancelled() {
                self.log("cancelled: no further updates are started");
                break;
            }
            match &o.action {
                Action::Install => {
                    let repo = repo.as_ref().expect("opened above for installs");
                    let (path, update) = match self.fetch_verified(repo, o).await {
                        Ok(v) => v,
                        Err(e) => {
                            self.record(
                                &mut applied,
                                o,
                                ResultStatus::DownloadFailed,
                                e.to_string(),
                            );
                            continue;
                        }
                    };
                    let control = self.config.apps.get(&o.application).cloned();
                    if let Some(c) = &control {
                        self.run_control(&c.stop, "stop", &o.application);
                    }
                    self.set_busy(Some(&format!("installing {} {}", o.application, o.version)));
                    let installer = self.installer.clone();
                    let manifest = update.manifest.clone();
                    let id = o.id;
                    let c2 = cancel.clone();
                    let p2 = path.clone();
                    let result = tokio::task::spawn_blocking(move || {
                        installer.install(id, &manifest, &p2, &c2)
                    })
                    .await
                    .unwrap_or_else(|e| {
                        Err(InstallError::Io(PathIoError::new(
                            &path,
                            std::io::Error::other(e.to_string()),
                        )))
                    });
                    if let Some(c) = &control {
                        self.run_control(&c.start, "start", &o.application);
                    }
                    match result {
                        Ok(done) => {
                            let _ = std::fs::remove_file(&path);
                            if done.restart_required {
                                self.state.restart_required = true;
                            }
                            let mut note = String::new();
                            if done.restart_required {
                                note.push_str("restart required");
                            }
                            if let Some(p) =
                                update
                                    .manifest
                                    .installer_properties
                                    .iter()
                                    .find_map(|(k, v)| {
                                        k.eq_ignore_ascii_case(MOVE_PROPERTY).then_some(v)
                                    })
                            {
                                match provider_url(p) {
                                    Ok(url) => {
                                        self.state.moved_to = vec![url.clone()];
                                        self.log(&format!("{MOVE_PROPERTY}: this client now checks in at {url} first"));
                                        if !note.is_empty() {
                                            note.push_str("; ");
                                        }
                                        note.push_str(&format!("moved to provider {url}"));
                                    }
                                    Err(e) => self.log(&format!("{MOVE_PROPERTY} ignored: {e}")),
                                }
                            }
                            self.record(&mut applied, o, ResultStatus::Installed, note);
                        }
                        Err(e) => {
                            self.record(&mut applied, o, ResultStatus::InstallFailed, e.to_string())
                        }
                    }
                }
                Action::RollBack { to } => {
                    let r = self.remove(o.id, &o.application, Some(*to)).await;
                    match r {
                        Ok(()) => self.record(
                            &mut applied,
                            o,
                            ResultStatus::Removed,
                            format!("rolled back to {to}"),
                        ),
                        Err(e) => {
                            self.record(&mut applied, o, ResultStatus::InstallFailed, e.to_string())
                        }
                    }
                }
                Action::Uninstall => {
                    let r = self.remove(o.id, &o.application, None).await;
                    match r {
                        Ok(()) => self.record(
                            &mut applied,
                            o,
                            ResultStatus::Removed,
                            "uninstalled".into(),
                        ),
                        Err(e) => {
                            self.record(&mut applied, o, ResultStatus::InstallFailed, e.to_string())
                        }
                    }
                }
            }
            self.save()?;
        }
        Ok(applied)
    }

    async fn remove(
        &self,
        id: i64,
        application: &str,
        to: Option<transit_update::InstallVersion>,
    ) -> Result<(), InstallError> {
        let installer = self.installer.clone();
        let app = application.to_string();
        tokio::task::spawn_blocking(move || installer.remove(id, &app, to))
            .await
            .unwrap_or_else(|e| {
                Err(InstallError::Io(PathIoError::new(
                    Path::new(application),
                    std::io::Error::other(e.to_string()),
                )))
            })
    }

    /// Chooses "later": the offers install at the next scheduled time.
    pub fn later(&mut self) -> Result<Option<String>, AgentError> {
        self.state.later = true;
        self.save()?;
        self.refresh_status();
        Ok(self.state.settings.as_ref().map(|s| {
            transit_core::time::rfc3339(schedule::next_window(
                transit_core::time::now(),
                s.settings.install_day,
                s.settings.install_hour,
            ))
        }))
    }

    /// Installs a bundle file directly (the first install of an
    /// application on a machine, as the vendor's installer does before
    /// the client can update it): the bundle's signature, publisher and
    /// payload hash are checked before anything is unpacked, and the
    /// licence gate applies.
    pub fn install_bundle(&mut self, path: &Path) -> Result<crate::install::Installed, AgentError> {
        crate::licence::check(self.config.server_root.as_deref())?;
        let dir = self.downloads.dir.clone();
        std::fs::create_dir_all(&dir).at(&dir)?;
        let mut payload = tempfile::NamedTempFile::new_in(&dir).at(&dir)?;
        let cancel = CancelToken::new();
        let payload_path = payload.path().to_path_buf();
        let verified = {
            let mut sink = std::io::BufWriter::with_capacity(1 << 20, payload.as_file_mut());
            let v = transit_update::bundle::verify(
                path,
                &mut sink,
                &cancel,
                &transit_core::NoProgress,
            )?;
            std::io::Write::flush(&mut sink).at(&payload_path)?;
            v
        };
        if self.config.verify_signatures {
            verified.check_publisher(&self.trust.allow, path)?;
        }
        let done = self
            .installer
            .install(0, &verified.manifest, payload.path(), &cancel)?;
        if done.restart_required {
            self.state.restart_required = true;
            self.save()?;
        }
        self.log(&format!(
            "installed {} {} from {}",
            verified.manifest.application,
            verified.manifest.install_version,
            path.display()
        ));
        self.refresh_status();
        Ok(done)
    }

    /// The offers from the last check-in.
    pub fn available(&self) -> &[OfferJson] {
        &self.available
    }
}
