//! The access layer around every route: accepts or generates `x-request-id` and returns it, starts the request's
//! trace when OTLP traces are on (parented on the caller's `traceparent`), counts requests in flight, adds
//! `x-crux-overhead-ms`, and writes one access/finalize log line (and the spans) per request at `info` (target
//! `crux::access`) — for a stream when its body ends. Accounting hands the request's outcome to [`note`]; the line
//! carries no secret and no message text.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt as _;
use metrics::Gauge;

pub use crate::telemetry::record::Finalize;
use crate::telemetry::span_export::Spans;
use crate::telemetry::spans::{RequestTrace, Served};
use crate::telemetry::{SharedRecorder, Telemetry, catalog};

/// The request id a caller may send and always gets back.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// A caller's session id for the access line.
const SESSION_ID: HeaderName = HeaderName::from_static("x-session-id");
/// The gateway's own time on a request, in milliseconds (set here, or by a stream's body when it commits).
pub(crate) const OVERHEAD: HeaderName = HeaderName::from_static("x-crux-overhead-ms");

tokio::task_local! {
    static SCOPE: Arc<RequestCtx>;
}

struct RequestCtx {
    /// When the request reached the gateway's routes (its head parsed, the body not read yet).
    arrived: Instant,
    id: String,
    session: Option<String>,
    trace: Option<RequestTrace>,
    finalize: Mutex<Option<Finalize>>,
}

/// Record the outcome of the current request (called by accounting; outside a request it does nothing).
pub fn note(f: Finalize) {
    let _ = SCOPE.try_with(|ctx| {
        if let Ok(mut slot) = ctx.finalize.lock() {
            *slot = Some(f);
        }
    });
}

/// The trace hook before an upstream attempt: a child span id and its `traceparent` when the request is traced.
pub(super) fn begin_attempt() -> Option<crux_llm::trace::Begun> {
    SCOPE
        .try_with(|ctx| ctx.trace.as_ref().and_then(RequestTrace::child))
        .ok()
        .flatten()
}

/// The trace hook after an upstream attempt: kept for the request's spans.
pub(super) fn end_attempt(attempt: crux_llm::trace::Attempt) {
    let _ = SCOPE.try_with(|ctx| {
        if let Some(t) = &ctx.trace {
            t.push(attempt);
        }
    });
}

/// When the request being served arrived (before its body was read), if any: the start of its latency and of
/// the gateway overhead it reports.
pub fn arrival() -> Option<Instant> {
    SCOPE.try_with(|ctx| ctx.arrived).ok()
}

/// The id of the request being served, if any.
pub fn current_request_id() -> Option<String> {
    SCOPE.try_with(|ctx| ctx.id.clone()).ok()
}

fn valid_id(v: &HeaderValue) -> Option<&str> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then_some(s)
}

fn new_id() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// The dialect a path speaks (for the log line).
fn dialect(path: &str) -> &'static str {
    if path.starts_with("/api/") {
        "native"
    } else if path.starts_with("/v1/messages") {
        "anthropic"
    } else if path.starts_with("/v1/") {
        "openai"
    } else {
        "none"
    }
}

fn is_stream(resp: &Response) -> bool {
    resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"text/event-stream")
            || v.as_bytes().starts_with(b"application/x-ndjson")
    })
}

