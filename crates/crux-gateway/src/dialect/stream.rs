//! The one stream-serving path for every dialect: buffered peek events first, then the rest, each encoded by the
//! dialect's encoder (SSE chunks, named SSE events, or NDJSON lines; the content type comes from the encoder). The
//! outcome is accounted exactly once — on finish, on error, on a stream that ends early, and on drop when the
//! client leaves (`cancelled`; the upstream stream is dropped with the body).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use crux_llm::client::RawFrames;
use crux_llm::router::Peeked;
use crux_llm::wire::anthropic::inbound::EventEncoder;
use crux_llm::wire::native::inbound as native;
use crux_llm::wire::openai::inbound::ChunkEncoder;
use crux_llm::wire::responses::encode::EventEncoder as ResponsesEncoder;
use crux_llm::{ChatStream, Error, ErrorCode, Routed, StreamEvent};
use futures_util::StreamExt;

use crate::accounting::{self, Outcome};
use crate::error::ApiError;
use crate::state::AppState;

/// Encodes stream events in the caller's dialect.
#[derive(Debug)]
pub enum Encoder {
    /// `chat.completion.chunk` SSE frames.
    OpenAi(ChunkEncoder),
    /// Named Anthropic SSE events.
    Anthropic(EventEncoder),
    /// Typed, sequence-numbered Responses API events.
    Responses(Box<ResponsesEncoder>),
    /// The native API's NDJSON lines.
    Native,
}

impl Encoder {
    /// The response content type.
    pub fn content_type(&self) -> &'static str {
        match self {
            Encoder::OpenAi(_) | Encoder::Anthropic(_) | Encoder::Responses(_) => {
                "text/event-stream"
            }
            Encoder::Native => "application/x-ndjson",
        }
    }

    fn encode(&mut self, ev: &StreamEvent, out: &mut Vec<u8>) {
        match self {
            Encoder::OpenAi(e) => e.encode(ev, out),
            Encoder::Anthropic(e) => e.encode(ev, out),
            Encoder::Responses(e) => e.encode(ev, out),
            Encoder::Native => {
                if let Some(line) = native::ndjson(ev) {
                    out.extend_from_slice(&line);
                }
            }
        }
    }

    fn error(&mut self, err: &Error, out: &mut Vec<u8>) {
        let api = ApiError::from(err);
        match self {
            Encoder::OpenAi(e) => e.error(&api.message, api.code.as_str(), out),
            Encoder::Responses(e) => e.error(&api.message, api.code.as_str(), out),
            Encoder::Anthropic(e) => {
                let kind = match api.code {
                    ErrorCode::Overloaded => "overloaded_error",
                    ErrorCode::RateLimit => "rate_limit_error",
                    _ => "api_error",
                };
                e.error(kind, &api.message, out);
            }
            Encoder::Native => {
                out.extend_from_slice(&native::error_line(api.code.as_str(), &api.message));
            }
        }
    }
}

/// The body of a committed stream.
struct StreamBody {
    state: Arc<AppState>,
    buffered: VecDeque<Result<StreamEvent, Error>>,
    stream: ChatStream,
    /// Same wire: forward the upstream's frames; events only feed the accounting (errors still use the encoder).
    frames: Option<RawFrames>,
    encoder: Encoder,
    outcome: Option<Outcome>,
    started: Instant,
    text: String,
    /// A fresh answer for the response cache: its key and the answer so far.
    store: Option<(crate::cache::Key, crux_llm::Accumulator)>,
}

/// Longest answer text kept for the chat log.
const MAX_LOGGED_TEXT: usize = 64 * 1024;

/// Bytes of ready events gathered into one body frame.
const COALESCE: usize = 16 * 1024;

