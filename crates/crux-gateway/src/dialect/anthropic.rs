//! Anthropic-compatible route: `POST /v1/messages` (streamed with the full named event sequence, and not).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use crux_llm::wire::anthropic::inbound::{self, EventEncoder};
use crux_llm::wire::anthropic::types::MessagesRequest;

use super::{Encoder, admit, failed, json_response, outcome, sse_response};
use crate::error::{ApiError, Dialect};
use crate::routing;
use crate::state::AppState;

const D: Dialect = Dialect::Anthropic;

/// `POST /v1/messages`.
pub async fn messages(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let wire: MessagesRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return ApiError::bad_request(format!("invalid request body: {e}")).render(D),
    };
    let name = wire.model.clone();
    let admitted = match admit(&state, &headers, peer, &name, D) {
        Ok(a) => a,
        Err(e) => return e.render(D),
    };
    let Some(first) = admitted.targets.first().cloned() else {
        return ApiError::not_found("the route has no targets").render(D);
    };
    let (req, stream) = match inbound::to_core(wire, first) {
        Ok(r) => r,
        Err(msg) => return ApiError::bad_request(msg).render(D),
    };
    let o = outcome("messages", &name, &admitted, &req);
    if stream {
        return match routing::open_stream(&state, &admitted.targets, &req, D).await {
            Ok(peeked) => sse_response(
                state,
                peeked,
                Encoder::Anthropic(EventEncoder::new(&name)),
                o,
                admitted.started,
            ),
            Err(f) => failed(&state, o, f, admitted.started, D),
        };
    }
    match routing::chat(&state, &admitted.targets, &req, D).await {
        Ok(served) => {
            let mut o = o;
            o.target = Some(served.target.clone());
            o.fallbacks = served.fallbacks;
            o.upstream = Some(served.upstream);
            o.usage = served.response.usage;
            o.response_text = served.response.text();
            o.latency = admitted.started.elapsed();
            let resp = json_response(&inbound::response(&served.response, &name), &served.target);
            state.finish(&o);
            resp
        }
        Err(f) => failed(&state, o, f, admitted.started, D),
    }
}
