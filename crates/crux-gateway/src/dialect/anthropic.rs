//! Anthropic-compatible route: `POST /v1/messages` (streamed with the full named event sequence, and not).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use crux_llm::Wire;
use crux_llm::wire::anthropic::inbound::{self, EventEncoder};
use crux_llm::wire::anthropic::types::MessagesRequest;

use super::{ChatCall, Encoder, admit, serve_chat};
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
    handle(state, peer, &headers, &body)
        .await
        .unwrap_or_else(|e| e.render(D))
}

async fn handle(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let wire: MessagesRequest = crate::big_body::from_json(body)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))?;
    let name = wire.model.clone();
    let admitted = admit(&state, headers, peer, &name, D)?;
    let (req, stream) = inbound::to_core(wire).map_err(ApiError::bad_request)?;
    let call = ChatCall {
        admitted,
        req,
        route: "messages",
        origin: Some(Wire::Anthropic),
        encoder: stream.then(|| Encoder::Anthropic(EventEncoder::new(&name))),
        render: |r: &crux_llm::ChatResponse| inbound::response(r, &name),
    };
    serve_chat(state, call).await
}
