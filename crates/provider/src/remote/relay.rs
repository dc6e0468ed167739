//! Relaying the client API upstream.
//!
//! - A check-in goes upstream with the client's IP filled in; upstream's
//!   reply is passed back and remembered for that machine. When upstream
//!   is down, the check-in waits in the outbox (committed before the
//!   reply) and the client is answered from the reply remembered for it,
//!   with a note saying so; a machine upstream never answered gets 503
//!   and fails over to its next provider.
//! - Results go upstream, or wait in the outbox.
//! - Progress goes upstream when it can; it is dropped when upstream is
//!   down (the next report supersedes it anyway).
//! - The outbox is relayed in order once upstream answers again: at once
//!   after any request that reached upstream, and every `retry_every`.
//! - A reply that offers updates warms the cache's `timestamp.json`: the
//!   machine asks for it next.

use super::Remote;
use crate::api::{CheckIn, CheckInReply, ProgressReport, Results, Status, API_VERSION};
use crate::http::client_api::{hash_token, validate};
use crate::http::error::{ApiError, ApiJson};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use transit_core::CancelToken;

/// What became of one request sent upstream.
enum Sent {
    /// Upstream answered (any status but a server failure).
    Answered(StatusCode, Option<HeaderValue>, bytes::Bytes),
    /// Upstream could not be reached, or failed.
    Down(String),
}

async fn send(remote: &Remote, path: &str, body: Vec<u8>) -> Sent {
    let url = format!("{}{path}", remote.config.upstream);
    let request = remote
        .http
        .post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send();
    let result = tokio::time::timeout(remote.config.relay_timeout, async {
        let response = request.await?;
        let status = response.status();
        let retry = response.headers().get(header::RETRY_AFTER).cloned();
        let bytes = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, retry, bytes))
    })
    .await;
    match result {
        Ok(Ok((status, retry, bytes))) => {
            let busy = status == StatusCode::SERVICE_UNAVAILABLE;
            if status.is_server_error() && !busy {
                remote.upstream(false);
                return Sent::Down(format!("{url}: {status}"));
            }
            remote.upstream(true);
            remote.relayed.fetch_add(1, Ordering::Relaxed);
            Sent::Answered(status, retry, bytes)
        }
        Ok(Err(e)) => {
            remote.upstream(false);
            Sent::Down(format!("{url}: {e}"))
        }
        Err(_) => {
            remote.upstream(false);
            Sent::Down(format!(
                "{url}: no answer in {:?}",
                remote.config.relay_timeout
            ))
        }
    }
}

fn passed_on(status: StatusCode, retry: Option<HeaderValue>, body: bytes::Bytes) -> Response {
    let mut r = Response::new(axum::body::Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(v) = retry {
        h.insert(header::RETRY_AFTER, v);
    }
    r
}

fn outbox_failed(e: super::outbox::OutboxError) -> ApiError {
    ApiError::internal(format!("the remote's outbox failed: {e}"))
}

/// `POST /v1/checkin`, relayed.
pub async fn checkin(
    State(remote): State<Arc<Remote>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(mut c): ApiJson<CheckIn>,
) -> Result<Response, ApiError> {
    validate(&c)?;
    if c.ip.is_none() {
        c.ip = Some(peer.ip().to_string());
    }
    let body = serde_json::to_vec(&c).map_err(|e| ApiError::internal(e.to_string()))?;
    let token_hash = hash_token(&c.token);
    match send(&remote, "/v1/checkin", body.clone()).await {
        Sent::Answered(status, retry, bytes) => {
            if status.is_success() {
                let text = String::from_utf8_lossy(&bytes);
                if let Err(e) = remote.outbox.save_reply(&c.machine_id, &token_hash, &text) {
                    tracing::warn!("reply not remembered: {e}");
                }
                kick(&remote);
                let offers = serde_json::from_str::<CheckInReply>(&text)
                    .is_ok_and(|r| !r.updates.is_empty() || !r.held.is_empty());
                if offers {
                    // The site's clients will want the metadata next.
                    let remote = Arc::clone(&remote);
                    tokio::spawn(async move {
                        let _ = remote
                            .cache
                            .ensure(&remote, super::cache::Area::Metadata, "timestamp.json")
                            .await;
                    });
                }
            }
            Ok(passed_on(status, retry, bytes))
        }
        Sent::Down(why) => {
            remote
                .outbox
                .push("/v1/checkin", &body)
                .map_err(outbox_failed)?;
            let Some((text, at)) = remote
                .outbox
                .reply(&c.machine_id, &token_hash)
                .map_err(outbox_failed)?
            else {
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "upstream_unreachable",
                    format!(
                        "this remote provider cannot reach its upstream ({why}); the check-in is kept and relayed later"
                    ),
                );
                e.retry_after = Some(remote.config.retry_every.as_secs().max(1) * 4);
                return Err(e);
            };
            let mut reply: CheckInReply = serde_json::from_str(&text)
                .map_err(|e| ApiError::internal(format!("remembered reply: {e}")))?;
            let when = time::OffsetDateTime::from_unix_timestamp(at)
                .map(transit_core::time::rfc3339)
                .unwrap_or_else(|_| at.to_string());
            reply.settings.notes.push(format!(
                "answered by the remote provider from upstream's reply of {when}: upstream is unreachable; this check-in is relayed when it is back"
            ));
            let next = remote.config.retry_every.as_secs().max(60) * 4;
            reply.next_checkin_secs = next;
            reply.next_checkin = transit_core::time::rfc3339(
                transit_core::time::now() + time::Duration::seconds(next as i64),
            );
            remote.answered_from_cache.fetch_add(1, Ordering::Relaxed);
            Ok(Json(reply).into_response())
        }
    }
}

