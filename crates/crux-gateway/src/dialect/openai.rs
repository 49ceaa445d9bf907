//! OpenAI-compatible routes: `POST /v1/chat/completions`, `POST /v1/embeddings`, `GET /v1/models`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use bytes::Bytes;
use crux_llm::wire::openai::inbound::{self, ChunkEncoder};
use crux_llm::wire::openai::types::ChatCompletionRequest;
use crux_llm::{EmbedRequest, Wire};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ChatCall, Encoder, admit, json_response, raw_request, serve_chat};
use crate::accounting::{self, Outcome};
use crate::error::{ApiError, Dialect};
use crate::state::AppState;

const D: Dialect = Dialect::OpenAi;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    crate::big_body::from_json(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// `POST /v1/chat/completions`.
pub async fn chat_completions(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    chat(state, peer, &headers, body)
        .await
        .unwrap_or_else(|e| e.render(D))
}

async fn chat(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let wire: ChatCompletionRequest = parse(&body)?;
    let name = wire.model.clone();
    let admitted = admit(&state, headers, peer, &name, D).await?;
    let (req, delivery) = inbound::to_core(wire).map_err(ApiError::bad_request)?;
    let created = unix_now();
    let encoder = delivery
        .stream
        .then(|| Encoder::OpenAi(ChunkEncoder::new(&name, created, delivery)));
    let render = |r: &crux_llm::ChatResponse| {
        serde_json::to_value(inbound::response(r, &name, created)).unwrap_or_default()
    };
    let call = ChatCall {
        admitted,
        req,
        route: "chat_completions",
        origin: Some(Wire::OpenAi),
        raw: Some(raw_request(Wire::OpenAi, headers, body)),
        encoder,
        render,
    };
    serve_chat(state, call).await
}

/// `POST /v1/embeddings` body.
#[derive(Debug, Deserialize)]
struct EmbeddingsBody {
    model: String,
    input: Value,
    #[serde(default)]
    encoding_format: Option<String>,
    #[serde(default)]
    dimensions: Option<u32>,
}

/// `POST /v1/embeddings`.
pub async fn embeddings(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let wire: EmbeddingsBody = match parse(&body) {
        Ok(b) => b,
        Err(e) => return e.render(D),
    };
    let admitted = match admit(&state, &headers, peer, &wire.model, D).await {
        Ok(a) => a,
        Err(e) => return e.render(D),
    };
    let input: Vec<String> = match &wire.input {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => {
            return ApiError::bad_request("'input' must be a string or an array of strings")
                .render(D);
        }
    };
    let base64 = match wire.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return ApiError::bad_request(format!("unknown encoding_format '{other}'")).render(D);
        }
    };
    let mut o = Outcome::new("embeddings", &wire.model);
    let target = match admitted.first() {
        Ok(t) => t,
        Err(e) => return e.render(D),
    };
    o.target = Some(target.clone());
    let req = EmbedRequest {
        model: target.clone(),
        input,
        dimensions: wire.dimensions,
    };
    match state.client().embed(&req).await {
        Ok(resp) => {
            let data: Vec<Value> = resp
                .vectors
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let embedding = if base64 {
                        let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                        json!(base64::engine::general_purpose::STANDARD.encode(bytes))
                    } else {
                        json!(v)
                    };
                    json!({"object": "embedding", "index": i, "embedding": embedding})
                })
                .collect();
            let prompt = resp.usage.prompt.unwrap_or(0);
            let body = json!({"object": "list", "model": wire.model, "data": data,
                "usage": {"prompt_tokens": prompt, "total_tokens": resp.usage.total.unwrap_or(prompt)}});
            o.usage = resp.usage;
            o.latency = admitted.started.elapsed();
            accounting::record(&state, &o);
            json_response(&body, &target)
        }
        Err(e) => {
            let err = ApiError::from(&e);
            o.error = Some((err.code, err.message.clone()));
            o.latency = admitted.started.elapsed();
            accounting::record(&state, &o);
            err.render(D)
        }
    }
}