impl StreamBody {
    /// The next body frame: the next event and every later one already at hand (up to [`COALESCE`] bytes), so a
    /// burst of upstream frames leaves in one write instead of one write per event.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        use futures_util::FutureExt as _;
        self.outcome.as_ref()?;
        let first = match self.buffered.pop_front() {
            Some(item) => Some(item),
            None => self.stream.next().await,
        };
        let mut out = Vec::with_capacity(1024);
        self.push(first, &mut out);
        while self.outcome.is_some() && out.len() < COALESCE {
            let item = match self.buffered.pop_front() {
                Some(item) => Some(item),
                // Polling without waiting: when nothing is ready the frame goes out, and the body's next poll
                // waits for the stream with the connection's waker.
                None => match self.stream.next().now_or_never() {
                    Some(item) => item,
                    None => break,
                },
            };
            self.push(item, &mut out);
        }
        Some(Bytes::from(out))
    }

    /// Account for one stream item and append its bytes (the upstream's own frames on the same wire).
    fn push(&mut self, item: Option<Result<StreamEvent, Error>>, out: &mut Vec<u8>) {
        match item {
            Some(Ok(ev)) => {
                if let Some((_, acc)) = self.store.as_mut() {
                    acc.push(&ev);
                }
                match &ev {
                    StreamEvent::TextDelta { text } if self.text.len() < MAX_LOGGED_TEXT => {
                        self.text.push_str(text);
                    }
                    StreamEvent::Usage(u) => {
                        if let Some(o) = self.outcome.as_mut() {
                            o.usage = *u;
                        }
                    }
                    StreamEvent::Finish { metrics, .. } => {
                        self.keep();
                        self.finish(None, metrics.time_to_first_token_ms);
                    }
                    _ => {}
                }
                match &self.frames {
                    Some(frames) => frames.take_into(out),
                    None => self.encoder.encode(&ev, out),
                }
            }
            Some(Err(e)) => {
                let forwarded_upstream_error = match &self.frames {
                    Some(frames) => {
                        frames.take_into(out);
                        // The upstream's own in-band error frame was just forwarded as received.
                        matches!(e.root(), Error::InBand { .. })
                    }
                    None => false,
                };
                if !forwarded_upstream_error {
                    self.encoder.error(&e, out);
                }
                let ttft = e.metrics().and_then(|m| m.time_to_first_token_ms);
                self.finish(Some(&e), ttft);
            }
            None => {
                let provider = self
                    .outcome
                    .as_ref()
                    .and_then(|o| o.target.as_ref())
                    .map_or(crux_llm::ProviderId::OpenAi, |t| t.provider);
                let e = Error::Truncated { provider };
                self.encoder.error(&e, out);
                self.finish(Some(&e), None);
            }
        }
    }

    /// A finished fresh answer goes into the response cache.
    fn keep(&mut self) {
        let (Some((key, acc)), Some(cache), Some(target)) = (
            self.store.take(),
            self.state.cache.as_ref(),
            self.outcome.as_ref().and_then(|o| o.target.clone()),
        ) else {
            return;
        };
        let response = acc.response(target.provider.as_str(), self.started.elapsed());
        cache.put(key, crate::cache::Cached { target, response });
    }

    fn finish(&mut self, error: Option<&Error>, ttft_ms: Option<u64>) {
        if let Some(mut o) = self.outcome.take() {
            o.latency = self.started.elapsed();
            if !o.cached {
                o.upstream = Some(o.latency);
            }
            o.ttft = ttft_ms.map(Duration::from_millis);
            o.response_text = std::mem::take(&mut self.text);
            o.error = error.map(|e| (e.code(), e.to_string()));
            accounting::record(&self.state, &o);
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

/// Turn a committed stream into a streamed response in the encoder's framing.
pub fn response(
    state: Arc<AppState>,
    routed: Routed<Peeked>,
    encoder: Encoder,
    mut o: Outcome,
    started: Instant,
    cache_key: Option<crate::cache::Key>,
) -> Response {
    o.streamed = true;
    o.target = Some(routed.target.clone());
    o.fallbacks = routed.fallbacks;
    o.retries = routed.retries;
    let content_type = encoder.content_type();
    let body = StreamBody {
        state,
        buffered: routed.value.buffered.into(),
        stream: routed.value.stream,
        frames: routed.value.frames,
        encoder,
        outcome: Some(o),
        started,
        text: String::new(),
        store: cache_key.map(|k| (k, crux_llm::Accumulator::new())),
    };
    let stream = futures_util::stream::unfold(body, |mut b| async move {
        let chunk = b.next_chunk().await?;
        Some((Ok::<_, std::convert::Infallible>(chunk), b))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    if let Ok(v) = HeaderValue::from_str(&routed.target.to_string()) {
        h.insert(super::TARGET, v);
    }
    if let Some(v) = crate::telemetry::access::overhead_header(started.elapsed(), routed.upstream) {
        h.insert(crate::telemetry::access::OVERHEAD, v);
    }
    resp
}
