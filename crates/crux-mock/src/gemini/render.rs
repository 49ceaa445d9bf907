//! Gemini wire: rendering neutral replies as `GenerateContentResponse` JSON, stream chunks (SSE
//! with CRLF line endings, or the JSON-array framing used without `alt=sse`), Google RPC error
//! bodies and model descriptions.

use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::errors::{ErrorKind, MockError};
use crate::http::{json_response, with_headers};
use crate::reply::{Finish, Reply, ReplyContent, ToolCall, Usage, word_chunks};
use crate::stream::Frames;

/// Body (or frame payload) sent for `invalid_json`.
pub(crate) const BROKEN_BODY: &str = r#"{"candidates": [{"content": {"role": "model", "parts": ["#;

/// How a streamed reply is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `?alt=sse`: `data: {...}\r\n\r\n` events, no sentinel.
    Sse,
    /// No `alt=sse`: one JSON array streamed element by element.
    JsonArray,
}

/// Identity and extras of one response.
#[derive(Clone, Debug)]
pub(crate) struct Meta {
    /// Echoed model id (`modelVersion`).
    pub model: String,
    /// `responseId`.
    pub response_id: String,
    /// Thought signature issued for the function call, if the reply is one.
    pub signature: Option<String>,
    /// Prompt tokens reported as served from the context cache.
    pub cached: Option<u64>,
}

/// The Google RPC status name for an HTTP status.
fn status_name(status: u16, kind: ErrorKind) -> &'static str {
    match (status, kind) {
        (400, _) => "INVALID_ARGUMENT",
        (401, _) => "UNAUTHENTICATED",
        (403, _) => "PERMISSION_DENIED",
        (404, _) => "NOT_FOUND",
        (409, _) => "ABORTED",
        (429, _) => "RESOURCE_EXHAUSTED",
        (501, _) => "UNIMPLEMENTED",
        (408 | 504, _) => "DEADLINE_EXCEEDED",
        (502 | 503 | 529, _) => "UNAVAILABLE",
        (_, ErrorKind::Server) => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    }
}

/// The Google RPC error body for `err`: bad keys get an `ErrorInfo` (`API_KEY_INVALID`), field
/// errors a `BadRequest` violation, and a `retry-after` a `RetryInfo`.
pub(crate) fn error_json(err: &MockError) -> Value {
    let mut details = Vec::new();
    if err.kind == ErrorKind::Authentication && err.status == 400 {
        details.push(json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID", "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"}}));
    } else if let Some(field) = &err.param {
        details.push(json!({"@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": field, "description": err.message}]}));
    }
    if let Some((_, secs)) = err.headers.iter().find(|(n, _)| n == "retry-after") {
        details.push(json!({"@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": format!("{secs}s")}));
    }
    let mut error = json!({"code": err.status, "message": err.message,
        "status": status_name(err.status, err.kind)});
    if !details.is_empty()
        && let Some(obj) = error.as_object_mut()
    {
        obj.insert("details".to_owned(), Value::Array(details));
    }
    json!({ "error": error })
}

/// Renders a [`MockError`] as a Gemini error response.
pub(crate) fn error_response(err: &MockError) -> Response {
    with_headers(json_response(err.status, &error_json(err)), &err.headers)
}

/// The in-band error of `mid_error`.
fn mid_error_json() -> Value {
    json!({"error": {"code": 500, "message": "mock mid-stream failure", "status": "INTERNAL"}})
}

/// The non-streamed body for `mid_error`.
pub(crate) fn mid_error_body() -> Bytes {
    Bytes::from(mid_error_json().to_string())
}

fn finish_name(finish: Finish) -> &'static str {
    match finish {
        // A function call ends with STOP on Gemini.
        Finish::Stop | Finish::ToolCalls => "STOP",
        Finish::Length => "MAX_TOKENS",
    }
}

fn usage_json(usage: Usage, cached: Option<u64>) -> Value {
    let mut v = json!({
        "promptTokenCount": usage.prompt,
        "candidatesTokenCount": usage.completion,
        "totalTokenCount": usage.total(),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": usage.prompt}],
    });
    if let Some(n) = cached
        && let Some(obj) = v.as_object_mut()
    {
        obj.insert(
            "cachedContentTokenCount".to_owned(),
            json!(n.min(usage.prompt)),
        );
    }
    v
}

