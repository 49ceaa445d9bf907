//! The access layer around every route: accepts or generates `x-request-id` and returns it, opens the request span
//! (parented on the caller's `traceparent`), counts requests in flight, adds `x-crux-overhead-ms`, and writes one
//! access/finalize log line per request at `info` (target `crux::access`) — for a stream when its body ends.
//! Accounting hands the request's outcome to [`note`]; the line carries no secret and no message text.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt as _;
use metrics::Gauge;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::telemetry::{SharedRecorder, catalog, otlp};

tokio::task_local! {
    static SCOPE: Arc<RequestCtx>;
}

/// What accounting reports about a served model request.
#[derive(Debug, Clone, Default)]
pub struct Finalize {
    /// Route label (`chat_completions`, `messages`, `api_chat`, …).
    pub route: &'static str,
    /// `chat` or `embeddings` (`gen_ai.operation.name`).
    pub operation: &'static str,
    /// The model name the caller asked for.
    pub model: String,
    /// The provider that served (or last failed).
    pub provider: Option<&'static str>,
    /// The `provider/model` that served (or last failed).
    pub target: Option<String>,
    /// The error code when it failed.
    pub error_code: Option<&'static str>,
    /// Wall time in the gateway.
    pub latency: Duration,
    /// Time waiting on the upstream.
    pub upstream: Option<Duration>,
    /// Time to first token.
    pub ttft: Option<Duration>,
    /// Prompt tokens.
    pub prompt_tokens: Option<u64>,
    /// Completion tokens.
    pub completion_tokens: Option<u64>,
    /// Cost in USD.
    pub cost_usd: Option<f64>,
    /// Targets skipped before the one that served.
    pub fallbacks: u32,
    /// Upstream retries.
    pub retries: usize,
    /// Streamed answer.
    pub streamed: bool,
}

struct RequestCtx {
    /// When the request reached the gateway's routes (its head parsed, the body not read yet).
    arrived: Instant,
    id: String,
    session: Option<String>,
    span: tracing::Span,
    finalize: Mutex<Option<Finalize>>,
}

/// Record the outcome of the current request (called by accounting; outside a request it does nothing).
pub fn note(f: Finalize) {
    let _ = SCOPE.try_with(|ctx| {
        let span = &ctx.span;
        if !span.is_disabled() {
            span.record("gen_ai.operation.name", f.operation);
            otlp::rename(span, format!("{} {}", f.operation, f.model));
            span.record("gen_ai.request.model", f.model.as_str());
            if let Some(p) = f.provider {
                span.record("gen_ai.provider.name", p);
            }
            if let Some(t) = &f.target {
                let model = t.split_once('/').map_or(t.as_str(), |(_, m)| m);
                span.record("gen_ai.response.model", model);
            }
            let int = |n: Option<u64>| n.and_then(|n| i64::try_from(n).ok());
            span.record("gen_ai.usage.input_tokens", int(f.prompt_tokens));
            span.record("gen_ai.usage.output_tokens", int(f.completion_tokens));
            span.record(
                "gen_ai.response.finish_reasons",
                if f.error_code.is_some() {
                    "[\"error\"]"
                } else {
                    "[\"stop\"]"
                },
            );
            span.record("error.type", f.error_code);
            span.record("crux.fallbacks", i64::from(f.fallbacks));
            span.record("crux.retries", i64::try_from(f.retries).unwrap_or(i64::MAX));
        }
        if let Ok(mut slot) = ctx.finalize.lock() {
            *slot = Some(f);
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

/// Serve `req` through `next` with a request id, a span, the in-flight gauge, overhead and the access line.
pub async fn serve(
    in_flight: &Gauge,
    recorder: SharedRecorder,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(valid_id)
        .map_or_else(new_id, str::to_owned);
    let session = req
        .headers()
        .get("x-session-id")
        .and_then(valid_id)
        .map(str::to_owned);
    let path: String = req.uri().path().chars().take(256).collect();
    let method = req.method().as_str().to_owned();
    let span = tracing::debug_span!("gen_ai.request", otel.kind = "server", otel.name = %format!("{method} {path}"),
        http.request.method = %method, url.path = %path, crux.request_id = %id,
        http.response.status_code = Empty, gen_ai.operation.name = Empty, gen_ai.provider.name = Empty,
        gen_ai.request.model = Empty, gen_ai.response.model = Empty, gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty, gen_ai.response.finish_reasons = Empty, error.type = Empty,
        crux.fallbacks = Empty, crux.retries = Empty);
    if !span.is_disabled() {
        otlp::adopt_parent(&span, req.headers());
    }
    let ctx = Arc::new(RequestCtx {
        arrived: started,
        id,
        session,
        span: span.clone(),
        finalize: Mutex::new(None),
    });
    in_flight.increment(1.0);
    let mut done = Done {
        ctx: Arc::clone(&ctx),
        in_flight: in_flight.clone(),
        recorder,
        started,
        method,
        path,
        status: None,
    };
    let mut resp = SCOPE
        .scope(Arc::clone(&ctx), next.run(req).instrument(span.clone()))
        .await;
    done.status = Some(resp.status());
    span.record("http.response.status_code", resp.status().as_u16());
    if !is_stream(&resp) {
        if let Some(overhead) = set_headers(resp.headers_mut(), &ctx, started) {
            metrics::with_local_recorder(&done.recorder, || {
                metrics::histogram!(catalog::OVERHEAD).record(overhead);
            });
        }
        return resp;
    }
    // A stream's body sets its own overhead header (until the stream committed).
    set_headers(resp.headers_mut(), &ctx, started);
    let (parts, body) = resp.into_parts();
    let mut inner = body.into_data_stream();
    let stream = futures_util::stream::poll_fn(move |cx| {
        let _until_the_end = &done;
        let _entered = span.enter();
        SCOPE.sync_scope(Arc::clone(&ctx), || inner.poll_next_unpin(cx))
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// Sets `x-request-id` and, unless the route did, `x-crux-overhead-ms`: the time since the request arrived minus the
/// time waiting on the upstream. Returns that overhead when the request reached an upstream (the histogram's sample).
fn set_headers(h: &mut HeaderMap, ctx: &RequestCtx, started: Instant) -> Option<Duration> {
    if let Ok(v) = HeaderValue::from_str(&ctx.id) {
        h.insert("x-request-id", v);
    }
    if h.contains_key("x-crux-overhead-ms") {
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
        h.insert("x-crux-overhead-ms", v);
    }
    upstream.map(|_| overhead)
}

/// `x-crux-overhead-ms` for a response whose upstream took `upstream` of the `elapsed` so far.
pub fn overhead_header(elapsed: Duration, upstream: Duration) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("{:.3}", ms(elapsed.saturating_sub(upstream)))).ok()
}
