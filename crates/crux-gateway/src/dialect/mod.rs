//! What the OpenAI and Anthropic dialects share: request admission, the streamed response body, outcome accounting.

pub mod anthropic;
pub mod openai;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use crux_llm::wire::anthropic::inbound::EventEncoder;
use crux_llm::wire::openai::inbound::ChunkEncoder;
use crux_llm::{ChatRequest, ChatStream, Error, ErrorCode, ModelId, Role, StreamEvent};
use futures_util::StreamExt;

use crate::auth::{Caller, authenticate};
use crate::error::{ApiError, Dialect};
use crate::routing::{self, Failed, Peeked};
use crate::state::{AppState, Outcome};

/// An authenticated, resolved and admitted request.
#[derive(Debug)]
pub struct Admitted {
    /// Who called.
    pub caller: Caller,
    /// Targets to try.
    pub targets: Vec<ModelId>,
    /// When the request arrived.
    pub started: Instant,
}

/// Authenticate, resolve the model name and apply the caller's limits.
pub fn admit(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    model: &str,
    dialect: Dialect,
) -> Result<Admitted, ApiError> {
    let started = Instant::now();
    let caller = authenticate(state, headers, peer.ip())?;
    let targets = routing::resolve(state, model, dialect)?;
    if let Caller::Virtual(key) = &caller {
        let first = targets.first().map(ToString::to_string).unwrap_or_default();
        state.limiter.admit(key, &[model, &first])?;
    }
    Ok(Admitted {
        caller,
        targets,
        started,
    })
}

/// The last user message's text (what the chat log keeps of the request).
pub fn last_user_text(req: &ChatRequest) -> String {
    req.messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map(|m| m.text_content())
        .unwrap_or_default()
}

/// Start an outcome record for an admitted request.
pub fn outcome(
    route: &'static str,
    model: &str,
    admitted: &Admitted,
    req: &ChatRequest,
) -> Outcome {
    let mut o = Outcome::new(route, model);
    o.key_id = admitted.caller.key_id().map(str::to_owned);
    o.request_text = last_user_text(req);
    o
}

/// Account for a request that failed on every target and render its error.
pub fn failed(
    state: &AppState,
    mut o: Outcome,
    f: Failed,
    started: Instant,
    dialect: Dialect,
) -> Response {
    let err = ApiError::from(&f.error);
    o.target = f.target;
    o.fallbacks = f.fallbacks;
    o.latency = started.elapsed();
    o.error = Some((err.code, err.message.clone()));
    state.finish(&o);
    err.render(dialect)
}

/// Encodes stream events in the caller's dialect.
#[derive(Debug)]
pub enum Encoder {
    /// `chat.completion.chunk` frames.
    OpenAi(ChunkEncoder),
    /// Named Anthropic events.
    Anthropic(EventEncoder),
}

impl Encoder {
    fn encode(&mut self, ev: &StreamEvent, out: &mut Vec<u8>) {
        match self {
            Encoder::OpenAi(e) => e.encode(ev, out),
            Encoder::Anthropic(e) => e.encode(ev, out),
        }
    }

    fn error(&mut self, err: &Error, out: &mut Vec<u8>) {
        let api = ApiError::from(err);
        match self {
            Encoder::OpenAi(e) => e.error(&api.message, api.code.as_str(), out),
            Encoder::Anthropic(e) => {
                let kind = match api.code {
                    ErrorCode::Overloaded => "overloaded_error",
                    ErrorCode::RateLimit => "rate_limit_error",
                    _ => "api_error",
                };
                e.error(kind, &api.message, out);
            }
        }
    }
}

/// The body of a committed stream: buffered events first, then the rest; accounts for the outcome exactly once,
/// including when the client disconnects (the upstream stream is dropped with the body).
struct StreamBody {
    state: Arc<AppState>,
    buffered: VecDeque<Result<StreamEvent, Error>>,
    stream: ChatStream,
    encoder: Encoder,
    outcome: Option<Outcome>,
    started: Instant,
    upstream_started: Instant,
    text: String,
}

