//! A request answered from the response cache: as JSON in the caller's dialect, or replayed as a stream through the
//! same stream path as a live answer; `x-crux-cache: hit`, logged once with cost 0 (and `miss` on fresh answers).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::HeaderValue;
use axum::response::Response;
use crux_llm::router::Peeked;
use crux_llm::{ChatResponse, ChatStream, Routed};

use super::stream::{self, Encoder};
use crate::accounting::{self, Outcome};
use crate::cache::Cached;
use crate::state::AppState;

/// Mark a fresh answer as a cache miss.
pub fn miss_header(resp: &mut Response) {
    resp.headers_mut()
        .insert("x-crux-cache", HeaderValue::from_static("miss"));
}

/// Answer `hit` to the caller: `encoder` streams it, else `render` makes the JSON body.
pub fn answer<R>(
    state: &Arc<AppState>,
    hit: Arc<Cached>,
    outcome: Option<Outcome>,
    encoder: Option<Encoder>,
    render: R,
    started: Instant,
) -> Response
where
    R: FnOnce(&ChatResponse) -> serde_json::Value,
{
    let mut o = outcome.unwrap_or_else(|| Outcome::new("chat", ""));
    o.cached = true;
    o.target = Some(hit.target.clone());
    o.upstream = Some(Duration::ZERO);
    let mut resp = match encoder {
        Some(encoder) => {
            let routed = Routed {
                value: Peeked {
                    buffered: Vec::new(),
                    stream: ChatStream::replay(crux_llm::accumulate::replay(&hit.response)),
                    frames: None,
                },
                target: hit.target.clone(),
                fallbacks: 0,
                retries: Vec::new(),
                upstream: Duration::ZERO,
                reported_overhead: None,
                raw: None,
                pruned: 0,
            };
            stream::response(Arc::clone(state), routed, encoder, o, started, None)
        }
        None => {
            let resp = super::json_response(&render(&hit.response), &hit.target);
            o.usage = hit.response.usage;
            o.response_text = hit.response.text();
            o.latency = started.elapsed();
            accounting::record(state, &o);
            resp
        }
    };
    resp.headers_mut()
        .insert("x-crux-cache", HeaderValue::from_static("hit"));
    resp
}
