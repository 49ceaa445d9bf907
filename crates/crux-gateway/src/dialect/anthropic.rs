//! Anthropic-compatible route: `POST /v1/messages` (streamed with the full named event sequence, and not).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use crux_llm::wire::anthropic::inbound::{self, EventEncoder};
use crux_llm::wire::anthropic::types::MessagesRequest;

use super::{Encoder, admit, serve_chat};
use crate::error::{ApiError, Dialect};
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
    let first = match admitted.first() {
        Ok(f) => f,
        Err(e) => return e.render(D),
    };
    let (req, stream) = match inbound::to_core(wire, first) {
        Ok(r) => r,
        Err(msg) => return ApiError::bad_request(msg).render(D),
    };
    let encoder = stream.then(|| Encoder::Anthropic(EventEncoder::new(&name)));
    serve_chat(state, admitted, req, &name, "messages", D, encoder, |r| {
        inbound::response(r, &name)
    })
    .await
}
