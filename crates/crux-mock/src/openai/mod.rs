//! OpenAI Chat Completions wire: HTTP handlers for chat completions, models, embeddings and
//! unknown routes, plus OpenAI-style authentication.

/// Request validation and translation into a neutral conversation.
pub(crate) mod azure;
pub(crate) mod parse;
/// Replies, stream chunks and errors as OpenAI JSON and SSE.
pub(crate) mod render;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::embed;
use crate::errors::MockError;
use crate::faults::Faults;
use crate::http::{BAD_KEY, Output, header, json_object, json_response, unix_now, with_headers};
use crate::openai::parse::{model, parse_chat};
use crate::openai::render::Meta;
use crate::reply::{self, word_count};
use crate::state::Shared;

/// Model ids listed by `GET /v1/models`.
const MODELS: [&str; 4] = [
    "gpt-4o-mini",
    "gpt-4o",
    "text-embedding-3-small",
    "mock-model",
];

/// `created` timestamp of listed models.
const MODELS_CREATED: u64 = 1_715_367_049;

/// Default embedding length.
const DEFAULT_DIMENSIONS: u64 = 8;

/// Requires `Authorization: Bearer KEY` or `x-api-key: KEY` with a non-empty key other than
/// `bad-key` (shared by the OpenAI-family wires).
pub(crate) fn check_auth(headers: &HeaderMap) -> Result<(), MockError> {
    let bearer = header(headers, "authorization").and_then(|v| {
        let (scheme, key) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
    });
    let key = bearer.filter(|k| !k.is_empty()).or_else(|| {
        header(headers, "x-api-key")
            .map(str::trim)
            .filter(|k| !k.is_empty())
    });
    match key {
        None => Err(MockError::unauthorized(
            "You didn't provide an API key. You need to provide your API key in an Authorization \
             header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )),
        Some(BAD_KEY) => Err(MockError::unauthorized(format!(
            "Incorrect API key provided: {BAD_KEY}. You can find your API key at \
             https://platform.openai.com/account/api-keys."
        ))),
        Some(_) => Ok(()),
    }
}

fn finish(result: Result<Response, MockError>) -> Response {
    result.unwrap_or_else(|e| render::error_response(&e))
}

/// Auth plus header-only faults, for the non-chat endpoints.
async fn prelude(shared: &Shared, headers: &HeaderMap) -> Result<Faults, MockError> {
    check_auth(headers)?;
    crate::http::header_faults(shared, headers).await
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(chat(shared, uri.path(), &headers, &body).await)
}

async fn chat(
    shared: Arc<Shared>,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    check_auth(headers)?;
    let mut req = parse_chat(body)?;
    if let Some(e) = crate::refuse::openai(&req.model, &req.conv, req.include_usage) {
        return Err(e);
    }
    let faults = crate::http::request_faults(&shared, headers, &mut req.conv).await?;
    let reply = reply::generate(&req.conv, || shared.next_tool_call_id());
    shared.report_usage(reply.usage.prompt, reply.usage.completion);
    let meta = Meta {
        id: format!("chatcmpl-mock-{}", shared.next_response()),
        created: unix_now(),
        model: req.model,
    };
    let mut extra = faults.response_headers();
    extra.push(("x-request-id".to_owned(), format!("req-{}", meta.id)));
    let output = if req.stream {
        Output::Stream(render::stream_frames(&meta, &reply, req.include_usage))
    } else {
        Output::Plain {
            full: Bytes::from(render::completion(&meta, &reply).to_string()),
            broken: Bytes::from_static(render::BROKEN_BODY.as_bytes()),
            error: render::mid_error_body(),
        }
    };
    Ok(crate::http::deliver(shared, path, &faults, output, &extra).await)
}

fn model_json(id: &str) -> Value {
    let owner = if id.starts_with("text-embedding") {
        "system"
    } else {
        "mock"
    };
    json!({"id": id, "object": "model", "created": MODELS_CREATED, "owned_by": owner})
}

/// `GET /v1/models`.
pub(crate) async fn list_models(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    finish(prelude(&shared, &headers).await.map(|f| {
        let data: Vec<Value> = MODELS.iter().map(|id| model_json(id)).collect();
        let resp = json_response(200, &json!({"object": "list", "data": data}));
        with_headers(resp, &f.response_headers())
    }))
}

/// `GET /v1/models/{id}` (any id exists on the mock).
pub(crate) async fn get_model(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    finish(
        prelude(&shared, &headers)
            .await
            .map(|f| with_headers(json_response(200, &model_json(&id)), &f.response_headers())),
    )
}

/// `POST /v1/embeddings`.
pub(crate) async fn embeddings(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(embed_request(&shared, &headers, &body).await)
}

/// Embedding inputs as (hash text, token count).
fn embedding_inputs(input: Option<&Value>) -> Result<Vec<(String, u64)>, MockError> {
    let invalid = || {
        MockError::invalid(
            "'input' must be a string, an array of strings, an array of token ids or an array \
             of token id arrays, and must not be empty.",
            Some("input"),
        )
    };
    let tokens = |v: &Value| -> Option<(String, u64)> {
        let ids = v
            .as_array()?
            .iter()
            .map(Value::as_u64)
            .collect::<Option<Vec<u64>>>()?;
        let text = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
        Some((text, ids.len() as u64))
    };
    match input {
        Some(Value::String(s)) => Ok(vec![(s.clone(), word_count(s))]),
        Some(Value::Array(items)) if !items.is_empty() => {
            if items.iter().all(Value::is_string) {
                Ok(items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|s| (s.to_owned(), word_count(s)))
                    .collect())
            } else if items.iter().all(Value::is_u64) {
                tokens(&Value::Array(items.clone()))
                    .map(|t| vec![t])
                    .ok_or_else(invalid)
            } else {
                items
                    .iter()
                    .map(|v| tokens(v).filter(|(_, n)| *n > 0).ok_or_else(invalid))
                    .collect()
            }
        }
        _ => Err(invalid()),
    }
}

async fn embed_request(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    let faults = prelude(shared, headers).await?;
    let obj = json_object(body)?;
    let model = model(&obj)?;
    let inputs = embedding_inputs(obj.get("input"))?;
    let dims = match obj.get("dimensions") {
        None | Some(Value::Null) => DEFAULT_DIMENSIONS,
        Some(v) => v
            .as_u64()
            .filter(|d| (1..=65_536).contains(d))
            .ok_or_else(|| {
                MockError::invalid(
                    "'dimensions' must be a positive integer.",
                    Some("dimensions"),
                )
            })?,
    };
    let base64 = match obj
        .get("encoding_format")
        .and_then(|v| (!v.is_null()).then_some(v))
    {
        None => false,
        Some(v) if v == "float" => false,
        Some(v) if v == "base64" => true,
        Some(_) => {
            return Err(MockError::invalid(
                "'encoding_format' must be 'float' or 'base64'.",
                Some("encoding_format"),
            ));
        }
    };
    let dims = usize::try_from(dims).unwrap_or(usize::MAX);
    let tokens: u64 = inputs.iter().map(|(_, n)| n).sum();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, (text, _))| {
            let v = embed::vector(text, dims);
            let embedding = if base64 {
                json!(embed::base64_f32le(&v))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let body = json!({
        "object": "list", "model": model, "data": data,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    });
    Ok(with_headers(
        json_response(200, &body),
        &faults.response_headers(),
    ))
}

/// Any other route: OpenAI-shaped 404.
pub(crate) async fn not_found(uri: Uri) -> Response {
    let message = format!("Invalid URL ({})", uri.path());
    let body = render::error_json(&message, "invalid_request_error", None, Some("unknown_url"));
    json_response(404, &body)
}
