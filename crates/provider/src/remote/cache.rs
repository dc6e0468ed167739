//! The remote provider's cache of the upstream repository, under
//! `cache/` in its data folder.
//!
//! - Payloads and versioned metadata (`3.root.json`, `7.snapshot.json`,
//!   `<sha256>.name` targets) never change under their names: each is
//!   fetched from upstream once, by the first client that asks, while the
//!   others wait for that one fetch ([`Cache::ensure`]), and kept.
//!   A payload whose name carries its SHA-256 is checked against it
//!   before it is kept.
//! - `timestamp.json` (and any other unversioned file) is fetched again
//!   once it is older than the metadata TTL. When upstream cannot be
//!   reached, the copy held is served, however old: the client's TUF
//!   check is what refuses metadata that has expired.

use super::Remote;
use crate::http::download::{safe_join, serve_file};
use crate::http::error::ApiError;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use transit_core::IoContext;

/// What is cached where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// TUF metadata.
    Metadata,
    /// Payloads.
    Targets,
}

impl Area {
    fn dir(self) -> &'static str {
        match self {
            Area::Metadata => "metadata",
            Area::Targets => "targets",
        }
    }
}

/// Why a file could not be had.
#[derive(Debug)]
pub enum Miss {
    /// Upstream says there is no such file (or, cut off, the cache has no
    /// copy of a versioned metadata file: a mirror serves what it holds).
    NotFound,
    /// Upstream refused with this status and body (passed on).
    Refused(StatusCode, bytes::Bytes),
    /// Upstream could not be reached and nothing is cached.
    Unreachable(String),
    /// The fetched bytes do not match the SHA-256 in the name.
    Corrupt(String),
    /// The cache folder failed.
    Io(String),
}

/// The cache.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    fresh: Mutex<HashMap<String, Instant>>,
    target_fetches: AtomicU64,
    metadata_fetches: AtomicU64,
}

impl Cache {
    /// Opens (creating) the cache folder; leftovers of interrupted fetches
    /// are removed.
    pub fn open(dir: &Path) -> Result<Cache, transit_core::PathIoError> {
        for sub in ["metadata", "targets"] {
            std::fs::create_dir_all(dir.join(sub)).at(dir.join(sub))?;
        }
        let tmp = dir.join("tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).at(&tmp)?;
        }
        std::fs::create_dir_all(&tmp).at(&tmp)?;
        Ok(Cache {
            dir: dir.to_path_buf(),
            flights: Default::default(),
            fresh: Default::default(),
            target_fetches: Default::default(),
            metadata_fetches: Default::default(),
        })
    }

    /// Payloads fetched from upstream since start.
    pub fn target_fetches(&self) -> u64 {
        self.target_fetches.load(Ordering::Relaxed)
    }

    /// Metadata files fetched from upstream since start.
    pub fn metadata_fetches(&self) -> u64 {
        self.metadata_fetches.load(Ordering::Relaxed)
    }

    /// Payload files held.
    pub fn cached_targets(&self) -> u64 {
        fn count(dir: &Path) -> u64 {
            std::fs::read_dir(dir).map_or(0, |entries| {
                entries
                    .flatten()
                    .map(|e| match e.file_type() {
                        Ok(t) if t.is_dir() => count(&e.path()),
                        Ok(t) if t.is_file() => 1,
                        _ => 0,
                    })
                    .sum()
            })
        }
        count(&self.dir.join("targets"))
    }

    fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(flights.entry(key.to_string()).or_default())
    }

    fn is_fresh(&self, key: &str, remote: &Remote) -> bool {
        self.fresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .is_some_and(|at| at.elapsed() < remote.config.metadata_ttl)
    }

    /// The cached file for `rel` in `area`, fetched from upstream first when
    /// it is missing (or, for unversioned metadata, stale). One fetch per
    /// file at a time: the clients that ask meanwhile wait for it.
    pub async fn ensure(&self, remote: &Remote, area: Area, rel: &str) -> Result<PathBuf, Miss> {
        let path = safe_join(self.dir.join(area.dir()), rel).ok_or(Miss::NotFound)?;
        let immutable = area == Area::Targets || is_versioned(rel);
        let key = format!("{}/{rel}", area.dir());
        if path.is_file() && (immutable || self.is_fresh(&key, remote)) {
            return Ok(path);
        }
        let flight = self.flight(&key);
        let _one = flight.lock().await;
        if path.is_file() && (immutable || self.is_fresh(&key, remote)) {
            return Ok(path);
        }
        match self.fetch(remote, area, rel, &path).await {
            Ok(()) => {
                self.fresh
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key, Instant::now());
                Ok(path)
            }
            Err(Miss::Unreachable(why)) => {
                if path.is_file() {
                    tracing::warn!(
                        file = rel,
                        "upstream unreachable ({why}): serving the cached copy"
                    );
                    Ok(path)
                } else if area == Area::Metadata && immutable {
                    Err(Miss::NotFound)
                } else {
                    Err(Miss::Unreachable(why))
                }
            }
            Err(other) => Err(other),
        }
    }

    async fn fetch(&self, remote: &Remote, area: Area, rel: &str, path: &Path) -> Result<(), Miss> {
        let url = format!(
            "{}/v1/repository/{}/{rel}",
            remote.config.upstream,
            area.dir()
        );
        let unreachable = |e: reqwest::Error| Miss::Unreachable(format!("{url}: {e}"));
        let sent = tokio::time::timeout(remote.config.relay_timeout, remote.http.get(&url).send())
            .await
            .map_err(|_| Miss::Unreachable(format!("{url}: no answer in time")))?;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                remote.upstream(false);
                return Err(unreachable(e));
            }
        };
        remote.upstream(true);
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Err(Miss::NotFound);
        }
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
                return Err(Miss::Unreachable(format!("{url}: {status}")));
            }
            return Err(Miss::Refused(status, body));
        }
        let tmp = tempfile::NamedTempFile::new_in(self.dir.join("tmp"))
            .map_err(|e| Miss::Io(e.to_string()))?;
        let mut file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| Miss::Io(e.to_string()))?;
        let mut hasher = Sha256::new();
        loop {
            let chunk = tokio::time::timeout(remote.config.relay_timeout, response.chunk())
                .await
                .map_err(|_| Miss::Unreachable(format!("{url}: the transfer stalled")))?;
            match chunk {
                Ok(Some(bytes)) => {
                    hasher.update(&bytes);
                    let data = bytes.clone();
                    file = tokio::task::spawn_blocking(move || file.write_all(&data).map(|_| file))
                        .await
                        .map_err(|e| Miss::Io(e.to_string()))?
                        .map_err(|e| Miss::Io(e.to_string()))?;
                }
                Ok(None) => break,
                Err(e) => {
                    remote.upstream(false);
                    return Err(unreachable(e));
                }
            }
        }
        if let Some(want) = named_digest(rel) {
            let got = hex::encode(hasher.finalize());
            if !got.eq_ignore_ascii_case(want) {
                return Err(Miss::Corrupt(format!(
                    "{rel} from upstream has SHA-256 {got}, not the {want} its name says"
                )));
            }
        }
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            tmp.as_file().sync_all()?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        })
        .await
        .map_err(|e| Miss::Io(e.to_string()))?
        .map_err(|e| Miss::Io(e.to_string()))?;
        match area {
            Area::Targets => &self.target_fetches,
            Area::Metadata => &self.metadata_fetches,
        }
        .fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// `3.root.json`, `12.snapshot.json`: a version number first.
fn is_versioned(name: &str) -> bool {
    name.split_once('.')
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The SHA-256 a consistent-snapshot target name starts with, if any.
fn named_digest(rel: &str) -> Option<&str> {
    let name = rel.rsplit('/').next()?;
    let (digest, _) = name.split_once('.')?;
    (digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())).then_some(digest)
}

fn miss_response(miss: Miss) -> Response {
    match miss {
        Miss::NotFound => ApiError::not_found("no such file in the repository").into_response(),
        Miss::Refused(status, body) => {
            let mut r = Response::new(axum::body::Body::from(body));
            *r.status_mut() = status;
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            );
            r
        }
        Miss::Unreachable(why) => {
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream_unreachable",
                format!("this remote provider cannot reach its upstream and holds no copy: {why}"),
            );
            e.retry_after = Some(60);
            e.into_response()
        }
        Miss::Corrupt(why) => {
            ApiError::new(StatusCode::BAD_GATEWAY, "upstream_corrupt", why).into_response()
        }
        Miss::Io(why) => ApiError::internal(why).into_response(),
    }
}

/// `GET /v1/repository/metadata/{file}` from the cache.
pub async fn metadata(
    State(remote): State<Arc<Remote>>,
    UrlPath(file): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if !file.ends_with(".json") || file.contains('/') {
        return ApiError::not_found("metadata files are *.json").into_response();
    }
    match remote.cache.ensure(&remote, Area::Metadata, &file).await {
        Ok(path) => serve_file(path, &headers, "application/json", None).await,
        Err(miss) => miss_response(miss),
    }
}

/// `GET /v1/repository/targets/{*path}` from the cache.
pub async fn target(
    State(remote): State<Arc<Remote>>,
    UrlPath(rel): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    match remote.cache.ensure(&remote, Area::Targets, &rel).await {
        Ok(path) => serve_file(path, &headers, "application/octet-stream", None).await,
        Err(miss) => miss_response(miss),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_versioned("3.root.json"));
        assert!(is_versioned("12.snapshot.json"));
        assert!(!is_versioned("timestamp.json"));
        assert!(!is_versioned("root.json"));
        let d = "a".repeat(64);
        assert_eq!(
            named_digest(&format!("x/{d}.app.tbundle")),
            Some(d.as_str())
        );
        assert_eq!(named_digest("app.tbundle"), None);
    }
}
