//! Gemini (Generative Language API) wire: handlers for `/v1beta/models` (paginated list, get)
//! and `/v1beta/models/{model}:{action}` (`generateContent`, `streamGenerateContent`,
//! `countTokens`, `embedContent`, `batchEmbedContents`), with Gemini-style key authentication.

/// Key authentication and query parameters.
mod auth;
/// `cachedContents`: creation and use in `generateContent`.
mod cache;
/// Tools, tool config and generation config of a request.
mod config;
/// Validation of `generateContent` requests and translation into a neutral conversation.
mod parse;
/// Replies as `GenerateContentResponse` JSON and stream chunks; Google RPC errors.
mod render;
/// Proto-JSON field names, unknown-field rejection and `Schema` validation.
mod schema;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::embed;
use crate::errors::{ErrorKind, MockError};
use crate::gemini::auth::{check_auth, gemini_error, query_param};
use crate::gemini::parse::{content_texts, json_object, parse_generate};
use crate::gemini::render::{Framing, Meta};
use crate::gemini::schema::{bad, check_fields, field, invalid_value};
use crate::http::{self, Output, json_response, with_headers};
use crate::reply::{self, ReplyContent};
use crate::state::Shared;

/// Methods of chat models.
const GENERATE: &[&str] = &["generateContent", "countTokens"];
/// Methods of embedding models.
const EMBED: &[&str] = &["embedContent", "batchEmbedContents"];

/// Listed models: (id, display name, methods, input limit, output limit).
const MODELS: [(&str, &str, &[&str], u64, u64); 5] = [
    (
        "gemini-2.0-flash",
        "Gemini 2.0 Flash",
        GENERATE,
        1_048_576,
        8_192,
    ),
    (
        "gemini-2.5-flash",
        "Gemini 2.5 Flash",
        GENERATE,
        1_048_576,
        65_536,
    ),
    (
        "gemini-2.5-pro",
        "Gemini 2.5 Pro",
        GENERATE,
        1_048_576,
        65_536,
    ),
    (
        "gemini-3-pro-preview",
        "Gemini 3 Pro Preview",
        GENERATE,
        1_048_576,
        65_536,
    ),
    ("text-embedding-004", "Text Embedding 004", EMBED, 2_048, 1),
];

/// Default page size of `GET /v1beta/models`.
const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest page size of `GET /v1beta/models`.
const MAX_PAGE_SIZE: usize = 1_000;
/// Default embedding length.
const DEFAULT_DIMENSIONS: u64 = 768;
/// Largest embedding length.
const MAX_DIMENSIONS: u64 = 3_072;

fn finish(result: Result<Response, MockError>) -> Response {
    result.unwrap_or_else(|e| render::error_response(&e))
}

fn is_embedding(model: &str) -> bool {
    model.contains("embedding")
}

fn model_json(id: &str) -> Value {
    let mut v = listed_model(id);
    if cache::supports(id)
        && let Some(Value::Array(methods)) = v.get_mut("supportedGenerationMethods")
    {
        methods.push(json!("createCachedContent"));
    }
    v
}

fn listed_model(id: &str) -> Value {
    match MODELS.iter().find(|m| m.0 == id) {
        Some((id, display, methods, input, output)) => {
            let mut v = render::model_json(id, display, methods, *output);
            v["inputTokenLimit"] = json!(input);
            v
        }
        None if is_embedding(id) => render::model_json(id, id, EMBED, 1),
        None => render::model_json(id, id, GENERATE, 8_192),
    }
}

fn not_found(model: &str, action: &str) -> MockError {
    gemini_error(
        404,
        ErrorKind::NotFound,
        &format!(
            "models/{model} is not found for API version v1beta, or is not supported for \
             {action}. Call ListModels to see the list of available models and their supported \
             methods."
        ),
    )
}

/// `GET /v1beta/models?pageSize=N&pageToken=T`.
pub(crate) async fn list_models(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    finish(list(&shared, &uri, &headers).await)
}

fn page_token(offset: usize) -> String {
    format!("mock-page-{offset}")
}

