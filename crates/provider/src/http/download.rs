//! Downloads: the TUF metadata and the payloads, from the repository
//! folder, with HTTP Range (one range; resume), read in 1 MiB chunks.
//!
//! Payload file names carry their SHA-256 (consistent snapshots), so a
//! name always means the same bytes and a resumed download cannot mix
//! two versions.

use super::error::ApiError;
use crate::bandwidth::{Limits, Ticket, QUEUE_WAIT};
use crate::state::App;
use crate::store::DEFAULT_GROUP_ID;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

/// The size of one read from the content store.
pub const CHUNK: u64 = 1024 * 1024;

/// A requested byte range, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No (usable) Range header: the whole file.
    Whole,
    /// Bytes `start..=end`.
    Part {
        /// The first byte.
        start: u64,
        /// The last byte.
        end: u64,
    },
    /// The range starts beyond the end (416).
    Unsatisfiable,
}

/// Reads a `Range` header against a file of `len` bytes. A header that
/// does not parse, or asks for several ranges, is ignored (the whole file,
/// as RFC 9110 allows).
pub fn parse_range(header: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // A suffix: the last `b` bytes.
        let Ok(n) = b.parse::<u64>() else {
            return RangeRequest::Whole;
        };
        if n == 0 || len == 0 {
            return RangeRequest::Unsatisfiable;
        }
        return RangeRequest::Part {
            start: len.saturating_sub(n),
            end: len - 1,
        };
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeRequest::Whole;
    };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e,
            _ => return RangeRequest::Whole,
        }
    };
    if start >= len {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Part {
        start,
        end: end.min(len - 1),
    }
}

/// A path under `base` from URL segments, refusing anything that could
/// leave it (empty, `.`-leading or `..` segments, backslashes).
pub(crate) fn safe_join(base: PathBuf, rel: &str) -> Option<PathBuf> {
    let mut path = base;
    for seg in rel.split('/') {
        if seg.is_empty() || seg.starts_with('.') || seg.contains('\\') || seg.contains('\0') {
            return None;
        }
        path.push(seg);
    }
    Some(path)
}

/// Serves `path` honouring `Range`, streaming 1 MiB reads (smaller, and
/// paced, under a group's rate limit when `ticket` carries one).
pub async fn serve_file(
    path: PathBuf,
    headers: &HeaderMap,
    content_type: &'static str,
    ticket: Option<Ticket>,
) -> Response {
    let opened = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        }
        Ok((file, meta.len()))
    })
    .await;
    let (file, len) = match opened {
        Ok(Ok(f)) => f,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return ApiError::not_found("no such file in the repository").into_response()
        }
        Ok(Err(e)) => return ApiError::internal(e.to_string()).into_response(),
        Err(e) => return ApiError::internal(e.to_string()).into_response(),
    };
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let (status, start, end) = match range {
        RangeRequest::Whole => (StatusCode::OK, 0, len),
        RangeRequest::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end + 1),
        RangeRequest::Unsatisfiable => {
            let mut r = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the range starts beyond the end of the file ({len} bytes)"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let file = Arc::new(file);
    let chunk = ticket.as_ref().map_or(CHUNK, |t| t.gate().chunk());
    // Each chunk is read when the connection asks for the next one: the
    // socket's own buffer keeps the link busy meanwhile, and a download
    // holds at most the chunk being sent and the one being read, however
    // slow its client. The stream holds the ticket: the group's slot frees
    // when the download ends or the client goes away (the stream drops).
    let stream = futures::stream::unfold(
        (start, ticket, file),
        move |(offset, ticket, file)| async move {
            if offset >= end {
                return None;
            }
            let n = (end - offset).min(chunk) as usize;
            if let Some(t) = &ticket {
                t.gate().pace(n as u64).await;
            }
            let f = Arc::clone(&file);
            let read = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; n];
                f.read_exact_at(&mut buf, offset).map(|_| buf)
            })
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
            // After a failed read the stream ends (the body errors first).
            let next = if read.is_ok() { offset + n as u64 } else { end };
            Some((read.map(bytes::Bytes::from), (next, ticket, file)))
        },
    );
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    response
}

