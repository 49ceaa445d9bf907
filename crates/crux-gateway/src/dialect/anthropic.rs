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

use super::{ChatCall, Encoder, admit, bytes_response, raw_request, serve_chat};
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
    handle(state, peer, &headers, body)
        .await
        .unwrap_or_else(|e| e.render(D))
}

async fn handle(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let wire: MessagesRequest = crate::big_body::from_json(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))?;
    let name = wire.model.clone();
    let admitted = admit(&state, headers, peer, &name, D).await?;
    let (req, stream) = inbound::to_core(wire).map_err(ApiError::bad_request)?;
    let call = ChatCall {
        admitted,
        req,
        route: "messages",
        origin: Some(Wire::Anthropic),
        raw: Some(raw_request(Wire::Anthropic, headers, body)),
        encoder: stream.then(|| Encoder::Anthropic(EventEncoder::new(&name))),
        render: |r: &crux_llm::ChatResponse| inbound::response(r, &name),
    };
    serve_chat(state, call).await
}

/// `POST /v1/messages/count_tokens`: forwarded upstream (as sent, model edited) for an Anthropic target; counted
/// locally (the library's counter, an estimate outside the OpenAI families) for any other.
pub async fn count_tokens(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    count(state, peer, &headers, body)
        .await
        .unwrap_or_else(|e| e.render(D))
}

async fn count(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut obj: serde_json::Map<String, serde_json::Value> = crate::big_body::from_json(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))?;
    let name = obj
        .get("model")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let admitted = admit(&state, headers, peer, &name, D).await?;
    let target = admitted.first()?;
    if target.provider.spec().wire == Wire::Anthropic {
        let raw = raw_request(Wire::Anthropic, headers, body);
        let bytes = state
            .client()
            .forward_raw(&target, "/v1/messages/count_tokens", &raw)
            .await
            .map_err(|e| ApiError::from(&e))?;
        return Ok(bytes_response(bytes, &target));
    }
    obj.entry("max_tokens").or_insert(serde_json::json!(1));
    let wire: MessagesRequest = serde_json::from_value(serde_json::Value::Object(obj))
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))?;
    let (mut req, _) = inbound::to_core(wire).map_err(ApiError::bad_request)?;
    req.model = target.clone();
    // Exact counting of a large input is CPU work: on a blocking thread, never on the async workers.
    let tokens = tokio::task::spawn_blocking(move || crux_llm::context::count_request(&req))
        .await
        .map_err(|_| ApiError::from(&crux_llm::Error::Cancelled))?;
    Ok(bytes_response(
        serde_json::to_vec(&serde_json::json!({"input_tokens": tokens}))
            .unwrap_or_default()
            .into(),
        &target,
    ))
}
