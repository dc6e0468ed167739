//! Error replies and the JSON body extractor.
//!
//! Every refusal is a JSON [`ApiErrorBody`] with a stable code: malformed
//! JSON is 400, an unknown field (a newer client) or an invalid value
//! 422, an oversized body 413, a claimed machine ID 409, overload 503
//! with `Retry-After`.

use crate::api::{ApiErrorBody, API_VERSION};
use crate::commit::CommitError;
use crate::store::StoreError;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// An error reply.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// Seconds for `Retry-After`, on 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 422: a value is invalid.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503 with `Retry-After`.
    pub fn busy(message: impl Into<String>, retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
        }
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ApiErrorBody {
            code: self.code.to_string(),
            error: self.message,
            api_version: API_VERSION,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match &e {
            StoreError::NoSuchGroup(_)
            | StoreError::NoSuchMachine(_)
            | StoreError::NoSuchRollout(_) => ApiError::not_found(e.to_string()),
            StoreError::GroupExists(_)
            | StoreError::DefaultGroup
            | StoreError::RolloutExists { .. } => {
                ApiError::new(StatusCode::CONFLICT, "refused", e.to_string())
            }
            _ => {
                tracing::error!("store: {e}");
                ApiError::internal(e.to_string())
            }
        }
    }
}

impl From<crate::rollout_engine::RolloutError> for ApiError {
    fn from(e: crate::rollout_engine::RolloutError) -> ApiError {
        match e {
            crate::rollout_engine::RolloutError::Store(s) => s.into(),
            crate::rollout_engine::RolloutError::Invalid(m) => ApiError::invalid(m),
            crate::rollout_engine::RolloutError::Conflict(m) => {
                ApiError::new(StatusCode::CONFLICT, "refused", m)
            }
        }
    }
}

/// `base` seconds plus up to as many again, at random: clients told to
/// come back do not all come back in the same second.
pub fn jittered(base: u64) -> u64 {
    use rand::Rng;
    base + rand::thread_rng().gen_range(0..=base)
}

impl From<CommitError> for ApiError {
    fn from(e: CommitError) -> ApiError {
        match e {
            CommitError::Busy => ApiError::busy(e.to_string(), jittered(5)),
            CommitError::Stopped => ApiError::busy(e.to_string(), jittered(15)),
            CommitError::Store(s) => {
                tracing::error!("check-in commit: {s}");
                ApiError::busy(format!("the check-in was not committed: {s}"), jittered(5))
            }
        }
    }
}

/// A JSON body, read within the body limit and parsed with our errors.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        format!(
                            "the request body is larger than {} bytes",
                            crate::api::MAX_BODY
                        ),
                    )
                } else {
                    ApiError::new(StatusCode::BAD_REQUEST, "bad_body", rejection.body_text())
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a request body, sorting failures into malformed JSON (400),
/// an unknown field (422 `unknown_field`) and an invalid value (422).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {e}"),
            ),
            Category::Data if e.to_string().starts_with("unknown field") => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field",
                format!("{e}; this provider speaks API version {API_VERSION}"),
            ),
            Category::Data => ApiError::invalid(e.to_string()),
        }
    })
}

impl From<crate::switchover::SwitchError> for ApiError {
    fn from(e: crate::switchover::SwitchError) -> ApiError {
        use crate::switchover::SwitchError;
        match e {
            SwitchError::NotEmpty(_) => {
                ApiError::new(StatusCode::CONFLICT, "refused", e.to_string())
            }
            SwitchError::NotShared(_) => ApiError::invalid(e.to_string()),
            SwitchError::Store(StoreError::Postgres { .. }) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "database_unreachable",
                format!("the shared database failed; the provider keeps its store: {e}"),
            ),
            other => ApiError::internal(other.to_string()),
        }
    }
}
