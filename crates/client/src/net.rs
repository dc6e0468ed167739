//! The agent's HTTP side (reqwest over rustls, through the configured
//! proxy): the provider's client API with replies capped at
//! `max_message_size`, and [`FetchTransport`], the tough transport that
//! fetches metadata and downloads payloads resumably (HTTP Range after a
//! dropped connection, a `.part` file that survives restarts) at a
//! limited rate.
//!
//! The transport only moves bytes: tough checks every metadata file and
//! hashes every payload it streams from the finished `.part` file.

use crate::config::ClientConfig;
use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tough::{Transport, TransportError, TransportErrorKind, TransportStream};
use transit_core::{CancelToken, ErrorKind, Kind};
use transit_provider::api::ApiErrorBody;
use url::Url;

/// Reads of a download, and of a finished `.part` file handed to tough.
pub const CHUNK: usize = 1 << 20;

/// The largest metadata file fetched (tough's own limits are smaller).
pub const METADATA_MAX: usize = 64 << 20;

/// Attempts per payload before a download fails (each dropped connection
/// costs one; the bytes already received are kept).
pub const ATTEMPTS: u32 = 30;

/// A request to a provider that failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The provider could not be reached, or the connection broke.
    #[error("provider {url} not reachable: {detail}")]
    Unreachable {
        /// The URL.
        url: String,
        /// What happened.
        detail: String,
    },
    /// The reply is larger than `max_message_size`.
    #[error("the reply from {url} is larger than max_message_size ({limit} bytes); raise `max_message_size` in client.toml (at most 2147483647)")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// The provider refused the request.
    #[error("provider {url} refused ({status} {code}): {message}")]
    Api {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The stable error code.
        code: String,
        /// The provider's message.
        message: String,
        /// The provider's `Retry-After`, in seconds (an overloaded provider).
        retry_after: Option<u64>,
    },
    /// The reply does not parse.
    #[error("the reply from {url} does not parse: {problem}")]
    Decode {
        /// The URL.
        url: String,
        /// Why.
        problem: String,
    },
    /// The HTTP client could not be built (proxy URL).
    #[error("{0}")]
    Setup(String),
}

/// The `Retry-After` seconds of a reply, if it gives them (at most an hour).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| s.min(3600))
}