/// `POST /v1/results`, relayed (or kept in the outbox).
pub async fn results(
    State(remote): State<Arc<Remote>>,
    ApiJson(r): ApiJson<Results>,
) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(&r).map_err(|e| ApiError::internal(e.to_string()))?;
    match send(&remote, "/v1/results", body.clone()).await {
        Sent::Answered(status, retry, bytes) => {
            if status.is_success() {
                kick(&remote);
            }
            Ok(passed_on(status, retry, bytes))
        }
        Sent::Down(_) => {
            remote
                .outbox
                .push("/v1/results", &body)
                .map_err(outbox_failed)?;
            Ok(Json(crate::api::Accepted {
                recorded: r.results.len() as u64,
                coalesced: 0,
            })
            .into_response())
        }
    }
}

/// `POST /v1/progress`, relayed when upstream answers (dropped otherwise).
pub async fn progress(
    State(remote): State<Arc<Remote>>,
    ApiJson(p): ApiJson<ProgressReport>,
) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(&p).map_err(|e| ApiError::internal(e.to_string()))?;
    match send(&remote, "/v1/progress", body).await {
        Sent::Answered(status, retry, bytes) => Ok(passed_on(status, retry, bytes)),
        Sent::Down(_) => Ok((
            StatusCode::ACCEPTED,
            Json(crate::api::Accepted {
                recorded: 0,
                coalesced: 1,
            }),
        )
            .into_response()),
    }
}

/// `GET /v1/status`: the remote's figures.
pub async fn status(State(remote): State<Arc<Remote>>) -> Json<Status> {
    Json(Status {
        api_version: API_VERSION,
        kind: "remote".into(),
        store: format!("remote of {}", remote.config.upstream),
        machines: 0,
        checkins_per_s: 0,
        committed: 0,
        groups: 0,
        connections: remote.connections.load(Ordering::Relaxed),
        downloads: Vec::new(),
        targets_served: 0,
        remote: Some(remote.stats()),
    })
}

/// Wakes the drain loop (upstream answered: relay what waits).
fn kick(remote: &Remote) {
    remote.wake.notify_one();
}

/// Relays the outbox, oldest first, until it is empty or upstream stops
/// answering. A request upstream refuses (4xx) is dropped with a warning:
/// it would be refused again.
pub async fn drain(remote: &Remote) -> usize {
    let mut sent = 0;
    loop {
        let batch = match remote.outbox.oldest(64) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("outbox: {e}");
                return sent;
            }
        };
        if batch.is_empty() {
            return sent;
        }
        for pending in batch {
            match send(remote, &pending.path, pending.body.clone()).await {
                Sent::Answered(status, _, body) => {
                    if status == StatusCode::SERVICE_UNAVAILABLE {
                        return sent;
                    }
                    if !status.is_success() {
                        tracing::warn!(
                            path = %pending.path,
                            %status,
                            "upstream refused a relayed request, dropped: {}",
                            String::from_utf8_lossy(&body)
                        );
                    }
                    if let Err(e) = remote.outbox.remove(pending.id) {
                        tracing::warn!("outbox: {e}");
                        return sent;
                    }
                    sent += 1;
                }
                Sent::Down(_) => return sent,
            }
        }
    }
}

/// Drains the outbox when woken and every `retry_every`, until `stop`.
pub async fn drain_loop(remote: Arc<Remote>, stop: CancelToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = remote.wake.notified() => {}
            _ = tokio::time::sleep(remote.config.retry_every) => {}
        }
        if remote.outbox.is_empty().unwrap_or(true) {
            continue;
        }
        let n = drain(&remote).await;
        if n > 0 {
            tracing::info!(relayed = n, "outbox relayed upstream");
        }
    }
}