/// `GET /v1/repository/metadata/{file}`: TUF metadata.
pub async fn metadata(
    State(app): State<Arc<App>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !file.ends_with(".json") || file.contains('/') {
        return ApiError::not_found("metadata files are *.json").into_response();
    }
    match safe_join(app.repo.metadata_dir(), &file) {
        Some(path) => serve_file(path, &headers, "application/json", None).await,
        None => ApiError::not_found("no such metadata file").into_response(),
    }
}

/// The header in which a client names its machine ID on downloads (so
/// the CIC server's own client still downloads while it pauses the others).
pub const MACHINE_HEADER: &str = "x-transit-machine";

/// `GET /v1/repository/targets/{*path}`: payloads. While the CIC server's
/// own client is in Manual mode, only that client gets payloads (403
/// `paused` for the others).
pub async fn target(
    State(app): State<Arc<App>>,
    Path(rel): Path<String>,
    headers: HeaderMap,
) -> Response {
    let paused_for = app
        .paused_for
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if let Some(cic) = paused_for {
        let caller = headers.get(MACHINE_HEADER).and_then(|v| v.to_str().ok());
        if caller != Some(cic.as_str()) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "paused",
                "downloads to clients are paused: the CIC server's update client is in Manual mode",
            )
            .into_response();
        }
    }
    let Some(path) = safe_join(app.repo.targets_dir(), &rel) else {
        return ApiError::not_found("no such target").into_response();
    };
    let caller = headers.get(MACHINE_HEADER).and_then(|v| v.to_str().ok());
    let group_id = caller
        .and_then(|id| app.downloads.group_of(id))
        .unwrap_or(DEFAULT_GROUP_ID);
    let groups = app.groups();
    let limits = groups
        .get(&group_id)
        .or_else(|| groups.get(&DEFAULT_GROUP_ID))
        .map(|g| Limits::of(&g.settings))
        .unwrap_or_default();
    let gate = app.downloads.gate(group_id, limits);
    match app.downloads.admit(gate, QUEUE_WAIT).await {
        Ok(ticket) => {
            app.targets_served
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            serve_file(path, &headers, "application/octet-stream", Some(ticket)).await
        }
        Err(come_back) => {
            let mut r = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "download_queue",
                format!(
                    "the group's downloads are at their limit ({} waiting): come back in {} s",
                    come_back.waiting, come_back.after
                ),
            );
            r.retry_after = Some(come_back.after);
            r.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 10), Whole);
        assert_eq!(
            parse_range(Some("bytes=0-4"), 10),
            Part { start: 0, end: 4 }
        );
        assert_eq!(parse_range(Some("bytes=5-"), 10), Part { start: 5, end: 9 });
        assert_eq!(
            parse_range(Some("bytes=5-100"), 10),
            Part { start: 5, end: 9 }
        );
        assert_eq!(parse_range(Some("bytes=-3"), 10), Part { start: 7, end: 9 });
        assert_eq!(
            parse_range(Some("bytes=-30"), 10),
            Part { start: 0, end: 9 }
        );
        assert_eq!(parse_range(Some("bytes=10-"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), Whole);
        assert_eq!(parse_range(Some("bytes=4-2"), 10), Whole);
        assert_eq!(parse_range(Some("items=0-1"), 10), Whole);
        assert_eq!(parse_range(Some("bytes=x-1"), 10), Whole);
    }

    #[test]
    fn paths_stay_inside() {
        let base = PathBuf::from("/r");
        assert_eq!(
            safe_join(base.clone(), "a/b.bin"),
            Some(PathBuf::from("/r/a/b.bin"))
        );
        for bad in ["../x", "a/../../x", "", "a//b", ".hidden", "a\\b"] {
            assert_eq!(safe_join(base.clone(), bad), None, "{bad}");
        }
    }
}