async fn list(shared: &Shared, uri: &Uri, headers: &HeaderMap) -> Result<Response, MockError> {
    check_auth(headers, uri)?;
    let faults = http::header_faults(shared, headers).await?;
    let size = match query_param(uri, "pageSize").filter(|s| !s.is_empty()) {
        None => DEFAULT_PAGE_SIZE,
        Some(s) => match s.parse::<usize>() {
            Ok(0) => DEFAULT_PAGE_SIZE,
            Ok(n) => n.min(MAX_PAGE_SIZE),
            Err(_) => return Err(invalid_value("page_size", "TYPE_INT32", &json!(s))),
        },
    };
    let start = match query_param(uri, "pageToken").filter(|s| !s.is_empty()) {
        None => 0,
        Some(t) => (1..MODELS.len())
            .find(|i| page_token(*i) == t)
            .ok_or_else(|| bad("Invalid page token.", "page_token"))?,
    };
    let end = (start + size).min(MODELS.len());
    let models: Vec<Value> = MODELS[start..end].iter().map(|m| model_json(m.0)).collect();
    let mut body = json!({ "models": models });
    if end < MODELS.len() {
        body["nextPageToken"] = json!(page_token(end));
    }
    Ok(with_headers(
        json_response(200, &body),
        &faults.response_headers(),
    ))
}

/// `POST /v1beta/cachedContents`.
pub(crate) async fn create_cached_content(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(create_cache(&shared, &uri, &headers, &body).await)
}

async fn create_cache(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    check_auth(headers, uri)?;
    let faults = http::header_faults(shared, headers).await?;
    let answer = cache::create(shared, &json_object(body)?)?;
    Ok(with_headers(
        json_response(200, &answer),
        &faults.response_headers(),
    ))
}

/// `GET /v1beta/models/{model}`.
pub(crate) async fn get_model(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    finish(get(&shared, &name, &uri, &headers).await)
}

async fn get(
    shared: &Shared,
    name: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, MockError> {
    check_auth(headers, uri)?;
    let faults = http::header_faults(shared, headers).await?;
    if name.contains([':', '/']) || name.starts_with("missing") {
        return Err(gemini_error(
            404,
            ErrorKind::NotFound,
            &format!("models/{name} is not found for API version v1beta."),
        ));
    }
    Ok(with_headers(
        json_response(200, &model_json(name)),
        &faults.response_headers(),
    ))
}

/// `POST /v1beta/models/{model}:{action}`.
pub(crate) async fn model_action(
    State(shared): State<Arc<Shared>>,
    Path(rest): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(action(shared, &rest, &uri, &headers, &body).await)
}

async fn action(
    shared: Arc<Shared>,
    rest: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    check_auth(headers, uri)?;
    let (model, action) = rest.rsplit_once(':').unwrap_or((rest, ""));
    let embedding = matches!(action, "embedContent" | "batchEmbedContents");
    let known = matches!(
        action,
        "generateContent" | "streamGenerateContent" | "countTokens"
    ) || embedding;
    if !known {
        return Err(gemini_error(
            404,
            ErrorKind::NotFound,
            &format!("Method not found: models/{rest}"),
        ));
    }
    if model.is_empty()
        || model.contains('/')
        || model.starts_with("missing")
        || embedding != is_embedding(model)
    {
        return Err(not_found(model, action));
    }
    match action {
        "generateContent" => generate(shared, uri.path(), model, None, headers, body).await,
        "streamGenerateContent" => {
            let framing = if query_param(uri, "alt").as_deref() == Some("sse") {
                Framing::Sse
            } else {
                Framing::JsonArray
            };
            generate(shared, uri.path(), model, Some(framing), headers, body).await
        }
        "countTokens" => count_tokens(&shared, model, headers, body).await,
        _ => embed_action(&shared, model, action, headers, body).await,
    }
}

async fn generate(
    shared: Arc<Shared>,
    path: &str,
    model: &str,
    stream: Option<Framing>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    let mut obj = json_object(body)?;
    let from_cache = cache::expand(&shared, model, &mut obj)?;
    let mut req = parse_generate(model, &obj, &shared.signatures)?;
    if let Some(e) = crate::refuse::gemini(model, &req.conv) {
        return Err(e);
    }
    let faults = http::request_faults(&shared, headers, &mut req.conv).await?;
    let mut reply = reply::generate(&req.conv, || shared.next_tool_call_id());
    shared.report_usage(reply.usage.prompt, reply.usage.completion);
    if let ReplyContent::Text(text) = &mut reply.content
        && req.enum_output
        && let Ok(Value::String(value)) = serde_json::from_str::<Value>(text)
    {
        *text = value;
    }
    let signature = match &reply.content {
        ReplyContent::ToolCall(call) => Some(
            shared
                .signatures
                .issue(&format!("gemini functionCall {}", call.name)),
        ),
        ReplyContent::Text(_) => None,
    };
    let meta = Meta {
        model: model.to_owned(),
        response_id: format!("mock-{}", shared.next_response()),
        signature,
        cached: faults.cache_read.or(from_cache),
    };
    let mut extra = faults.response_headers();
    let output = match stream {
        Some(framing) => {
            if framing == Framing::JsonArray {
                extra.push(("content-type".to_owned(), "application/json".to_owned()));
            }
            Output::Stream(render::stream_frames(&meta, &reply, framing))
        }
        None => Output::Plain {
            full: Bytes::from(render::completion(&meta, &reply).to_string()),
            broken: Bytes::from_static(render::BROKEN_BODY.as_bytes()),
            error: render::mid_error_body(),
        },
    };
    Ok(http::deliver(shared, path, &faults, output, &extra).await)
}

/// `:countTokens` with `contents` or a whole `generateContentRequest`.
async fn count_tokens(
    shared: &Shared,
    model: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    let obj = json_object(body)?;
    let inner = match field(&obj, "generateContentRequest") {
        Some(Value::Object(inner)) => inner.clone(),
        Some(other) => return Err(invalid_value("generate_content_request", "object", other)),
        None => obj,
    };
    let req = parse_generate(model, &inner, &shared.signatures)?;
    let faults = http::header_faults(shared, headers).await?;
    let prompt = reply::generate(&req.conv, String::new).usage.prompt;
    let body = json!({"totalTokens": prompt,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]});
    Ok(with_headers(
        json_response(200, &body),
        &faults.response_headers(),
    ))
}

