//! Anthropic Messages wire: HTTP handlers for `POST /v1/messages` and the Anthropic-shaped
//! model list (`GET /v1/models` when the request carries `anthropic-version`), plus
//! `x-api-key` / `anthropic-version` header checks.

/// Validation of `messages` and translation into neutral messages.
mod messages;
/// Validation of a Messages request and translation into a neutral conversation.
mod parse;
/// Replies as `message` JSON and named SSE events; Anthropic error bodies.
mod render;

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::anthropic::parse::parse_request;
use crate::anthropic::render::{Answer, Meta, Thinking};
use crate::errors::MockError;
use crate::faults::Faults;
use crate::http::{self, BAD_KEY, Output, header, json_response, with_headers};
use crate::openai;
use crate::reply;
use crate::state::Shared;

/// Header whose presence selects the Anthropic wire on shared routes.
const VERSION_HEADER: &str = "anthropic-version";

/// Characters of the user text quoted in the mock thinking.
const THINKING_QUOTE_CHARS: usize = 40;

/// Listed models: (id, display name, created_at).
const MODELS: [(&str, &str, &str); 3] = [
    (
        "claude-3-5-haiku-latest",
        "Claude Haiku 3.5",
        "2024-10-22T00:00:00Z",
    ),
    (
        "claude-sonnet-4-5-20250929",
        "Claude Sonnet 4.5",
        "2025-09-29T00:00:00Z",
    ),
    (
        "claude-opus-4-1-20250805",
        "Claude Opus 4.1",
        "2025-08-05T00:00:00Z",
    ),
];

/// Largest `limit` accepted by the models list.
const MAX_LIMIT: usize = 1000;

fn is_anthropic(headers: &HeaderMap) -> bool {
    headers.contains_key(VERSION_HEADER)
}

/// Requires a usable `x-api-key` (not empty, not `bad-key`) and an `anthropic-version`.
fn check_headers(headers: &HeaderMap) -> Result<(), MockError> {
    match header(headers, "x-api-key").map(str::trim) {
        None | Some("" | BAD_KEY) => return Err(MockError::unauthorized("invalid x-api-key")),
        Some(_) => {}
    }
    if header(headers, VERSION_HEADER).is_none_or(|v| v.trim().is_empty()) {
        return Err(MockError::invalid(
            "anthropic-version: header is required",
            None,
        ));
    }
    Ok(())
}

/// The betas a request enables (`anthropic-beta: a,b`).
fn betas(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty())
        .collect()
}

fn finish(result: Result<Response, MockError>) -> Response {
    result.unwrap_or_else(|e| render::error_response(&e))
}

/// `POST /v1/messages/count_tokens`: the prompt tokens a Messages request would report (same headers checked; a
/// count request carries no `max_tokens`).
pub(crate) async fn count_tokens(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(count(&shared, &headers, &body))
}

