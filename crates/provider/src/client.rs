//! A typed client of the provider's API (reqwest over rustls), used by
//! `transit update groups|machines|updates|report|activity` and the load
//! generator.

use crate::api::{
    ActivityPage, ApiErrorBody, Changed, CheckIn, CheckInReply, Group, GroupSettings,
    MachineDetail, MachineJson, Members, NewGroup, Report, SetState, Status, UpdateJson,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;
use transit_core::{ErrorKind, Kind};
use transit_update::UpdateState;

/// A request to the provider that failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The provider could not be reached (or the connection broke).
    #[error("provider {url} not reachable: {source}")]
    Unreachable {
        /// The URL.
        url: String,
        /// reqwest's error.
        source: reqwest::Error,
    },
    /// The provider refused the request.
    #[error("provider refused ({status} {code}): {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The stable error code.
        code: String,
        /// The provider's message.
        message: String,
        /// Its `Retry-After` in seconds, if it sent one.
        retry_after: Option<u64>,
    },
    /// The reply does not parse.
    #[error("provider reply from {url} does not parse: {problem}")]
    Decode {
        /// The URL.
        url: String,
        /// Why.
        problem: String,
    },
    /// The client could not be set up (URL, CA file).
    #[error("{0}")]
    Setup(String),
}

impl Kind for ClientError {
    fn kind(&self) -> ErrorKind {
        match self {
            ClientError::Api { status, .. } => match *status {
                409 | 403 => ErrorKind::Refused,
                400..=499 => ErrorKind::Usage,
                _ => ErrorKind::Other,
            },
            ClientError::Setup(_) => ErrorKind::Usage,
            _ => ErrorKind::Other,
        }
    }
}

/// A client of one provider.
#[derive(Debug, Clone)]
pub struct ProviderClient {
    base: String,
    http: reqwest::Client,
}

/// A query of `GET /v1/activity`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ActivityParams {
    /// Sort column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// `asc` or `desc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// Group column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Only this machine (its name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// The page, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    /// Entries per page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u64>,
}