/// One `EmbedContentRequest` → (text, dimensions).
fn embed_request(
    obj: &Map<String, Value>,
    at: &str,
    url_model: Option<&str>,
) -> Result<(String, usize), MockError> {
    let fields = [
        "model",
        "content",
        "taskType",
        "title",
        "outputDimensionality",
    ];
    check_fields(obj, &fields, at)?;
    let prefix = if at.is_empty() {
        String::new()
    } else {
        format!("{at}.")
    };
    if let Some(url_model) = url_model {
        let expected = format!("models/{url_model}");
        if field(obj, "model").and_then(Value::as_str) != Some(expected.as_str()) {
            return Err(bad(
                format!(
                    "* BatchEmbedContentsRequest.{prefix}model: Model names in the URL \
                     ({expected}) and in the requests must match.\n"
                ),
                &format!("{prefix}model"),
            ));
        }
    }
    let content = field(obj, "content").ok_or_else(|| {
        bad(
            format!("* EmbedContentRequest.{prefix}content: content is not specified\n"),
            &format!("{prefix}content"),
        )
    })?;
    let text = content_texts(content, &format!("{prefix}content"))?;
    let dims = match field(obj, "outputDimensionality") {
        None => DEFAULT_DIMENSIONS,
        Some(v) => v
            .as_u64()
            .filter(|d| (1..=MAX_DIMENSIONS).contains(d))
            .ok_or_else(|| {
                invalid_value(&format!("{prefix}output_dimensionality"), "TYPE_INT32", v)
            })?,
    };
    Ok((text, usize::try_from(dims).unwrap_or(768)))
}

async fn embed_action(
    shared: &Shared,
    model: &str,
    action: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    let obj = json_object(body)?;
    let values = |(text, dims): &(String, usize)| json!({ "values": embed::vector(text, *dims) });
    let body = if action == "embedContent" {
        json!({ "embedding": values(&embed_request(&obj, "", None)?) })
    } else {
        check_fields(&obj, &["requests"], "")?;
        let requests = match field(&obj, "requests") {
            Some(Value::Array(list)) if !list.is_empty() => list,
            _ => {
                return Err(bad(
                    "* BatchEmbedContentsRequest.requests: requests is not specified\n",
                    "requests",
                ));
            }
        };
        let mut embeddings = Vec::with_capacity(requests.len());
        for (i, r) in requests.iter().enumerate() {
            let at = format!("requests[{i}]");
            let r = r
                .as_object()
                .ok_or_else(|| invalid_value(&at, "EmbedContentRequest", r))?;
            embeddings.push(values(&embed_request(r, &at, Some(model))?));
        }
        json!({ "embeddings": embeddings })
    };
    let faults = http::header_faults(shared, headers).await?;
    Ok(with_headers(
        json_response(200, &body),
        &faults.response_headers(),
    ))
}