fn count(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Response, MockError> {
    check_headers(headers)?;
    let mut obj = crate::http::json_object(body)?;
    obj.entry("max_tokens").or_insert(serde_json::json!(1));
    let bytes = serde_json::to_vec(&obj).unwrap_or_default();
    let req = parse_request(&bytes, &shared.signatures, &betas(headers))?;
    let prompt = reply::generate(&req.conv, String::new).usage.prompt;
    Ok(crate::http::json_response(
        200,
        &serde_json::json!({"input_tokens": prompt}),
    ))
}

/// `POST /v1/messages`.
pub(crate) async fn messages(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(handle(shared, uri.path(), &headers, &body).await)
}

async fn handle(
    shared: Arc<Shared>,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    check_headers(headers)?;
    let mut req = parse_request(body, &shared.signatures, &betas(headers))?;
    let faults = http::request_faults(&shared, headers, &mut req.conv).await?;
    let reply = reply::generate(&req.conv, || shared.next_prefixed_call_id("toolu_"));
    let thinking = req.thinking.then(|| {
        let quoted: String = req
            .conv
            .last_user_text()
            .chars()
            .take(THINKING_QUOTE_CHARS)
            .collect();
        let text = format!("Mock thinking about: {quoted}");
        let signature = shared.signatures.issue(&text);
        Thinking { text, signature }
    });
    let n = shared.next_response();
    let meta = Meta {
        id: format!("msg_mock_{n}"),
        model: req.model,
    };
    let answer = Answer {
        reply,
        thinking,
        cache_read: faults.cache_read.unwrap_or(0),
    };
    let cache_read = answer.cache_read.min(answer.reply.usage.prompt);
    shared.report_usage(answer.input_tokens() + cache_read, answer.output_tokens());
    let mut extra = faults.response_headers();
    extra.push(("request-id".to_owned(), format!("req_mock_{n}")));
    let output = if req.stream {
        Output::Stream(render::stream_frames(&meta, &answer))
    } else {
        Output::Plain {
            full: Bytes::from(render::message(&meta, &answer).to_string()),
            broken: render::broken_body(),
            error: render::mid_error_body(),
        }
    };
    Ok(http::deliver(shared, path, &faults, output, &extra).await)
}

/// Header checks plus header-only faults, for the models endpoints.
async fn prelude(shared: &Shared, headers: &HeaderMap) -> Result<Faults, MockError> {
    check_headers(headers)?;
    http::header_faults(shared, headers).await
}

fn model_json((id, name, created): (&str, &str, &str)) -> Value {
    json!({"type": "model", "id": id, "display_name": name, "created_at": created})
}

/// Value of query parameter `key` (no percent-decoding; model ids do not need it).
fn query_param<'a>(query: Option<&'a str>, key: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn position(id: &str, param: &str) -> Result<usize, MockError> {
    MODELS
        .iter()
        .position(|m| m.0 == id)
        .ok_or_else(|| MockError::invalid(format!("{param}: unknown model id '{id}'"), None))
}

/// One page of the model list: `limit` (1..=1000, default 20), `after_id` / `before_id`.
fn models_page(query: Option<&str>) -> Result<Value, MockError> {
    let limit = match query_param(query, "limit") {
        None => 20,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| MockError::invalid("limit: Input should be between 1 and 1000", None))?,
    };
    let (start, end, has_more) = match (
        query_param(query, "after_id"),
        query_param(query, "before_id"),
    ) {
        (Some(after), _) => {
            let start = position(after, "after_id")? + 1;
            let end = (start + limit).min(MODELS.len());
            (start, end, end < MODELS.len())
        }
        (None, Some(before)) => {
            let end = position(before, "before_id")?;
            let start = end.saturating_sub(limit);
            (start, end, start > 0)
        }
        (None, None) => {
            let end = limit.min(MODELS.len());
            (0, end, end < MODELS.len())
        }
    };
    let page = &MODELS[start..end];
    let data: Vec<Value> = page.iter().map(|m| model_json(*m)).collect();
    Ok(json!({
        "data": data, "has_more": has_more,
        "first_id": page.first().map(|m| m.0), "last_id": page.last().map(|m| m.0),
    }))
}

/// `GET /v1/models`: Anthropic's paginated list when `anthropic-version` is sent, else
/// OpenAI's list.
pub(crate) async fn list_models(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if !is_anthropic(&headers) {
        return openai::list_models(State(shared), headers).await;
    }
    let result = async {
        let faults = prelude(&shared, &headers).await?;
        let page = models_page(query.as_deref())?;
        Ok(with_headers(
            json_response(200, &page),
            &faults.response_headers(),
        ))
    };
    finish(result.await)
}

/// `GET /v1/models/{id}`: an Anthropic model object when `anthropic-version` is sent (unknown
/// ids are 404 `not_found_error`), else OpenAI's.
pub(crate) async fn get_model(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !is_anthropic(&headers) {
        return openai::get_model(State(shared), Path(id), headers).await;
    }
    let result = async {
        let faults = prelude(&shared, &headers).await?;
        let Some(model) = MODELS.iter().find(|m| m.0 == id) else {
            return Err(MockError {
                status: 404,
                kind: crate::errors::ErrorKind::NotFound,
                message: format!("model: {id}"),
                param: None,
                code: None,
                headers: Vec::new(),
            });
        };
        Ok(with_headers(
            json_response(200, &model_json(*model)),
            &faults.response_headers(),
        ))
    };
    finish(result.await)
}