impl ProviderClient {
    /// A client of the provider at `base` (`http://host:8092` or
    /// `https://…`), trusting the PEM certificate `ca` in addition to the
    /// system's roots; `connections` bounds its idle connection pool.
    pub fn new(
        base: &str,
        ca: Option<&Path>,
        connections: usize,
    ) -> Result<ProviderClient, ClientError> {
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Setup(format!(
                "`{base}` is not a provider URL (http://host:8092 or https://…)"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .tcp_nodelay(true);
        if let Some(ca) = ca {
            let pem = std::fs::read(ca)
                .map_err(|e| ClientError::Setup(format!("{}: {e}", ca.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| ClientError::Setup(format!("{}: {e}", ca.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Setup(e.to_string()))?;
        Ok(ProviderClient { base, http })
    }

    /// The provider's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn send<B: Serialize, Q: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let bytes = self.send_raw(method, path, query, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            url: format!("{}{path}", self.base),
            problem: e.to_string(),
        })
    }

    async fn send_raw<B: Serialize, Q: Serialize>(
        &self,
        method: Method,
        path: &str,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<bytes::Bytes, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url);
        if let Some(q) = query {
            req = req.query(q);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let unreachable = |source| ClientError::Unreachable {
            url: url.clone(),
            source,
        };
        let response = req.send().await.map_err(unreachable)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = response.bytes().await.map_err(unreachable)?;
        if status.is_success() {
            return Ok(bytes);
        }
        Err(match serde_json::from_slice::<ApiErrorBody>(&bytes) {
            Ok(body) => ClientError::Api {
                status: status.as_u16(),
                code: body.code,
                message: body.error,
                retry_after,
            },
            Err(_) => ClientError::Api {
                status: status.as_u16(),
                code: status.canonical_reason().unwrap_or("error").to_lowercase(),
                message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                retry_after,
            },
        })
    }

    /// `POST /v1/checkin`.
    pub async fn checkin(&self, c: &CheckIn) -> Result<CheckInReply, ClientError> {
        self.send(Method::POST, "/v1/checkin", None::<&()>, Some(c))
            .await
    }

    /// `POST /v1/results`.
    pub async fn results(
        &self,
        r: &crate::api::Results,
    ) -> Result<crate::api::Accepted, ClientError> {
        self.send(Method::POST, "/v1/results", None::<&()>, Some(r))
            .await
    }

    /// `GET /v1/rollouts`.
    pub async fn rollouts(&self) -> Result<Vec<crate::api::RolloutStatus>, ClientError> {
        self.send(Method::GET, "/v1/rollouts", None::<&()>, None::<&()>)
            .await
    }

    /// `POST /v1/rollouts`.
    pub async fn create_rollout(
        &self,
        rollout: &crate::api::NewRollout,
    ) -> Result<crate::api::RolloutStatus, ClientError> {
        self.send(Method::POST, "/v1/rollouts", None::<&()>, Some(rollout))
            .await
    }

    /// `GET /v1/rollouts/{id}`.
    pub async fn rollout(&self, id: i64) -> Result<crate::api::RolloutStatus, ClientError> {
        let path = format!("/v1/rollouts/{id}");
        self.send(Method::GET, &path, None::<&()>, None::<&()>)
            .await
    }

    /// `POST /v1/rollouts/{id}/{command}`.
    pub async fn rollout_command(
        &self,
        id: i64,
        command: crate::rollout::Command,
    ) -> Result<crate::api::RolloutStatus, ClientError> {
        let verb = match command {
            crate::rollout::Command::Pause => "pause",
            crate::rollout::Command::Resume => "resume",
            crate::rollout::Command::Stop => "stop",
        };
        let path = format!("/v1/rollouts/{id}/{verb}");
        self.send(Method::POST, &path, None::<&()>, None::<&()>)
            .await
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> Result<Status, ClientError> {
        self.send(Method::GET, "/v1/status", None::<&()>, None::<&()>)
            .await
    }

    /// `GET /v1/groups`.
    pub async fn groups(&self) -> Result<Vec<Group>, ClientError> {
        self.send(Method::GET, "/v1/groups", None::<&()>, None::<&()>)
            .await
    }

    /// `POST /v1/groups`.
    pub async fn create_group(
        &self,
        name: &str,
        settings: Option<GroupSettings>,
    ) -> Result<Group, ClientError> {
        let body = NewGroup {
            name: name.to_string(),
            settings,
        };
        self.send(Method::POST, "/v1/groups", None::<&()>, Some(&body))
            .await
    }

    /// `PUT /v1/groups/{name}`.
    pub async fn set_group(
        &self,
        name: &str,
        settings: &GroupSettings,
    ) -> Result<Group, ClientError> {
        let path = format!("/v1/groups/{}", seg(name));
        self.send(Method::PUT, &path, None::<&()>, Some(settings))
            .await
    }

    /// `DELETE /v1/groups/{name}`: returns how many machines moved to the default group.
    pub async fn delete_group(&self, name: &str) -> Result<Changed, ClientError> {
        let path = format!("/v1/groups/{}", seg(name));
        self.send(Method::DELETE, &path, None::<&()>, None::<&()>)
            .await
    }

    /// `POST /v1/groups/{name}/members`.
    pub async fn add_members(
        &self,
        name: &str,
        machines: &[String],
    ) -> Result<Changed, ClientError> {
        let path = format!("/v1/groups/{}/members", seg(name));
        let body = Members {
            machines: machines.to_vec(),
        };
        self.send(Method::POST, &path, None::<&()>, Some(&body))
            .await
    }

    /// `DELETE /v1/groups/{name}/members/{id}`.
    pub async fn remove_member(&self, name: &str, id: &str) -> Result<Changed, ClientError> {
        let path = format!("/v1/groups/{}/members/{}", seg(name), seg(id));
        self.send(Method::DELETE, &path, None::<&()>, None::<&()>)
            .await
    }

    /// `GET /v1/machines`.
    pub async fn machines(
        &self,
        search: Option<&str>,
        group: Option<&str>,
        limit: u64,
    ) -> Result<Vec<MachineJson>, ClientError> {
        #[derive(Serialize)]
        struct Q<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            search: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            group: Option<&'a str>,
            limit: u64,
        }
        let q = Q {
            search,
            group,
            limit,
        };
        self.send(Method::GET, "/v1/machines", Some(&q), None::<&()>)
            .await
    }

    /// `GET /v1/machines/{id}`.
    pub async fn machine(&self, id: &str) -> Result<MachineDetail, ClientError> {
        let path = format!("/v1/machines/{}", seg(id));
        self.send(Method::GET, &path, None::<&()>, None::<&()>)
            .await
    }

    /// `GET /v1/updates`.
    pub async fn updates(&self) -> Result<Vec<UpdateJson>, ClientError> {
        self.send(Method::GET, "/v1/updates", None::<&()>, None::<&()>)
            .await
    }

    /// `PUT /v1/updates/{id}/state`.
    pub async fn set_state(&self, id: i64, state: UpdateState) -> Result<UpdateJson, ClientError> {
        let path = format!("/v1/updates/{id}/state");
        self.send(Method::PUT, &path, None::<&()>, Some(&SetState { state }))
            .await
    }

    /// `GET /v1/report`.
    pub async fn report(&self, since: Option<&str>) -> Result<Report, ClientError> {
        #[derive(Serialize)]
        struct Q<'a> {
            since: &'a str,
        }
        match since {
            Some(since) => {
                self.send(Method::GET, "/v1/report", Some(&Q { since }), None::<&()>)
                    .await
            }
            None => {
                self.send(Method::GET, "/v1/report", None::<&()>, None::<&()>)
                    .await
            }
        }
    }

    /// `GET /v1/activity`.
    pub async fn activity(&self, params: &ActivityParams) -> Result<ActivityPage, ClientError> {
        self.send(Method::GET, "/v1/activity", Some(params), None::<&()>)
            .await
    }

    /// `GET /v1/activity?format=csv`: every matching entry as CSV.
    pub async fn activity_csv(&self, params: &ActivityParams) -> Result<String, ClientError> {
        #[derive(Serialize)]
        struct Q<'a> {
            #[serde(flatten)]
            p: &'a ActivityParams,
            format: &'static str,
        }
        let q = Q {
            p: params,
            format: "csv",
        };
        let bytes = self
            .send_raw(Method::GET, "/v1/activity", Some(&q), None::<&()>)
            .await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `DELETE /v1/activity`.
    pub async fn clear_activity(&self) -> Result<Changed, ClientError> {
        self.send(Method::DELETE, "/v1/activity", None::<&()>, None::<&()>)
            .await
    }

    /// `GET /v1/database`.
    pub async fn database(&self) -> Result<crate::api::DatabaseInfo, ClientError> {
        self.send(Method::GET, "/v1/database", None::<&()>, None::<&()>)
            .await
    }

    /// `POST /v1/database/{action}`: Manage Database's Copy, Use or Merge.
    pub async fn switch_database(
        &self,
        action: crate::switchover::Action,
        url: &str,
    ) -> Result<crate::switchover::Switched, ClientError> {
        let action = serde_json::to_value(action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let body = crate::api::SwitchRequest {
            url: url.to_string(),
        };
        self.send(
            Method::POST,
            &format!("/v1/database/{action}"),
            None::<&()>,
            Some(&body),
        )
        .await
    }

    /// A raw request, for tests and tools: the status and the body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, bytes::Bytes), ClientError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let unreachable = |source| ClientError::Unreachable {
            url: url.clone(),
            source,
        };
        let response = req.send().await.map_err(unreachable)?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(unreachable)?;
        Ok((status, headers, bytes))
    }
}

/// A path segment, percent-encoded.
fn seg(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