/// Writes the access line and settles the in-flight gauge when the request (or its stream) is over.
struct Done {
    ctx: Arc<RequestCtx>,
    in_flight: Gauge,
    recorder: SharedRecorder,
    spans: Option<Arc<Spans>>,
    started: Instant,
    method: String,
    path: String,
    status: Option<StatusCode>,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

impl Drop for Done {
    fn drop(&mut self) {
        self.in_flight.decrement(1.0);
        // 499: the client left before an answer was sent.
        let status = self.status.map_or(499, |s| s.as_u16());
        metrics::with_local_recorder(&self.recorder, || {
            metrics::counter!(catalog::HTTP_RESPONSES, "status" => status.to_string()).increment(1);
        });
        let f = self.ctx.finalize.lock().ok().and_then(|mut s| s.take());
        let total = ms(self.started.elapsed());
        let ctx = &self.ctx;
        if let (Some(trace), Some(spans)) = (&ctx.trace, &self.spans) {
            let served = Served {
                method: &self.method,
                path: &self.path,
                request_id: &ctx.id,
                session_id: ctx.session.as_deref(),
                status,
            };
            trace.finish(spans, &served, f.as_ref());
        }
        let Some(f) = f else {
            tracing::info!(target: "crux::access", event = "request.finalize", request_id = %ctx.id,
                session_id = ctx.session.as_deref(), method = %self.method, path = %self.path,
                dialect = dialect(&self.path), status, total_duration_ms = total, "request");
            return;
        };
        let tokens_total = match (f.prompt_tokens, f.completion_tokens) {
            (None, None) => None,
            (p, c) => Some(p.unwrap_or(0) + c.unwrap_or(0)),
        };
        tracing::info!(target: "crux::access", event = "request.finalize", phase = "finalize",
            request_id = %ctx.id, session_id = ctx.session.as_deref(), method = %self.method,
            path = %self.path, dialect = dialect(&self.path), route = f.route, operation = f.operation,
            model = %f.model, provider = f.provider, served = f.target.as_deref(), status,
            outcome = if f.error_code.is_some() { "error" } else { "ok" }, error_code = f.error_code,
            total_duration_ms = total, upstream_ms = f.upstream.map(ms),
            time_to_first_token_ms = f.ttft.map(ms), streamed = f.streamed,
            tokens.prompt = f.prompt_tokens, tokens.completion = f.completion_tokens,
            tokens.total = tokens_total, cost_usd = f.cost_usd, fallbacks = f.fallbacks,
            fallback_used = f.fallbacks > 0, retries = f.retries, "request");
    }
}

/// Serve `req` through `next` with a request id, a trace, the in-flight gauge, overhead and the access line.
pub async fn serve(
    telemetry: &Telemetry,
    req: Request,
    next: impl AsyncFnOnce(Request) -> Response,
) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(valid_id)
        .map_or_else(new_id, str::to_owned);
    let session = req
        .headers()
        .get(&SESSION_ID)
        .and_then(valid_id)
        .map(str::to_owned);
    let path = crate::head(req.uri().path(), 256).to_owned();
    let method = req.method().as_str().to_owned();
    let spans = telemetry.spans().cloned();
    let ctx = Arc::new(RequestCtx {
        arrived: started,
        id,
        session,
        trace: spans.as_ref().map(|_| RequestTrace::start(req.headers())),
        finalize: Mutex::new(None),
    });
    let in_flight = telemetry.in_flight();
    in_flight.increment(1.0);
    let mut done = Done {
        ctx: Arc::clone(&ctx),
        in_flight: in_flight.clone(),
        recorder: telemetry.shared_recorder(),
        spans,
        started,
        method,
        path,
        status: None,
    };
    let mut resp = SCOPE.scope(Arc::clone(&ctx), next(req)).await;
    done.status = Some(resp.status());
    if !is_stream(&resp) {
        if let Some(overhead) = set_headers(resp.headers_mut(), &ctx, started) {
            metrics::with_local_recorder(&done.recorder, || {
                metrics::histogram!(catalog::OVERHEAD).record(overhead);
            });
        }
        finish_later(done);
        return resp;
    }
    // A stream's body sets its own overhead header (until the stream committed).
    set_headers(resp.headers_mut(), &ctx, started);
    let (parts, body) = resp.into_parts();
    let mut inner = body.into_data_stream();
    let mut done = Some(done);
    let stream = futures_util::stream::poll_fn(move |cx| {
        let next = SCOPE.sync_scope(Arc::clone(&ctx), || inner.poll_next_unpin(cx));
        if matches!(next, std::task::Poll::Ready(None))
            && let Some(d) = done.take()
        {
            finish_later(d);
        }
        next
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// Write the request's access line, span and response count off the response path: a task of its own that runs
/// once the answer is on its way (measured: the line cost a c=1 request ~60 µs when written before the answer). A
/// stream whose client left drops its `Done` with the body instead, at once.
fn finish_later(done: Done) {
    use tracing::instrument::WithSubscriber as _;
    // Without a line or a span to write, what is left (two counters) costs less than waking a task for it.
    let writes =
        done.spans.is_some() || tracing::enabled!(target: "crux::access", tracing::Level::INFO);
    if !writes {
        return drop(done);
    }
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn(async move { drop(done) }.with_current_subscriber());
        }
        Err(_) => drop(done),
    }
}

/// Sets `x-request-id` and, unless the route did, `x-crux-overhead-ms`: the time since the request arrived minus the
/// time waiting on the upstream. Returns that overhead when the request reached an upstream (the histogram's sample).
fn set_headers(h: &mut HeaderMap, ctx: &RequestCtx, started: Instant) -> Option<Duration> {
    if let Ok(v) = HeaderValue::from_str(&ctx.id) {
        h.insert(REQUEST_ID, v);
    }
    if h.contains_key(&OVERHEAD) {
        return None;
    }
    let elapsed = started.elapsed();
    let upstream = ctx
        .finalize
        .lock()
        .ok()
        .and_then(|f| f.as_ref().and_then(|f| f.upstream));
    let overhead = elapsed.saturating_sub(upstream.unwrap_or_default());
    if let Ok(v) = HeaderValue::from_str(&format!("{:.3}", ms(overhead))) {
        h.insert(OVERHEAD, v);
    }
    upstream.map(|_| overhead)
}

/// `x-crux-overhead-ms` for a response whose upstream took `upstream` of the `elapsed` so far.
pub fn overhead_header(elapsed: Duration, upstream: Duration) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("{:.3}", ms(elapsed.saturating_sub(upstream)))).ok()
}