impl NetError {
    /// The provider's `Retry-After`, when it asked the client to come back later.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            NetError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True when another provider might answer (the failover rule): the
    /// provider is unreachable or overloaded, or failed internally.
    pub fn try_next(&self) -> bool {
        match self {
            NetError::Unreachable { .. } => true,
            NetError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

impl Kind for NetError {
    fn kind(&self) -> ErrorKind {
        match self {
            NetError::TooLarge { .. } => ErrorKind::UpdateTooLarge,
            NetError::Api { status: 403, .. } | NetError::Api { status: 409, .. } => {
                ErrorKind::Refused
            }
            NetError::Setup(_) => ErrorKind::Usage,
            _ => ErrorKind::Other,
        }
    }
}

/// Counters of the payload downloads since the agent started.
#[derive(Debug, Default)]
pub struct DownloadStats {
    /// Payload bytes received from providers.
    pub received: AtomicU64,
    /// Connections that broke before their range was complete.
    pub dropped: AtomicU64,
    /// Downloads resumed with a Range request.
    pub resumed: AtomicU64,
    /// Times a download was told to wait its turn (group limit, busy provider).
    pub queued: AtomicU64,
    /// Bytes received by the last payload download that used the network.
    pub last_bytes: AtomicU64,
    /// Its duration in microseconds (from the first request to the last byte).
    pub last_micros: AtomicU64,
}

/// The agent's HTTP client.
#[derive(Debug, Clone)]
pub struct Net {
    http: reqwest::Client,
    max_message: u64,
    send_timeout: Duration,
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl Net {
    /// A client for `config`: its proxy (or none: the environment's proxy
    /// variables are ignored), its send timeout as the read timeout.
    pub fn new(config: &ClientConfig, machine_id: &str) -> Result<Net, NetError> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(v) = reqwest::header::HeaderValue::from_str(machine_id) {
            headers.insert(transit_provider::http::download::MACHINE_HEADER, v);
        }
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(10).min(config.send_timeout))
            .read_timeout(config.send_timeout)
            .tcp_nodelay(true);
        builder = match &config.proxy {
            None => builder.no_proxy(),
            Some(p) => {
                let mut proxy = reqwest::Proxy::all(&p.url)
                    .map_err(|e| NetError::Setup(format!("proxy {}: {e}", p.url)))?;
                if let Some(user) = &p.user {
                    let password = p
                        .password
                        .as_ref()
                        .map(|s| s.expose_secret().to_string())
                        .unwrap_or_default();
                    proxy = proxy.basic_auth(user, &password);
                }
                builder.proxy(proxy)
            }
        };
        let http = builder.build().map_err(|e| NetError::Setup(describe(&e)))?;
        Ok(Net {
            http,
            max_message: config.max_message_size,
            send_timeout: config.send_timeout,
        })
    }

    /// POSTs `body` to `base` + `path` and reads a JSON reply of at most
    /// `max_message_size` bytes, within the send timeout.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        base: &str,
        path: &str,
        body: &B,
    ) -> Result<T, NetError> {
        let url = format!("{base}{path}");
        let unreachable = |e: reqwest::Error| NetError::Unreachable {
            url: url.clone(),
            detail: describe(&e),
        };
        let mut response = self
            .http
            .post(&url)
            .timeout(self.send_timeout)
            .json(body)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let too_large = || NetError::TooLarge {
            url: url.clone(),
            limit: self.max_message,
        };
        if response
            .content_length()
            .is_some_and(|n| n > self.max_message)
        {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if (bytes.len() + chunk.len()) as u64 > self.max_message {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ApiErrorBody>(&bytes) {
                Ok(body) => NetError::Api {
                    url,
                    status: status.as_u16(),
                    code: body.code,
                    message: body.error,
                    retry_after,
                },
                Err(_) => NetError::Api {
                    url,
                    status: status.as_u16(),
                    code: status.canonical_reason().unwrap_or("error").to_lowercase(),
                    message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                    retry_after,
                },
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| NetError::Decode {
            url,
            problem: e.to_string(),
        })
    }

    /// A tough transport over this client.
    pub fn transport(&self, download: Arc<Downloads>) -> FetchTransport {
        FetchTransport {
            http: self.http.clone(),
            download,
        }
    }
}

/// What the downloads of one agent share: the folder of `.part` files,
/// the expected length of each payload (by SHA-256, the prefix of its
/// consistent-snapshot name), the rate limit, the cancel token of the
/// current operation and the counters.
#[derive(Debug)]
pub struct Downloads {
    /// The folder of `.part` files.
    pub dir: PathBuf,
    /// Bytes per second, 0 for no limit.
    pub max_rate: u64,
    /// Counters.
    pub stats: DownloadStats,
    expected: Mutex<HashMap<String, u64>>,
    cancel: Mutex<CancelToken>,
}

impl Downloads {
    /// Downloads into `dir` at `max_rate` bytes/s (0: unlimited).
    pub fn new(dir: PathBuf, max_rate: u64) -> Downloads {
        Downloads {
            dir,
            max_rate,
            stats: DownloadStats::default(),
            expected: Mutex::new(HashMap::new()),
            cancel: Mutex::new(CancelToken::new()),
        }
    }

    /// Announces a payload (from verified metadata): the transport
    /// fetches no more than `length` bytes for it.
    pub fn expect(&self, sha256: &str, length: u64) {
        self.expected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(sha256.to_string(), length);
    }

    /// Sets the token that stops downloads (a new one per operation).
    pub fn set_cancel(&self, cancel: CancelToken) {
        *self.cancel.lock().unwrap_or_else(|p| p.into_inner()) = cancel;
    }

    fn cancel(&self) -> CancelToken {
        self.cancel
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The `.part` file of the payload with this SHA-256 (whatever its name).
    pub fn part_path(&self, file_name: &str) -> PathBuf {
        self.dir.join(format!("{file_name}.part"))
    }

    /// Deletes the `.part` files of the payload with this SHA-256.
    pub fn discard(&self, sha256: &str) {
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(sha256) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

/// The tough transport of the agent: metadata by plain GET, payloads
/// resumable into `.part` files.
#[derive(Debug, Clone)]
pub struct FetchTransport {
    http: reqwest::Client,
    download: Arc<Downloads>,
}

fn other(url: &Url, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> TransportError {
    TransportError::new_with_cause(TransportErrorKind::Other, url.as_str(), e)
}

/// Streams a file in 1 MiB reads.
fn file_stream(path: &Path, url: &Url) -> Result<TransportStream, TransportError> {
    let file = std::fs::File::open(path).map_err(|e| other(url, e))?;
    let url = url.clone();
    let stream = futures::stream::unfold(Some(file), move |file| {
        let url = url.clone();
        async move {
            let file = file?;
            let read = tokio::task::spawn_blocking(move || {
                let mut file = file;
                let mut buf = vec![0u8; CHUNK];
                let mut filled = 0;
                while filled < CHUNK {
                    match std::io::Read::read(&mut file, &mut buf[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                buf.truncate(filled);
                Ok((file, buf))
            })
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
            match read {
                Ok((_, buf)) if buf.is_empty() => None,
                Ok((file, buf)) => Some((Ok(bytes::Bytes::from(buf)), Some(file))),
                Err(e) => Some((Err(other(&url, e)), None)),
            }
        }
    });
    Ok(Box::pin(stream))
}

impl FetchTransport {
    /// Downloads a payload announced with [`Downloads::expect`] into its
    /// `.part` file, as the agent does (resuming after drops, waiting its
    /// turn when the provider says so), without handing it to tough; its
    /// path. For tools and tests that exercise the provider's limits.
    pub async fn download(&self, url: &str) -> Result<PathBuf, String> {
        let parsed = Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        let name = parsed
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("payload")
            .to_string();
        drop(self.payload(parsed).await.map_err(|e| format!("{e:?}"))?);
        Ok(self.download.part_path(&name))
    }

    async fn metadata(&self, url: Url) -> Result<TransportStream, TransportError> {
        let response = self
            .http
            .get(url.as_str())
            .send()
            .await
            .map_err(|e| other(&url, describe(&e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(TransportError::new(TransportErrorKind::FileNotFound, url));
        }
        if !status.is_success() {
            return Err(other(&url, format!("HTTP {status}")));
        }
        // Metadata is small (tough bounds each role's size): read it whole.
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| other(&url, describe(&e)))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > METADATA_MAX {
                return Err(other(
                    &url,
                    format!("metadata larger than {METADATA_MAX} bytes"),
                ));
            }
        }
        let once = futures::stream::once(futures::future::ready(Ok(bytes::Bytes::from(body))));
        Ok(Box::pin(once))
    }

    /// Downloads `url` into its `.part` file, resuming after drops, and
    /// returns the file's stream once it holds `expected` bytes.
    async fn payload(&self, url: Url) -> Result<TransportStream, TransportError> {
        let name = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("payload")
            .to_string();
        let sha = name.split('.').next().unwrap_or("").to_string();
        let Some(expected) = self
            .download
            .expected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&sha)
            .copied()
        else {
            return Err(other(&url, "a payload the agent did not announce"));
        };
        std::fs::create_dir_all(&self.download.dir).map_err(|e| other(&url, e))?;
        let part = self.download.part_path(&name);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&part)
            .map_err(|e| other(&url, e))?;
        let cancel = self.download.cancel();
        let stats = &self.download.stats;
        let rate = self.download.max_rate;
        let mut attempt = 0u32;
        let mut last_error = String::new();
        let began = Instant::now();
        let received_before = stats.received.load(Ordering::Relaxed);
        let mut fetched = false;
        loop {
            let have = file.metadata().map_err(|e| other(&url, e))?.len();
            if have == expected {
                break;
            }
            if have > expected {
                file.set_len(0).map_err(|e| other(&url, e))?;
                continue;
            }
            if cancel.is_cancelled() {
                return Err(other(&url, "cancelled"));
            }
            if attempt >= ATTEMPTS {
                return Err(other(
                    &url,
                    format!("gave up after {ATTEMPTS} attempts ({have} of {expected} bytes): {last_error}"),
                ));
            }
            if attempt > 0 {
                let backoff = Duration::from_millis(100 * u64::from(attempt.min(20)));
                tokio::time::sleep(backoff).await;
            }
            attempt += 1;
            fetched = true;
            let mut req = self.http.get(url.as_str());
            if have > 0 {
                req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
                stats.resumed.fetch_add(1, Ordering::Relaxed);
            }
            let mut response = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    last_error = describe(&e);
                    continue;
                }
            };
            let status = response.status();
            match status.as_u16() {
                404 => return Err(TransportError::new(TransportErrorKind::FileNotFound, url)),
                416 => {
                    file.set_len(0).map_err(|e| other(&url, e))?;
                    continue;
                }
                206 => {}
                200 => {
                    // The whole file again: start over.
                    file.set_len(0).map_err(|e| other(&url, e))?;
                }
                503 | 429 if retry_after(response.headers()).is_some() => {
                    // The group's downloads are at their limit (or the
                    // provider is busy): wait the turn we are given, which
                    // costs no attempt; a queued download never fails.
                    let secs = retry_after(response.headers()).unwrap_or(1).max(1);
                    attempt -= 1;
                    stats.queued.fetch_add(1, Ordering::Relaxed);
                    let wait = Duration::from_secs(secs)
                        + Duration::from_millis(rand::random::<u64>() % (secs * 500));
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(other(&url, "cancelled")),
                        _ = tokio::time::sleep(wait) => {}
                    }
                    continue;
                }
                s if s >= 500 => {
                    last_error = format!("HTTP {status}");
                    continue;
                }
                _ => {
                    let detail = response
                        .json::<ApiErrorBody>()
                        .await
                        .map(|b| b.error)
                        .unwrap_or_default();
                    return Err(other(&url, format!("HTTP {status}: {detail}")));
                }
            }
            let mut written = file.metadata().map_err(|e| other(&url, e))?.len();
            let mut broke = false;
            let start = Instant::now();
            let mut this_time = 0u64;
            loop {
                if cancel.is_cancelled() {
                    return Err(other(&url, "cancelled"));
                }
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = expected.saturating_sub(written) as usize;
                        let take = chunk.len().min(room);
                        file.write_all(&chunk[..take]).map_err(|e| other(&url, e))?;
                        written += take as u64;
                        this_time += chunk.len() as u64;
                        stats
                            .received
                            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                        if take < chunk.len() {
                            // More than the verified length: tough will refuse it.
                            break;
                        }
                        if rate > 0 {
                            let due = Duration::from_secs_f64(this_time as f64 / rate as f64);
                            let spent = start.elapsed();
                            if due > spent {
                                tokio::time::sleep(due - spent).await;
                            }
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        stats.dropped.fetch_add(1, Ordering::Relaxed);
                        last_error = describe(&e);
                        broke = true;
                        break;
                    }
                }
            }
            if written < expected && !broke {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                last_error = format!("the connection ended at {written} of {expected} bytes");
            }
            if written >= expected {
                break;
            }
        }
        if fetched {
            let got = stats.received.load(Ordering::Relaxed) - received_before;
            stats.last_bytes.store(got, Ordering::Relaxed);
            stats
                .last_micros
                .store(began.elapsed().as_micros() as u64, Ordering::Relaxed);
        }
        file.flush().map_err(|e| other(&url, e))?;
        file.seek(SeekFrom::Start(0)).map_err(|e| other(&url, e))?;
        drop(file);
        file_stream(&part, &url)
    }
}

#[async_trait]
impl Transport for FetchTransport {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        match url.scheme() {
            "http" | "https" => {}
            _ => {
                return Err(TransportError::new(
                    TransportErrorKind::UnsupportedUrlScheme,
                    url,
                ))
            }
        }
        if url.path().contains("/repository/targets/") {
            self.payload(url).await
        } else {
            self.metadata(url).await
        }
    }
}
