//! The listener: HTTP/1.1 over TCP, or over TLS (rustls) when a
//! certificate is given, with a cap on open connections.
//!
//! Up to `max` connections are served. Past that, a connection is
//! answered `503 Service Unavailable` with `Retry-After` and closed
//! (past `max` + `max / 4`, it is closed without a reply), so a flood
//! of connections never takes the provider down. On stop, the listener
//! closes and open connections finish their current request.

use crate::api::{ApiErrorBody, API_VERSION};
use crate::config::TlsFiles;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// Seconds a refused connection is told to wait, at least (up to twice
/// as long, at random, so refused clients spread out).
pub const RETRY_AFTER_SECS: u64 = 2;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", .path.display())]
pub struct TlsError {
    /// The certificate or key file.
    pub path: std::path::PathBuf,
    /// What is wrong.
    pub problem: String,
}

/// Loads a PEM certificate chain and key into a rustls acceptor.
pub fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError {
            path: files.cert.clone(),
            problem: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError {
            path: files.cert.clone(),
            problem: "no certificate in the file".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError {
        path: files.key.clone(),
        problem: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| TlsError {
            path: files.cert.clone(),
            problem: e.to_string(),
        })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

struct Count(Arc<AtomicU64>);

impl Drop for Count {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn busy_reply() -> hyper::Response<axum::body::Body> {
    let body = serde_json::to_vec(&ApiErrorBody {
        code: "busy".into(),
        error: "too many connections: try again later".into(),
        api_version: API_VERSION,
    })
    .unwrap_or_default();
    hyper::Response::builder()
        .status(503)
        .header(
            "retry-after",
            crate::http::error::jittered(RETRY_AFTER_SECS),
        )
        .header("content-type", "application/json")
        .header("connection", "close")
        .body(axum::body::Body::from(body))
        .unwrap_or_default()
}

async fn drive<I, S>(
    builder: &hyper::server::conn::http1::Builder,
    io: I,
    svc: S,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> hyper::Result<()>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming>,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => r,
        _ = async { shutdown.wait_for(|stop| *stop).await.map(|_| ()) } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    }
}

async fn serve_io<I>(
    io: I,
    peer: SocketAddr,
    router: Option<Router>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    let result = match router {
        Some(router) => {
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(req)
            });
            drive(&builder, io, svc, shutdown).await
        }
        None => {
            builder.keep_alive(false);
            let svc = hyper::service::service_fn(|_req: hyper::Request<Incoming>| async {
                Ok::<_, std::convert::Infallible>(busy_reply())
            });
            drive(&builder, io, svc, shutdown).await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, "connection: {e}");
    }
}

/// The nice value of the bulk runtime's threads.
pub const BULK_NICE: i32 = 10;

/// The runtime that serves payload downloads: its threads (workers and
/// blocking pool) run at nice +[`BULK_NICE`], so that on a busy machine
/// the check-ins, served by the main runtime at the normal priority, get
/// the CPU first and the downloads take what is left.
pub fn bulk_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("provider-bulk")
        .on_thread_start(|| {
            // SAFETY: nice(2) takes no pointers; on Linux it changes the
            // calling thread's priority only (a lower one needs no
            // privilege). A failure leaves the normal priority.
            let _ = unsafe { libc::nice(BULK_NICE) };
        })
        .enable_all()
        .build()
}

/// True when the connection's first request asks for a payload (peeked,
/// not read): such a connection is served by the bulk runtime.
async fn asks_for_a_payload(stream: &tokio::net::TcpStream) -> bool {
    const PREFIX: &[u8] = b"GET /v1/repository/targets/";
    let mut buf = [0u8; PREFIX.len()];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), stream.peek(&mut buf)).await,
        Ok(Ok(n)) if n == PREFIX.len() && buf == PREFIX
    )
}

/// Accepts connections until `stop` resolves, then lets open
/// connections finish (at most 10 s).
/// Plain connections whose first request asks for a payload are served
/// on `bulk` when given (see [`bulk_runtime`]).
pub async fn accept_loop(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    max: usize,
    connections: Arc<AtomicU64>,
    bulk: Option<tokio::runtime::Handle>,
    stop: impl Future<Output = ()>,
) {
    let (shutdown, watch) = tokio::sync::watch::channel(false);
    let max = max.max(1) as u64;
    let hard = max + max / 4;
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let open = connections.fetch_add(1, Ordering::Relaxed) + 1;
        let count = Count(Arc::clone(&connections));
        if open > hard {
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let router = (open <= max).then(|| router.clone());
        let watch = watch.clone();
        let tls = tls.clone();
        let bulk = bulk.clone().filter(|_| router.is_some());
        tokio::spawn(async move {
            let _count = count;
            match tls {
                None => match bulk {
                    Some(bulk) if asks_for_a_payload(&stream).await => {
                        let _ = bulk.spawn(serve_io(stream, peer, router, watch)).await;
                    }
                    _ => serve_io(stream, peer, router, watch).await,
                },
                Some(acceptor) => {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => serve_io(tls, peer, router, watch).await,
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = shutdown.send(true);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while connections.load(Ordering::Relaxed) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
