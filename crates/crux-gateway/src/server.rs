//! The connection layer behind [`crate::serve`]: an accept loop over hyper's HTTP/1.1 server that bounds
//! what one client may hold — header, body and idle timeouts, a cap on concurrent connections and on the
//! request head's size — while keeping TCP_NODELAY, `ConnectInfo<SocketAddr>` and graceful shutdown.
//!
//! Timeouts per connection: a watchdog ([`Tracker::expired`]) runs beside each connection and drops it
//! (closing the socket) when no request is in flight and the current phase's deadline has passed:
//! `header_timeout` from the connection's start for its first request, `idle_timeout` from the end of the
//! last response while kept alive, and `header_timeout` again from the first byte of a later request.
//! (hyper's own `header_read_timeout` restarts at the end of every response, so it would also cap idle
//! keep-alive at the header timeout; it is therefore off.) The body read is bounded inside the service by
//! [`DeadlineBody`]: when it expires the handler's answer is replaced by a `408` and the connection closes.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::GatewayConfig;
use crate::head_error::{self, Replacement};
use crate::server_body::{DeadlineBody, Finishing, body_timeout_response};

/// Refusals (over `max_connections`) answered at once; beyond these, extra connections are just closed.
const MAX_REFUSALS: usize = 256;
/// How long a refused connection may take to receive its `503` and close.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// Pause after an accept error such as `EMFILE`, so the loop does not spin while descriptors are short.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The connection limits of [`crate::GatewayConfig`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    header: Duration,
    body: Duration,
    idle: Duration,
    connections: usize,
    header_bytes: usize,
}

impl Limits {
    /// The limits configured in `config`.
    pub(crate) fn of(config: &GatewayConfig) -> Self {
        Self {
            header: config.header_timeout,
            body: config.body_timeout,
            idle: config.idle_timeout,
            connections: config.max_connections.max(1),
            header_bytes: config.max_header_bytes.max(1),
        }
    }
}

/// Accept and serve connections on `listener` until `shutdown` resolves; then stop accepting, let
/// in-flight requests finish (idle connections close at once) and return when every connection is gone.
pub(crate) async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let refusal = refusal_bytes();
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true)
        .max_header_size(limits.header_bytes);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let next = tokio::select! {
            biased;
            () = &mut shutdown => None,
            accepted = listener.accept() => Some(accepted),
        };
        let (tcp, remote) = match next {
            None => break,
            Some(Ok(accepted)) => accepted,
            // One client's failed handshake: the next accept may well succeed.
            Some(Err(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                ) =>
            {
                continue;
            }
            Some(Err(e)) => {
                tracing::error!("accept error: {e}");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        // Stream frames go out as they are produced: no Nagle delay on accepted sockets.
        let _ = tcp.set_nodelay(true);
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            refuse(tcp, &refusals, refusal.clone());
            continue;
        };
        let conn = serve_conn(
            tcp,
            remote,
            router.clone(),
            limits,
            builder.clone(),
            graceful.watcher(),
        );
        tokio::spawn(async move {
            conn.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The whole answer to a connection over `max_connections`.
fn refusal_bytes() -> Bytes {
    let body = serde_json::json!({"error": {
        "message": "the gateway is serving too many connections; retry shortly",
        "type": "server_error", "code": "overloaded"}})
    .to_string();
    Bytes::from(format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ))
}

/// Answer a connection over the limit with `503` + `Connection: close` in a task of its own (bounded by
/// [`MAX_REFUSALS`] and [`REFUSAL_LINGER`]), so the accept loop never waits on it; when too many refusals
/// are already under way the socket is simply closed.
fn refuse(mut tcp: TcpStream, refusals: &Arc<Semaphore>, answer: Bytes) {
    let Ok(permit) = Arc::clone(refusals).try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            tcp.write_all(&answer).await?;
            tcp.shutdown().await?;
            // Read what the client sent until it closes, so closing does not reset away our answer.
            let mut sink = [0u8; 1024];
            while tcp.read(&mut sink).await? > 0 {}
            Ok::<(), io::Error>(())
        })
        .await;
    });
}

/// Serve one accepted connection (watched for graceful shutdown) until it ends, fails or its watchdog expires.
async fn serve_conn(
    tcp: TcpStream,
    remote: SocketAddr,
    router: Router,
    limits: Limits,
    builder: http1::Builder,
    watcher: Watcher,
) {
    let tracker = Arc::new(Tracker::new());
    let io = TokioIo::new(Tracked {
        inner: tcp,
        tracker: Arc::clone(&tracker),
        replacing: None,
    });
    let service = ConnService {
        router,
        remote,
        tracker: Arc::clone(&tracker),
        body_timeout: limits.body,
    };
    tokio::select! {
        res = watcher.watch(builder.serve_connection(io, service)) => {
            if let Err(e) = res {
                tracing::debug!(%remote, "connection ended: {e}");
            }
        }
        () = tracker.expired(limits) => {
            tracing::debug!(%remote, "connection timed out; closing it");
        }
    }
}

/// Where a connection stands, for its watchdog.
#[derive(Debug)]
struct Phase {
    /// Requests handed to the service whose responses are not finished.
    active: usize,
    /// When the connection last became idle (its start, or the end of its last response).
    idle_since: Instant,
    /// When the first byte of the next request arrived on an idle kept-alive connection.
    head_started: Option<Instant>,
    /// Whether a request has been received on this connection.
    served: bool,
    /// Requests handed to the service, and response heads hyper started to write.
    requests: u64,
    heads: u64,
    /// The first bytes of the request head being read (see [`head_error`]).
    head: Vec<u8>,
}

