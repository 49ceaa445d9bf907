//! Native `POST /api/chat` and `POST /api/chat/stream` (NDJSON), compatible with the original service's shapes
//! minus its bugs: provider failures are non-2xx with a code, validation errors are 400. The dialect's parsing and
//! encoding live in `crux_llm::wire::native`; both routes are served by the shared chat path.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use crux_llm::wire::native::inbound::{self as native, ChatBody};

use crate::dialect::{ChatCall, Encoder, admit, serve_chat};
use crate::error::{ApiError, Dialect};
use crate::state::AppState;

const D: Dialect = Dialect::Native;

/// `POST /api/chat`.
pub async fn chat(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, peer, &headers, &body, false)
        .await
        .unwrap_or_else(|e| e.render(D))
}

/// `POST /api/chat/stream`.
pub async fn chat_stream(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, peer, &headers, &body, true)
        .await
        .unwrap_or_else(|e| e.render(D))
}

async fn handle(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
    stream: bool,
) -> Result<Response, ApiError> {
    let body: ChatBody = crate::big_body::from_json(body)
        .map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))?;
    let (req, name) = native::to_core(body).map_err(ApiError::bad_request)?;
    let admitted = admit(&state, headers, peer, &name, D).await?;
    let call = ChatCall {
        admitted,
        req,
        route: if stream {
            "api_chat_stream"
        } else {
            "api_chat"
        },
        origin: None,
        raw: None,
        encoder: stream.then_some(Encoder::Native),
        render: |r: &crux_llm::ChatResponse| native::response(r, r.latency.as_millis()),
    };
    serve_chat(state, call).await
}
