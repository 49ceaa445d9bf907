//! Ollama native wire: handlers for `POST /api/chat`, `GET /api/tags`, `POST /api/embed`,
//! `POST /api/show` and `GET /api/version`. No authentication (any `Authorization` is ignored).

/// Validation of `/api/chat` requests and translation into a neutral conversation.
mod parse;
/// Replies as `/api/chat` objects and NDJSON lines; error bodies and the model catalogue.
mod render;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::clock;
use crate::embed;
use crate::errors::MockError;
use crate::http::{self, Output, json_response, with_headers};
use crate::ollama::parse::{json_object, model, parse_chat};
use crate::ollama::render::Meta;
use crate::reply::{self, word_count};
use crate::state::Shared;

/// Version reported by `GET /api/version`.
const VERSION: &str = "0.6.0";
/// Default embedding length.
const DEFAULT_DIMENSIONS: u64 = 768;
/// Largest embedding length.
const MAX_DIMENSIONS: u64 = 8_192;

fn finish(result: Result<Response, MockError>) -> Response {
    result.unwrap_or_else(|e| render::error_response(&e))
}

/// A 200 JSON answer carrying the faults' retry headers.
fn ok_json(body: &Value, faults: &crate::faults::Faults) -> Response {
    with_headers(json_response(200, body), &faults.response_headers())
}

/// `POST /api/chat`.
pub(crate) async fn chat(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(chat_inner(shared, uri.path(), &headers, &body).await)
}

async fn chat_inner(
    shared: Arc<Shared>,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    let mut req = parse_chat(&json_object(body)?)?;
    if let Some(e) = crate::refuse::ollama(&req.model, &req.conv) {
        return Err(e);
    }
    let faults = http::request_faults(&shared, headers, &mut req.conv).await?;
    let meta = Meta {
        model: req.model,
        created_at: clock::rfc3339_now(),
    };
    if req.conv.messages.is_empty() {
        return Ok(ok_json(&render::load_only(&meta), &faults));
    }
    let reply = reply::generate(&req.conv, || shared.next_tool_call_id());
    shared.report_usage(reply.usage.prompt, reply.usage.completion);
    let mut extra = faults.response_headers();
    let output = if req.stream {
        extra.push(("content-type".to_owned(), "application/x-ndjson".to_owned()));
        Output::Stream(render::stream_frames(&meta, &reply))
    } else {
        Output::Plain {
            full: Bytes::from(render::completion(&meta, &reply).to_string()),
            broken: Bytes::from_static(render::BROKEN_BODY.as_bytes()),
            error: render::mid_error_body(),
        }
    };
    Ok(http::deliver(shared, path, &faults, output, &extra).await)
}

/// `GET /api/tags`.
pub(crate) async fn tags(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    finish(
        http::header_faults(&shared, &headers)
            .await
            .map(|f| ok_json(&render::tags(), &f)),
    )
}

/// `GET /api/version`.
pub(crate) async fn version(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    finish(
        http::header_faults(&shared, &headers)
            .await
            .map(|f| ok_json(&json!({ "version": VERSION }), &f)),
    )
}

/// `POST /api/show`.
pub(crate) async fn show(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(show_inner(&shared, &headers, &body).await)
}

async fn show_inner(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    let model = model(&json_object(body)?)?;
    let faults = http::header_faults(shared, headers).await?;
    Ok(ok_json(&render::show(&model), &faults))
}

/// `POST /api/embed`.
pub(crate) async fn embed(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(embed_inner(&shared, &headers, &body).await)
}

async fn embed_inner(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    let obj = json_object(body)?;
    let model = model(&obj)?;
    let inputs: Vec<&str> = match obj.get("input") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| MockError::invalid("invalid input type", None))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(MockError::invalid("invalid input type", None)),
    };
    let dims = match obj.get("dimensions") {
        None | Some(Value::Null) => DEFAULT_DIMENSIONS,
        Some(v) => v
            .as_u64()
            .filter(|d| (1..=MAX_DIMENSIONS).contains(d))
            .ok_or_else(|| MockError::invalid("dimensions must be a positive integer", None))?,
    };
    let faults = http::header_faults(shared, headers).await?;
    let dims = usize::try_from(dims).unwrap_or(768);
    let embeddings: Vec<Vec<f32>> = inputs.iter().map(|t| embed::vector(t, dims)).collect();
    let tokens: u64 = inputs.iter().map(|t| word_count(t).max(1)).sum();
    let body = json!({
        "model": model, "embeddings": embeddings,
        "total_duration": 2_000_000 + tokens * 100_000, "load_duration": 1_000_000,
        "prompt_eval_count": tokens,
    });
    Ok(ok_json(&body, &faults))
}
