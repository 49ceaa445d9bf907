//! Anthropic Messages wire: rendering neutral replies as `message` JSON and named SSE events,
//! and errors as `{"type":"error","error":{type,message}}` bodies.

use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::errors::MockError;
use crate::http::{json_response, named_frame, with_headers};
use crate::reply::{Finish, Reply, ReplyContent, fragments, word_chunks, word_count};
use crate::stream::Frames;

/// Body sent for `invalid_json` on a non-streamed request.
const BROKEN_BODY: &str = r#"{"id": "msg_broken", "type": "message", "content": [{"#;

/// Identity of one message.
#[derive(Clone, Debug)]
pub(crate) struct Meta {
    /// `msg_mock_N`.
    pub id: String,
    /// Echoed model.
    pub model: String,
}

/// A thinking block issued with the reply.
#[derive(Clone, Debug)]
pub(crate) struct Thinking {
    /// The thinking text.
    pub text: String,
    /// Signature issued by the server.
    pub signature: String,
}

/// Everything rendered for one reply.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    /// The neutral reply.
    pub reply: Reply,
    /// Leading thinking block, when extended thinking was requested.
    pub thinking: Option<Thinking>,
    /// Prompt tokens reported as cache reads (`cache_read=N` fault).
    pub cache_read: u64,
}

impl Answer {
    /// Output tokens: reply words plus thinking words.
    pub(crate) fn output_tokens(&self) -> u64 {
        self.reply.usage.completion + self.thinking.as_ref().map_or(0, |t| word_count(&t.text))
    }

    /// Input tokens excluding cache reads.
    pub(crate) fn input_tokens(&self) -> u64 {
        self.reply.usage.prompt.saturating_sub(self.cache_read)
    }
}

/// The Anthropic error `type` for an HTTP status.
pub(crate) fn error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// An Anthropic error body.
pub(crate) fn error_json(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// Renders a [`MockError`] as an Anthropic error response.
pub(crate) fn error_response(err: &MockError) -> Response {
    let body = error_json(error_type(err.status), &err.message);
    with_headers(json_response(err.status, &body), &err.headers)
}

fn mid_error_json() -> Value {
    error_json("overloaded_error", "Overloaded")
}

/// The non-streamed body for `mid_error`.
pub(crate) fn mid_error_body() -> Bytes {
    Bytes::from(mid_error_json().to_string())
}

/// The non-streamed body for `invalid_json`.
pub(crate) fn broken_body() -> Bytes {
    Bytes::from_static(BROKEN_BODY.as_bytes())
}

fn stop_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::Stop => "end_turn",
        Finish::Length => "max_tokens",
        Finish::ToolCalls => "tool_use",
    }
}

/// Tool input as a JSON object (arguments that are not an object are wrapped).
fn tool_input(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        Ok(other) => json!({ "value": other }),
        Err(_) => json!({}),
    }
}

/// The content blocks of a finished reply.
fn blocks(answer: &Answer) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(t) = &answer.thinking {
        out.push(json!({"type": "thinking", "thinking": t.text, "signature": t.signature}));
    }
    out.push(match &answer.reply.content {
        ReplyContent::Text(text) => json!({"type": "text", "text": text}),
        ReplyContent::ToolCall(call) => json!({"type": "tool_use", "id": call.id,
            "name": call.name, "input": tool_input(&call.arguments)}),
    });
    out
}

/// Non-streamed `message` body.
pub(crate) fn message(meta: &Meta, answer: &Answer) -> Value {
    json!({
        "id": meta.id, "type": "message", "role": "assistant", "model": meta.model,
        "content": blocks(answer),
        "stop_reason": stop_reason(answer.reply.finish), "stop_sequence": null,
        "usage": {
            "input_tokens": answer.input_tokens(),
            "output_tokens": answer.output_tokens(),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": answer.cache_read,
        },
    })
}

fn event(value: &Value) -> Bytes {
    let name = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message");
    named_frame(name, value)
}

fn ping() -> Bytes {
    Bytes::from_static(b"event: ping\ndata: {\"type\": \"ping\"}\n\n")
}

fn delta(index: usize, delta: Value) -> Bytes {
    event(&json!({"type": "content_block_delta", "index": index, "delta": delta}))
}

/// The frames of one content block: start, deltas, stop.
fn block_frames(index: usize, start: Value, deltas: Vec<Value>) -> Vec<Bytes> {
    let mut out = vec![event(
        &json!({"type": "content_block_start", "index": index, "content_block": start}),
    )];
    out.extend(deltas.into_iter().map(|d| delta(index, d)));
    out.push(event(
        &json!({"type": "content_block_stop", "index": index}),
    ));
    out
}

/// SSE frames of a streamed reply: `message_start` and a `ping` (head); per block
/// `content_block_start`, deltas, `content_block_stop`, with a second `ping` mid-stream;
/// `message_delta`; then `message_stop` (terminator).
pub(crate) fn stream_frames(meta: &Meta, answer: &Answer) -> Frames {
    let start = json!({"type": "message_start", "message": {
        "id": meta.id, "type": "message", "role": "assistant", "content": [],
        "model": meta.model, "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": answer.input_tokens(), "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": answer.cache_read, "output_tokens": 1}}});
    let head = vec![event(&start), ping()];
    let mut body = Vec::new();
    let mut index = 0;
    if let Some(t) = &answer.thinking {
        let mut deltas: Vec<Value> = word_chunks(&t.text)
            .into_iter()
            .map(|w| json!({"type": "thinking_delta", "thinking": w}))
            .collect();
        deltas.push(json!({"type": "signature_delta", "signature": t.signature}));
        let start = json!({"type": "thinking", "thinking": "", "signature": ""});
        body.extend(block_frames(index, start, deltas));
        index += 1;
    }
    match &answer.reply.content {
        ReplyContent::Text(text) => {
            let deltas = word_chunks(text)
                .into_iter()
                .map(|w| json!({"type": "text_delta", "text": w}))
                .collect();
            body.extend(block_frames(
                index,
                json!({"type": "text", "text": ""}),
                deltas,
            ));
        }
        ReplyContent::ToolCall(call) => {
            let input = tool_input(&call.arguments).to_string();
            let deltas = fragments(&input)
                .into_iter()
                .map(|f| json!({"type": "input_json_delta", "partial_json": f}))
                .collect();
            let start = json!({"type": "tool_use", "id": call.id, "name": call.name,
                               "input": {}});
            body.extend(block_frames(index, start, deltas));
        }
    }
    body.insert(body.len() / 2, ping());
    body.push(event(&json!({
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason(answer.reply.finish), "stop_sequence": null},
        "usage": {"output_tokens": answer.output_tokens()},
    })));
    Frames {
        head,
        body,
        terminator: Some(event(&json!({"type": "message_stop"}))),
        broken: Bytes::from(
            "event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"index\": \
             0, \"delta\": {\"type\": \"text_del\n\n",
        ),
        error: event(&mid_error_json()),
    }
}