/// Shared between a connection's socket, its service and its watchdog.
#[derive(Debug)]
struct Tracker {
    phase: Mutex<Phase>,
}

impl Tracker {
    fn new() -> Self {
        Self {
            phase: Mutex::new(Phase {
                active: 0,
                idle_since: Instant::now(),
                head_started: None,
                served: false,
                requests: 0,
                heads: 0,
                head: Vec::new(),
            }),
        }
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes arrived: on an idle kept-alive connection, the next request's head has started.
    fn on_read(&self, bytes: &[u8]) {
        let mut p = self.phase();
        if p.active == 0 {
            let room = head_error::CAPTURE.saturating_sub(p.head.len());
            p.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
        if p.active == 0 && p.served && p.head_started.is_none() {
            p.head_started = Some(Instant::now());
        }
    }

    /// A request's head was received; the returned guard ends it when dropped.
    fn start(self: &Arc<Self>) -> Active {
        let mut p = self.phase();
        p.active += 1;
        p.served = true;
        p.head_started = None;
        p.requests += 1;
        p.head.clear();
        drop(p);
        Active(Arc::clone(self))
    }

    fn finish(&self) {
        let mut p = self.phase();
        p.active = p.active.saturating_sub(1);
        if p.active == 0 {
            p.idle_since = Instant::now();
            p.head_started = None;
        }
    }

    /// hyper starts writing `out`: a response head beyond those of the service's requests is hyper's own
    /// answer to a head it could not parse, replaced by the same answer in the caller's dialect.
    fn replacement(&self, out: &[u8]) -> Option<Replacement> {
        if !head_error::starts_response(out) {
            return None;
        }
        let mut p = self.phase();
        p.heads += 1;
        if p.heads <= p.requests {
            return None;
        }
        head_error::rewrite(&p.head, out).map(|bytes| Replacement::new(bytes, out.len()))
    }

    /// When the connection must be closed if nothing changes (`None` while a request is in flight).
    fn deadline(&self, limits: Limits) -> Option<Instant> {
        let p = self.phase();
        if p.active > 0 {
            return None;
        }
        Some(match p.head_started {
            Some(started) => started + limits.header,
            None if p.served => p.idle_since + limits.idle,
            None => p.idle_since + limits.header,
        })
    }

    /// Resolves once the connection has outstayed its current phase.
    ///
    /// Nothing wakes the watchdog when the phase changes (that would cost every request a wake-up): it looks at
    /// least every `min(header, idle)`, so a phase that began after one look is seen at the next, before its
    /// deadline (each phase lasts at least that long), and it then sleeps until that deadline exactly.
    async fn expired(&self, limits: Limits) {
        // (At least 1 ms: a zero timeout, possible through the library, must not spin while a request is served.)
        let period = limits.header.min(limits.idle).max(Duration::from_millis(1));
        let sleep = tokio::time::sleep(period);
        tokio::pin!(sleep);
        loop {
            let now = Instant::now();
            let wake = match self.deadline(limits) {
                Some(at) if now >= at => return,
                Some(at) => at.min(now + period),
                None => now + period,
            };
            sleep.as_mut().reset(wake);
            sleep.as_mut().await;
        }
    }
}

/// A request in flight: ends (the connection becomes idle) when dropped with its response body.
#[derive(Debug)]
struct Active(Arc<Tracker>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// The accepted socket, reporting reads to its [`Tracker`] and writing hyper's own error answers in dialect.
struct Tracked {
    inner: TcpStream,
    tracker: Arc<Tracker>,
    replacing: Option<Replacement>,
}

impl Tracked {
    /// Write the replacement under way (started by `out`, if it is one of hyper's own answers), if any.
    fn poll_replace(
        &mut self,
        cx: &mut Context<'_>,
        out: &[u8],
    ) -> Option<Poll<io::Result<usize>>> {
        if self.replacing.is_none() {
            self.replacing = self.tracker.replacement(out);
        }
        let res = self.replacing.as_mut()?.poll_write(&mut self.inner, cx);
        if res.is_ready() {
            self.replacing = None;
        }
        Some(res)
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.tracker.on_read(&buf.filled()[before..]);
        }
        res
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(res) = this.poll_replace(cx, buf) {
            return res;
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(first) = bufs.first()
            && let Some(res) = this.poll_replace(cx, first)
        {
            return res;
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The per-connection hyper service: connect info, the body deadline, request tracking, then the router.
#[derive(Clone)]
struct ConnService {
    router: Router,
    remote: SocketAddr,
    tracker: Arc<Tracker>,
    body_timeout: Duration,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        let active = self.tracker.start();
        let late = Arc::new(AtomicBool::new(false));
        let dialect = crate::dialect_of(req.uri().path());
        req.extensions_mut().insert(ConnectInfo(self.remote));
        // The timer is registered only if the body has to be waited for.
        let sleep = Box::pin(tokio::time::sleep(self.body_timeout));
        let req = req.map(|inner| {
            let late = Arc::clone(&late);
            Body::new(DeadlineBody { inner, sleep, late })
        });
        let router = self.router.clone();
        Box::pin(async move {
            let resp = match router.oneshot(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
            let resp = if late.load(Ordering::Acquire) {
                body_timeout_response(dialect)
            } else {
                resp
            };
            Ok(resp.map(|inner| {
                Body::new(Finishing {
                    inner,
                    _guard: active,
                })
            }))
        })
    }
}