/// The part carrying a function call (args as an object, plus its thought signature).
fn call_part(meta: &Meta, call: &ToolCall) -> Value {
    let mut part = json!({"functionCall": {"name": call.name, "args": call.arguments_object()}});
    if let (Some(sig), Some(obj)) = (&meta.signature, part.as_object_mut()) {
        obj.insert("thoughtSignature".to_owned(), json!(sig));
    }
    part
}

/// One `GenerateContentResponse`; `finish` adds `finishReason` and `usageMetadata`.
fn response(meta: &Meta, parts: Vec<Value>, finish: Option<&Reply>) -> Value {
    let mut candidate = Map::new();
    candidate.insert(
        "content".to_owned(),
        json!({"role": "model", "parts": parts}),
    );
    if let Some(reply) = finish {
        candidate.insert("finishReason".to_owned(), json!(finish_name(reply.finish)));
    }
    candidate.insert("index".to_owned(), json!(0));
    let mut v = json!({"candidates": [Value::Object(candidate)]});
    if let Some(obj) = v.as_object_mut() {
        if let Some(reply) = finish {
            obj.insert(
                "usageMetadata".to_owned(),
                usage_json(reply.usage, meta.cached),
            );
        }
        obj.insert("modelVersion".to_owned(), json!(meta.model));
        obj.insert("responseId".to_owned(), json!(meta.response_id));
    }
    v
}

/// Non-streamed `generateContent` body.
pub(crate) fn completion(meta: &Meta, reply: &Reply) -> Value {
    let part = match &reply.content {
        ReplyContent::Text(text) => json!({ "text": text }),
        ReplyContent::ToolCall(call) => call_part(meta, call),
    };
    response(meta, vec![part], Some(reply))
}

/// Stream chunks: one word of text per chunk, the last word together with `finishReason` and
/// `usageMetadata`; a function call whole in one chunk, followed by the finishing chunk. The
/// finishing chunk is the frames' terminator, so every scripted early stop drops it.
pub(crate) fn stream_frames(meta: &Meta, reply: &Reply, framing: Framing) -> Frames {
    let mut chunks = Vec::new();
    let last = match &reply.content {
        ReplyContent::Text(text) => {
            let mut words = word_chunks(text);
            let last = words.pop().unwrap_or("");
            for w in words {
                chunks.push(response(meta, vec![json!({ "text": w })], None));
            }
            response(meta, vec![json!({ "text": last })], Some(reply))
        }
        ReplyContent::ToolCall(call) => {
            let part = call_part(meta, call);
            chunks.push(response(meta, vec![part], None));
            response(meta, vec![json!({"text": ""})], Some(reply))
        }
    };
    match framing {
        Framing::Sse => Frames {
            head: Vec::new(),
            body: chunks.iter().map(sse).collect(),
            terminator: Some(sse(&last)),
            broken: Bytes::from(format!("data: {BROKEN_BODY}\r\n\r\n")),
            error: sse(&mid_error_json()),
        },
        Framing::JsonArray => {
            let sep = |i: usize| if i == 0 { "[" } else { "\n,\r\n" };
            let n = chunks.len();
            Frames {
                head: Vec::new(),
                body: chunks
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Bytes::from(format!("{}{c}", sep(i))))
                    .collect(),
                terminator: Some(Bytes::from(format!("{}{last}\n]", sep(n)))),
                broken: Bytes::from(format!("\n,\r\n{BROKEN_BODY}")),
                error: Bytes::from(format!("\n,\r\n{}\n]", mid_error_json())),
            }
        }
    }
}

/// One SSE event with CRLF line endings, as Gemini sends them.
fn sse(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\r\n\r\n"))
}

/// A `Model` resource.
pub(crate) fn model_json(id: &str, display: &str, methods: &[&str], output_limit: u64) -> Value {
    json!({
        "name": format!("models/{id}"), "version": "001", "displayName": display,
        "description": format!("{display} (crux-mock)"),
        "inputTokenLimit": 1_048_576, "outputTokenLimit": output_limit,
        "supportedGenerationMethods": methods,
        "temperature": 1.0, "maxTemperature": 2.0, "topP": 0.95, "topK": 64,
    })
}
