//! Bedrock Converse wire: rendering neutral replies as `Converse` JSON and `ConverseStream`
//! event-stream frames, and errors as `{"message": …}` bodies named by `x-amzn-ErrorType`.

use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::eventstream;
use crate::errors::{ErrorKind, MockError};
use crate::http::{json_response, with_headers};
use crate::reply::{Finish, Reply, ReplyContent, fragments, word_chunks};
use crate::stream::Frames;

/// Body sent for `invalid_json` on `/converse`.
const BROKEN_BODY: &str = r#"{"output":{"message":{"role":"assistant","content":[{"te"#;

/// Message of the `mid_error` failure.
const MID_ERROR: &str = "mock mid-stream failure";

/// Padding alphabet of the `p` field the real service adds to every stream event.
const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Simulated latency before the first token, in milliseconds.
const LATENCY_BASE_MS: u64 = 120;
/// Simulated latency per output token, in milliseconds.
const LATENCY_PER_TOKEN_MS: u64 = 8;

/// Namespace of exceptions raised by the AWS front end (authentication).
const CORAL_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazon.coral.service/";
/// Namespace of exceptions raised by Bedrock itself.
const BEDROCK_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazon.bedrock/";

/// Exceptions of the AWS front end rather than Bedrock.
const CORAL_EXCEPTIONS: [&str; 4] = [
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
];

/// An error named `exception` (the `x-amzn-ErrorType`) answered with `status`.
pub(crate) fn exception(
    status: u16,
    exception: &'static str,
    message: impl Into<String>,
) -> MockError {
    MockError {
        status,
        kind: ErrorKind::for_status(status),
        message: message.into(),
        param: None,
        code: Some(exception),
        headers: Vec::new(),
    }
}

/// The Bedrock exception for an HTTP status (scripted faults and errors without a name).
fn exception_for_status(status: u16) -> &'static str {
    match status {
        401 => "UnrecognizedClientException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        408 => "ModelTimeoutException",
        424 => "ModelErrorException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        s if s >= 500 => "InternalServerException",
        _ => "ValidationException",
    }
}

/// Renders a [`MockError`] the Bedrock way: `{"message": …}`, `x-amzn-ErrorType: Name:namespace`,
/// `x-amzn-RequestId`, plus the error's own headers (`retry-after`, …).
pub(crate) fn error_response(err: &MockError, request_id: &str) -> Response {
    let name = err.code.unwrap_or_else(|| exception_for_status(err.status));
    let namespace = if CORAL_EXCEPTIONS.contains(&name) {
        CORAL_NAMESPACE
    } else {
        BEDROCK_NAMESPACE
    };
    let resp = json_response(err.status, &json!({ "message": err.message }));
    let resp = with_headers(
        resp,
        &[
            ("x-amzn-errortype".to_owned(), format!("{name}:{namespace}")),
            ("x-amzn-requestid".to_owned(), request_id.to_owned()),
        ],
    );
    with_headers(resp, &err.headers)
}

/// Everything rendered for one reply.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    /// The neutral reply.
    pub reply: Reply,
    /// Prompt tokens reported as cache reads, when the usage reports the cache at all (a
    /// `cachePoint` in the request or a `cache_read=N` fault); at most the prompt.
    pub cache_read: Option<u64>,
}

impl Answer {
    /// `usage`: `inputTokens` excludes the cache reads, which `cacheReadInputTokens` reports
    /// (Anthropic semantics); `totalTokens` counts every token.
    fn usage(&self) -> Value {
        let usage = self.reply.usage;
        let cached = self.cache_read.unwrap_or(0).min(usage.prompt);
        let mut out = json!({
            "inputTokens": usage.prompt - cached,
            "outputTokens": usage.completion,
            "totalTokens": usage.total(),
        });
        if self.cache_read.is_some() {
            out["cacheReadInputTokens"] = json!(cached);
            out["cacheWriteInputTokens"] = json!(0);
        }
        out
    }