impl StreamBody {
    async fn next_chunk(&mut self) -> Option<Bytes> {
        self.outcome.as_ref()?;
        let item = match self.buffered.pop_front() {
            Some(item) => Some(item),
            None => self.stream.next().await,
        };
        let mut out = Vec::with_capacity(256);
        match item {
            Some(Ok(ev)) => {
                match &ev {
                    StreamEvent::TextDelta { text } if self.text.len() < 64 * 1024 => {
                        self.text.push_str(text)
                    }
                    StreamEvent::Usage(u) => {
                        if let Some(o) = self.outcome.as_mut() {
                            o.usage = *u;
                        }
                    }
                    StreamEvent::Finish { metrics, .. } => {
                        self.finish(None, metrics.time_to_first_token_ms)
                    }
                    _ => {}
                }
                self.encoder.encode(&ev, &mut out);
            }
            Some(Err(e)) => {
                self.encoder.error(&e, &mut out);
                let ttft = e.metrics().and_then(|m| m.time_to_first_token_ms);
                self.finish(Some(&e), ttft);
            }
            None => {
                let e = Error::Truncated {
                    provider: self.stream_provider(),
                };
                self.encoder.error(&e, &mut out);
                self.finish(Some(&e), None);
            }
        }
        Some(Bytes::from(out))
    }

    fn stream_provider(&self) -> crux_llm::ProviderId {
        self.outcome
            .as_ref()
            .and_then(|o| o.target.as_ref())
            .map_or(crux_llm::ProviderId::OpenAi, |t| t.provider)
    }

    fn finish(&mut self, error: Option<&Error>, ttft_ms: Option<u64>) {
        if let Some(mut o) = self.outcome.take() {
            o.latency = self.started.elapsed();
            o.upstream = Some(self.upstream_started.elapsed());
            o.ttft = ttft_ms.map(std::time::Duration::from_millis);
            o.response_text = std::mem::take(&mut self.text);
            o.error = error.map(|e| (e.code(), e.to_string()));
            self.state.finish(&o);
        }
    }
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        if self.outcome.is_some() {
            self.finish(Some(&Error::Cancelled), None);
        }
    }
}

/// Turn a committed stream into an SSE response.
pub fn sse_response(
    state: Arc<AppState>,
    peeked: Peeked,
    encoder: Encoder,
    mut o: Outcome,
    started: Instant,
) -> Response {
    let target = peeked.target.to_string();
    o.target = Some(peeked.target.clone());
    o.fallbacks = peeked.fallbacks;
    o.streamed = true;
    let body = StreamBody {
        state,
        buffered: peeked.buffered.into(),
        stream: peeked.stream,
        encoder,
        outcome: Some(o),
        started,
        upstream_started: started,
        text: String::new(),
    };
    let stream = futures_util::stream::unfold(body, |mut b| async move {
        let chunk = b.next_chunk().await?;
        Some((Ok::<_, std::convert::Infallible>(chunk), b))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    if let Ok(v) = HeaderValue::from_str(&target) {
        h.insert("x-crux-target", v);
    }
    resp
}

/// Serve an admitted chat request: stream through `encoder` when given, else answer `render(response)` as JSON.
#[allow(clippy::too_many_arguments)]
pub async fn serve_chat(
    state: Arc<AppState>,
    admitted: Admitted,
    req: ChatRequest,
    name: &str,
    route: &'static str,
    dialect: Dialect,
    encoder: Option<Encoder>,
    render: impl FnOnce(&crux_llm::ChatResponse) -> serde_json::Value,
) -> Response {
    let mut o = outcome(route, name, &admitted, &req);
    if let Some(encoder) = encoder {
        return match routing::open_stream(&state, &admitted.targets, &req, dialect).await {
            Ok(peeked) => sse_response(state, peeked, encoder, o, admitted.started),
            Err(f) => failed(&state, o, f, admitted.started, dialect),
        };
    }
    match routing::chat(&state, &admitted.targets, &req, dialect).await {
        Ok(served) => {
            o.target = Some(served.target.clone());
            o.fallbacks = served.fallbacks;
            o.upstream = Some(served.upstream);
            o.usage = served.response.usage;
            o.response_text = served.response.text();
            o.latency = admitted.started.elapsed();
            let resp = json_response(&render(&served.response), &served.target);
            state.finish(&o);
            resp
        }
        Err(f) => failed(&state, o, f, admitted.started, dialect),
    }
}

impl Admitted {
    /// The first target (routes always have at least one).
    pub fn first(&self) -> Result<ModelId, ApiError> {
        self.targets
            .first()
            .cloned()
            .ok_or_else(|| ApiError::not_found("the route has no targets"))
    }
}

/// A JSON response with the serving target in a header.
pub fn json_response(body: &impl serde::Serialize, target: &ModelId) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Body::from(bytes));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&target.to_string()) {
        resp.headers_mut().insert("x-crux-target", v);
    }
    resp
}
