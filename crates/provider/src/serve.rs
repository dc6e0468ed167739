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

/// The worker threads of the bulk runtime.
pub const BULK_WORKERS: usize = 2;

/// The runtime that serves payload downloads: [`BULK_WORKERS`] workers,
/// and its own blocking pool for the file reads. Every one of its
/// threads runs at nice +[`BULK_NICE`] from the thread that builds it
/// (at most 19), so that on a busy machine the check-ins, served by the
/// main runtime at the normal priority, get the CPU first and the
/// downloads take what is left.
///
/// The nice value is set, not added: a blocking thread started by a
/// worker inherits the worker's nice value, and adding to it again would
/// leave the file reads at nice 19.
///
/// Linux's `SCHED_IDLE` policy was measured in its place (issue 17): the
/// check-in p99 during downloads was no steadier, and a single download
/// fell to 0.4-0.8 x nginx's speed whenever anything else ran on the
/// machine (a `SCHED_IDLE` thread yields to every other thread there).
pub fn bulk_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    // One value for every thread of the runtime, from the caller's: its
    // blocking threads are started by its (already lowered) workers.
    let nice = transit_core::priority::thread_nice() + BULK_NICE;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(BULK_WORKERS)
        .thread_name("provider-bulk")
        .on_thread_start(move || transit_core::priority::set_thread_nice(nice))
        .enable_all()
        .build()
}

/// Serves a plain connection on the bulk runtime. The socket moves to
/// that runtime's own reactor, so the readiness of download sockets is
/// polled by low-priority threads too, not by the main runtime.
async fn serve_on_bulk(
    bulk: tokio::runtime::Handle,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Option<Router>,
    watch: tokio::sync::watch::Receiver<bool>,
) {
    cap_send_buffer(&stream, DOWNLOAD_SEND_BUFFER);
    let std = match stream.into_std() {
        Ok(s) => s,
        Err(e) => return tracing::debug!(%peer, "connection: {e}"),
    };
    let served = bulk.spawn(async move {
        // Registers the socket with the bulk runtime's reactor (it is
        // still non-blocking, as `into_std` leaves it).
        match tokio::net::TcpStream::from_std(std) {
            Ok(stream) => serve_io(stream, peer, router, watch).await,
            Err(e) => tracing::debug!(%peer, "connection: {e}"),
        }
    });
    let _ = served.await;
}

/// The send buffer of a plain download connection, in bytes (the kernel
/// doubles it for its own bookkeeping). Left to autotuning, 50 downloads
/// keep up to 4 MiB each in flight, and a check-in's packets queue behind
/// them on the way to the same host's clients (issue 17: check-in p99
/// during 50 range downloads 8-11 ms with this buffer against 8-69 ms
/// autotuned, at the same download speed; 64 KiB slowed one download to
/// 0.7 x nginx).
pub const DOWNLOAD_SEND_BUFFER: usize = 256 * 1024;

/// Fixes a socket's send buffer at `bytes` (0: leave the kernel's
/// autotuning), with a debug line when refused.
fn cap_send_buffer(stream: &tokio::net::TcpStream, bytes: usize) {
    use std::os::fd::AsRawFd;
    if bytes == 0 {
        return;
    }
    let value = bytes.min(i32::MAX as usize) as libc::c_int;
    // SAFETY: the fd is the stream's open socket; the option value is a
    // c_int whose size is passed.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            &value as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        tracing::debug!("send buffer not set: {}", std::io::Error::last_os_error());
    }
}

/// The start of a request for a payload.
const PAYLOAD_REQUEST: &[u8] = b"GET /v1/repository/targets/";

/// How long the start of the first request is waited for, to choose the
/// runtime (after that, the connection is served on the main one).
const FIRST_REQUEST_WAIT: Duration = Duration::from_secs(2);

/// True when the connection's first request asks for a payload (peeked,
/// not read): such a connection is served by the bulk runtime.
async fn asks_for_a_payload(stream: &tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; PAYLOAD_REQUEST.len()];
    matches!(
        tokio::time::timeout(FIRST_REQUEST_WAIT, stream.peek(&mut buf)).await,
        Ok(Ok(n)) if n == PAYLOAD_REQUEST.len() && buf == PAYLOAD_REQUEST
    )
}