    /// `metrics.latencyMs`, deterministic.
    fn metrics(&self) -> Value {
        json!({"latencyMs": LATENCY_BASE_MS + LATENCY_PER_TOKEN_MS * self.reply.usage.completion})
    }
}

/// The Converse `stopReason` of a finish.
fn stop_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::Stop => "end_turn",
        Finish::Length => "max_tokens",
        Finish::ToolCalls => "tool_use",
    }
}

/// The `Converse` response body.
pub(crate) fn converse(answer: &Answer) -> Value {
    let block = match &answer.reply.content {
        ReplyContent::Text(text) => json!({ "text": text }),
        ReplyContent::ToolCall(call) => json!({"toolUse": {
            "toolUseId": call.id, "name": call.name, "input": call.arguments_object()}}),
    };
    json!({
        "output": {"message": {"role": "assistant", "content": [block]}},
        "stopReason": stop_reason(answer.reply.finish),
        "usage": answer.usage(),
        "metrics": answer.metrics(),
    })
}

/// The non-streamed body for `invalid_json`.
pub(crate) fn broken_body() -> Bytes {
    Bytes::from_static(BROKEN_BODY.as_bytes())
}

/// The non-streamed body for `mid_error`.
pub(crate) fn mid_error_body() -> Bytes {
    Bytes::from(json!({ "message": MID_ERROR }).to_string())
}

/// Numbers the events of one stream, to vary their padding like the real service.
struct Events {
    /// Events rendered so far.
    count: usize,
}

impl Events {
    /// An event frame whose JSON `payload` carries the `p` padding field.
    fn frame(&mut self, event_type: &str, payload: Value) -> Bytes {
        let mut obj = match payload {
            Value::Object(obj) => obj,
            _ => Map::new(),
        };
        let len = 1 + (self.count * 7 + event_type.len()) % PADDING.len();
        self.count += 1;
        obj.insert("p".to_owned(), json!(PADDING[..len]));
        eventstream::event(event_type, Value::Object(obj).to_string().as_bytes())
    }
}

/// `ConverseStream` frames: `messageStart` (head); per text word a `contentBlockDelta`, or for a
/// tool call `contentBlockStart`, one `contentBlockDelta` per input fragment; then
/// `contentBlockStop` and `messageStop`; last `metadata` with usage and metrics (terminator).
pub(crate) fn stream_frames(answer: &Answer) -> Frames {
    let mut events = Events { count: 0 };
    let head = vec![events.frame("messageStart", json!({"role": "assistant"}))];
    let mut body = Vec::new();
    let delta = |events: &mut Events, delta: Value| {
        events.frame(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": delta}),
        )
    };
    match &answer.reply.content {
        ReplyContent::Text(text) => {
            for word in word_chunks(text) {
                body.push(delta(&mut events, json!({ "text": word })));
            }
        }
        ReplyContent::ToolCall(call) => {
            body.push(events.frame(
                "contentBlockStart",
                json!({"contentBlockIndex": 0,
                       "start": {"toolUse": {"toolUseId": call.id, "name": call.name}}}),
            ));
            let input = call.arguments_object().to_string();
            for fragment in fragments(&input) {
                body.push(delta(&mut events, json!({"toolUse": {"input": fragment}})));
            }
        }
    }
    body.push(events.frame("contentBlockStop", json!({"contentBlockIndex": 0})));
    body.push(events.frame(
        "messageStop",
        json!({"stopReason": stop_reason(answer.reply.finish)}),
    ));
    let terminator = events.frame(
        "metadata",
        json!({"usage": answer.usage(), "metrics": answer.metrics()}),
    );
    Frames {
        head,
        body,
        terminator: Some(terminator),
        broken: eventstream::event(
            "contentBlockDelta",
            br#"{"contentBlockIndex":0,"delta":{"text":"bro"#,
        ),
        error: eventstream::exception(
            "modelStreamErrorException",
            json!({"message": MID_ERROR, "originalStatusCode": 500,
                   "originalMessage": "mock model failure"})
            .to_string()
            .as_bytes(),
        ),
    }
}
