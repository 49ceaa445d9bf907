//! Wire-neutral HTTP plumbing shared by every wire: header access, query-component decoding, JSON
//! body parsing, response builders, fault resolution for a chat-like request, and delivery of a rendered reply
//! (streamed or plain) under its faults.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::errors::MockError;
use crate::faults::{self, Faults};
use crate::reply::Conversation;
use crate::state::Shared;
use crate::stream::{self, Frames};

/// Header carrying a fault spec.
pub(crate) const FAULT_HEADER: &str = "x-mock-fault";

/// API key that every wire rejects with 401.
pub(crate) const BAD_KEY: &str = "bad-key";

/// The value of header `name`, if present and valid UTF-8.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Decodes `%XX` escapes and `+` (as a space) of a query-string component; invalid escapes stay as
/// they are, invalid UTF-8 is replaced.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Current Unix time in seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Parses a request body as a JSON object.
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, MockError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(MockError::invalid(
            "The request body must be a JSON object.",
            None,
        )),
        Err(e) => Err(MockError::invalid(
            format!(
                "We could not parse the JSON body of your request. (HINT: This likely means you \
                 aren't using your HTTP library correctly.) Parser error: {e}"
            ),
            None,
        )),
    }
}

/// Adds headers to a response, skipping any that are not valid HTTP.
pub(crate) fn with_headers(mut resp: Response, headers: &[(String, String)]) -> Response {
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}

/// A response with the given status, content type and body.
pub(crate) fn respond(status: u16, content_type: &str, body: Body) -> Response {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    with_headers(
        resp,
        &[("content-type".to_owned(), content_type.to_owned())],
    )
}

/// A JSON response.
pub(crate) fn json_response(status: u16, value: &Value) -> Response {
    respond(status, "application/json", Body::from(value.to_string()))
}

/// Resolves the faults of a chat-like request: strips `[[mock ...]]` directives from the last
/// user message of `conv`, combines them with the `x-mock-fault` header, then applies the
/// pre-response faults (`first_byte_ms`, scripted `status`).
pub(crate) async fn request_faults(
    shared: &Shared,
    headers: &HeaderMap,
    conv: &mut Conversation,
) -> Result<Faults, MockError> {
    let directives = conv
        .last_user_text_mut()
        .map(faults::take_directives)
        .unwrap_or_default();
    let faults = Faults::resolve(header(headers, FAULT_HEADER), &directives, &shared.counters)?;
    faults.before_response(shared).await?;
    Ok(faults)
}

/// Resolves the faults of a request without a conversation (models, embeddings, ...) from the
/// `x-mock-fault` header alone, then applies the pre-response faults.
pub(crate) async fn header_faults(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<Faults, MockError> {
    let faults = Faults::resolve(header(headers, FAULT_HEADER), &[], &shared.counters)?;
    faults.before_response(shared).await?;
    Ok(faults)
}

/// A reply rendered by a wire, ready to be delivered under faults.
#[derive(Debug)]
pub(crate) enum Output {
    /// A streamed reply (`text/event-stream` unless the `extra` headers of [`deliver`] set
    /// another `content-type`, e.g. Ollama's NDJSON or Bedrock's event stream).
    Stream(Frames),
    /// A non-streamed JSON reply.
    Plain {
        /// The complete body.
        full: Bytes,
        /// Body sent for `invalid_json`.
        broken: Bytes,
        /// Body sent for `mid_error`.
        error: Bytes,
    },
}

/// Answers 200 with `output` played under `faults` (stream pacing/cuts, or the plain-body
/// faults after an optional `stall_after` sleep), plus `extra` headers, which replace the default
/// ones of the same name (so a wire sets its own `content-type` there). Streams are recorded
/// under `path`.
pub(crate) async fn deliver(
    shared: Arc<Shared>,
    path: &str,
    faults: &Faults,
    output: Output,
    extra: &[(String, String)],
) -> Response {
    let resp = match output {
        Output::Stream(frames) => {
            let body = stream::stream_body(shared, path, frames, faults);
            let resp = respond(200, "text/event-stream", body);
            with_headers(resp, &[("cache-control".to_owned(), "no-cache".to_owned())])
        }
        Output::Plain {
            full,
            broken,
            error,
        } => {
            if faults.stall_after.is_some() {
                shared.sleep(Duration::from_millis(faults.stall_ms)).await;
            }
            let body = stream::plain_body(full, broken, error, faults);
            respond(200, "application/json", body)
        }
    };
    with_headers(resp, extra)
}

/// One SSE frame with an `event:` line: `event: NAME\ndata: JSON\n\n`.
pub(crate) fn named_frame(event: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}