/// Reads the start of the first request of a TLS connection (decrypted
/// bytes cannot be peeked): at most as many bytes as
/// [`PAYLOAD_REQUEST`], for at most [`FIRST_REQUEST_WAIT`]. Returns
/// whether it asks for a payload, and the bytes read, to be put back in
/// front of the stream ([`Rewind`]).
async fn read_first_request<I>(io: &mut I) -> std::io::Result<(bool, Vec<u8>)>
where
    I: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::AsyncReadExt;
    let mut head = Vec::with_capacity(PAYLOAD_REQUEST.len());
    let read = async {
        let mut buf = [0u8; PAYLOAD_REQUEST.len()];
        while head.len() < PAYLOAD_REQUEST.len() && PAYLOAD_REQUEST.starts_with(&head) {
            let want = PAYLOAD_REQUEST.len() - head.len();
            // Cancel-safe: a read cut short by the timeout loses nothing.
            let n = io.read(&mut buf[..want]).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    if let Ok(Err(e)) = tokio::time::timeout(FIRST_REQUEST_WAIT, read).await {
        return Err(e);
    }
    Ok((head == PAYLOAD_REQUEST, head))
}

/// A stream with bytes already read from it put back in front.
struct Rewind<I> {
    head: Vec<u8>,
    at: usize,
    inner: I,
}

impl<I> Rewind<I> {
    fn new(head: Vec<u8>, inner: I) -> Rewind<I> {
        Rewind { head, at: 0, inner }
    }
}

impl<I: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Rewind<I> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.at < this.head.len() {
            let n = (this.head.len() - this.at).min(buf.remaining());
            buf.put_slice(&this.head[this.at..this.at + n]);
            this.at += n;
            return std::task::Poll::Ready(Ok(()));
        }
        std::pin::Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<I: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Rewind<I> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves a TLS connection, after the handshake: on `bulk` when given
/// and its first request asks for a payload (the encryption of the
/// payload then runs on the bulk runtime's threads; the socket stays on
/// the main runtime's reactor, which only reports its readiness).
async fn serve_tls<I>(
    mut tls: I,
    bulk: Option<tokio::runtime::Handle>,
    peer: SocketAddr,
    router: Option<Router>,
    watch: tokio::sync::watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let Some(bulk) = bulk else {
        return serve_io(tls, peer, router, watch).await;
    };
    match read_first_request(&mut tls).await {
        Ok((true, head)) => {
            let _ = bulk
                .spawn(serve_io(Rewind::new(head, tls), peer, router, watch))
                .await;
        }
        Ok((false, head)) => serve_io(Rewind::new(head, tls), peer, router, watch).await,
        Err(e) => tracing::debug!(%peer, "connection: {e}"),
    }
}

/// Accepts connections until `stop` resolves, then lets open
/// connections finish (at most 10 s).
/// Connections whose first request asks for a payload are served on
/// `bulk` when given (see [`bulk_runtime`]): plain ones are peeked at
/// accept; on TLS ones, the start of the first request is read after
/// the handshake and put back.
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
                        serve_on_bulk(bulk, stream, peer, router, watch).await
                    }
                    _ => serve_io(stream, peer, router, watch).await,
                },
                Some(acceptor) => {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => serve_tls(tls, bulk, peer, router, watch).await,
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_download_connection_keeps_a_fixed_send_buffer() {
        use std::os::fd::AsRawFd;
        rt().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            cap_send_buffer(&server, DOWNLOAD_SEND_BUFFER);
            let mut value: libc::c_int = 0;
            let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: the fd is the open socket; value and len are live.
            let rc = unsafe {
                libc::getsockopt(
                    server.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_SNDBUF,
                    &mut value as *mut libc::c_int as *mut libc::c_void,
                    &mut len,
                )
            };
            assert_eq!(rc, 0);
            // Linux reports twice the value set (its bookkeeping share),
            // which it caps at net.core.wmem_max.
            let max = std::fs::read_to_string("/proc/sys/net/core/wmem_max")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(usize::MAX);
            assert_eq!(value as usize, 2 * DOWNLOAD_SEND_BUFFER.min(max));
        });
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn bulk_threads_run_at_a_lower_priority() {
        let bulk = bulk_runtime().unwrap();
        // SAFETY: getpriority(PRIO_PROCESS, 0) reads the calling thread's
        // nice value on Linux.
        let nice = || unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let before = nice();
        let expected = (before + BULK_NICE).min(19);
        // A worker, and a blocking thread started from a worker (as the
        // file reads of a download are): both at +BULK_NICE, no more.
        let (worker, blocking) = bulk.block_on(async {
            bulk.spawn(async move {
                let blocking = tokio::task::spawn_blocking(nice).await.unwrap();
                (nice(), blocking)
            })
            .await
            .unwrap()
        });
        assert_eq!(worker, expected);
        assert_eq!(blocking, expected);
        // The caller's own thread is left alone.
        assert_eq!(nice(), before);
    }

    /// Reads `sent` through `read_first_request` and `Rewind`: whether it
    /// asked for a payload, and every byte read back.
    fn first_request(sent: &[u8]) -> (bool, Vec<u8>) {
        rt().block_on(async {
            let (mut client, mut server) = tokio::io::duplex(64);
            let sent = sent.to_vec();
            let writer = tokio::spawn(async move {
                // In small pieces, as a slow client (or TLS records) would.
                for piece in sent.chunks(5) {
                    client.write_all(piece).await.unwrap();
                    tokio::task::yield_now().await;
                }
            });
            let (payload, head) = read_first_request(&mut server).await.unwrap();
            writer.await.unwrap();
            let mut all = Vec::new();
            Rewind::new(head, server)
                .read_to_end(&mut all)
                .await
                .unwrap();
            (payload, all)
        })
    }

    #[test]
    fn the_first_request_is_read_and_put_back() {
        let get = b"GET /v1/repository/targets/ab/cd.tar.zst HTTP/1.1\r\nhost: x\r\n\r\n";
        assert_eq!(first_request(get), (true, get.to_vec()));
        let checkin = b"POST /v1/checkin HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(first_request(checkin), (false, checkin.to_vec()));
        let metadata = b"GET /v1/repository/metadata/timestamp.json HTTP/1.1\r\n\r\n";
        assert_eq!(first_request(metadata), (false, metadata.to_vec()));
        // Closed before the request's start was complete.
        assert_eq!(
            first_request(b"GET /v1/rep"),
            (false, b"GET /v1/rep".to_vec())
        );
        assert_eq!(first_request(b""), (false, Vec::new()));
    }

    #[test]
    fn a_silent_client_is_not_waited_for_longer_than_the_wait() {
        rt().block_on(async {
            let (mut client, mut server) = tokio::io::duplex(64);
            client.write_all(b"GET /v1").await.unwrap();
            let (payload, head) = read_first_request(&mut server).await.unwrap();
            assert!(!payload);
            assert_eq!(head, b"GET /v1");
            drop(client);
        });
    }
}
