//! OpenAI Chat Completions wire: rendering neutral replies and errors as OpenAI JSON, SSE chunk
//! frames and error bodies.

use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::errors::{ErrorKind, MockError};
use crate::http::{json_response, with_headers};
use crate::reply::{Finish, Reply, ReplyContent, Usage, fragments, word_chunks};
use crate::stream::Frames;

/// `system_fingerprint` sent on every completion.
const FINGERPRINT: &str = "fp_mock";

/// Body sent for `invalid_json` on a non-streamed request.
pub(crate) const BROKEN_BODY: &str = r#"{"id": "broken", "choices": ["#;

/// The in-band error sent by `mid_error`.
fn mid_error_json() -> Value {
    json!({"error": {"message": "mock mid-stream failure", "type": "server_error",
                     "code": "server_error"}})
}

/// Identity of one completion.
#[derive(Clone, Debug)]
pub(crate) struct Meta {
    /// `chatcmpl-mock-N`.
    pub id: String,
    /// Unix seconds.
    pub created: u64,
    /// Echoed model.
    pub model: String,
}

/// An OpenAI error body `{"error":{"message","type","param","code"}}`.
pub(crate) fn error_json(
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

fn kind_names(kind: ErrorKind) -> (&'static str, Option<&'static str>) {
    match kind {
        ErrorKind::InvalidRequest => ("invalid_request_error", None),
        ErrorKind::Authentication => ("invalid_request_error", Some("invalid_api_key")),
        ErrorKind::Permission => ("permission_error", Some("permission_denied")),
        ErrorKind::NotFound => ("invalid_request_error", Some("model_not_found")),
        ErrorKind::Timeout => ("timeout_error", Some("timeout")),
        ErrorKind::Conflict => ("conflict_error", Some("conflict")),
        ErrorKind::RateLimit => ("requests", Some("rate_limit_exceeded")),
        ErrorKind::Server => ("server_error", Some("server_error")),
        ErrorKind::Unavailable => ("server_error", Some("server_is_overloaded")),
        ErrorKind::Overloaded => ("overloaded_error", Some("overloaded")),
    }
}

/// Renders a [`MockError`] as an OpenAI error response.
pub(crate) fn error_response(err: &MockError) -> Response {
    let (kind, code) = kind_names(err.kind);
    let code = err.code.or(code);
    let body = error_json(&err.message, kind, err.param.as_deref(), code);
    with_headers(json_response(err.status, &body), &err.headers)
}

fn finish_name(finish: Finish) -> &'static str {
    match finish {
        Finish::Stop => "stop",
        Finish::Length => "length",
        Finish::ToolCalls => "tool_calls",
    }
}

/// OpenAI usage object.
pub(crate) fn usage_json(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt,
        "completion_tokens": usage.completion,
        "total_tokens": usage.total(),
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    })
}

/// Non-streamed `chat.completion` body.
pub(crate) fn completion(meta: &Meta, reply: &Reply) -> Value {
    let message = match &reply.content {
        ReplyContent::Text(text) => json!({"role": "assistant", "content": text, "refusal": null}),
        ReplyContent::ToolCall(call) => json!({
            "role": "assistant", "content": null, "refusal": null,
            "tool_calls": [{"id": call.id, "type": "function",
                            "function": {"name": call.name, "arguments": call.arguments}}],
        }),
    };
    json!({
        "id": meta.id, "object": "chat.completion", "created": meta.created, "model": meta.model,
        "system_fingerprint": FINGERPRINT,
        "choices": [{"index": 0, "message": message, "logprobs": null,
                     "finish_reason": finish_name(reply.finish)}],
        "usage": usage_json(reply.usage),
    })
}

fn frame(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

fn chunk(meta: &Meta, delta: Value, finish: Option<&str>, include_usage: bool) -> Bytes {
    let mut v = json!({
        "id": meta.id, "object": "chat.completion.chunk", "created": meta.created,
        "model": meta.model, "system_fingerprint": FINGERPRINT,
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
    });
    if include_usage && let Some(obj) = v.as_object_mut() {
        obj.insert("usage".to_owned(), Value::Null);
    }
    frame(&v)
}

/// SSE frames of a streamed reply: role chunk; word (or tool call fragment) chunks; finish
/// chunk; usage chunk when `include_usage`; `data: [DONE]`.
pub(crate) fn stream_frames(meta: &Meta, reply: &Reply, include_usage: bool) -> Frames {
    let head = vec![chunk(
        meta,
        json!({"role": "assistant", "content": ""}),
        None,
        include_usage,
    )];
    let mut body = Vec::new();
    match &reply.content {
        ReplyContent::Text(text) => {
            for word in word_chunks(text) {
                body.push(chunk(meta, json!({"content": word}), None, include_usage));
            }
        }
        ReplyContent::ToolCall(call) => {
            let first = json!({"tool_calls": [{"index": 0, "id": call.id, "type": "function",
                                "function": {"name": call.name, "arguments": ""}}]});
            body.push(chunk(meta, first, None, include_usage));
            for part in fragments(&call.arguments) {
                let delta = json!({"tool_calls": [{"index": 0, "function": {"arguments": part}}]});
                body.push(chunk(meta, delta, None, include_usage));
            }
        }
    }
    body.push(chunk(
        meta,
        json!({}),
        Some(finish_name(reply.finish)),
        include_usage,
    ));
    if include_usage {
        body.push(frame(&json!({
            "id": meta.id, "object": "chat.completion.chunk", "created": meta.created,
            "model": meta.model, "system_fingerprint": FINGERPRINT, "choices": [],
            "usage": usage_json(reply.usage),
        })));
    }
    Frames {
        head,
        body,
        terminator: Some(Bytes::from_static(b"data: [DONE]\n\n")),
        broken: Bytes::from(format!("data: {BROKEN_BODY}\n\n")),
        error: frame(&mid_error_json()),
    }
}

/// The non-streamed body for `mid_error`.
pub(crate) fn mid_error_body() -> Bytes {
    Bytes::from(mid_error_json().to_string())
}
