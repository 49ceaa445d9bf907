//! AWS Bedrock Runtime Converse wire: handlers for `POST /model/{modelId}/converse` (one JSON
//! answer) and `POST /model/{modelId}/converse-stream` (an `application/vnd.amazon.eventstream`
//! body), authenticated by SigV4 or a Bedrock API key before anything else.

/// SigV4 canonical request, string to sign and signing key.
mod canonical;
/// Validation of `messages` and their content blocks.
mod content;
/// AWS event-stream frame encoding.
mod eventstream;
/// Validation of a Converse request and translation into a neutral conversation.
mod parse;
/// Replies as Converse JSON and event-stream frames; Bedrock error bodies.
mod render;
/// JSON shape checks with the real validation wordings.
mod shape;
/// SigV4 signature verification and Bedrock API keys.
mod sigv4;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use bytes::Bytes;

use crate::bedrock::render::{Answer, exception};
use crate::errors::MockError;
use crate::http::{self, Output};
use crate::reply;
use crate::state::Shared;

/// Content type of a `ConverseStream` body.
const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// Model ids containing this are unknown (404 `ResourceNotFoundException`).
const MISSING_MODEL: &str = "missing";

/// One Converse call as received.
struct Call<'a> {
    /// The decoded model id.
    model: &'a str,
    /// HTTP method.
    method: &'a Method,
    /// The URI as received.
    uri: &'a Uri,
    /// Request headers.
    headers: &'a HeaderMap,
    /// Request body.
    body: &'a [u8],
    /// `/converse-stream`.
    stream: bool,
}

/// A request id shaped like the real ones (a UUID), unique per answer.
fn request_id(shared: &Shared) -> String {
    format!("00000000-0000-4000-8000-{:012x}", shared.next_response())
}

/// `POST /model/{modelId}/converse` and `POST /model/{modelId}/converse-stream` (told apart by the path).
pub(crate) async fn converse(
    State(shared): State<Arc<Shared>>,
    Path(model): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        model: &model,
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
        stream: uri.path().ends_with("/converse-stream"),
    };
    handle(shared, &call).await
}

async fn handle(shared: Arc<Shared>, call: &Call<'_>) -> Response {
    let id = request_id(&shared);
    match answer(shared, call, &id).await {
        Ok(resp) => resp,
        Err(e) => render::error_response(&e, &id),
    }
}

/// Authentication, validation, model lookup, faults, then the reply.
async fn answer(shared: Arc<Shared>, call: &Call<'_>, id: &str) -> Result<Response, MockError> {
    sigv4::check(&canonical::Request {
        method: call.method.as_str(),
        uri: call.uri,
        headers: call.headers,
        body: call.body,
    })?;
    let mut req = parse::parse_request(call.body)?;
    if call.model.contains(MISSING_MODEL) {
        return Err(exception(
            404,
            "ResourceNotFoundException",
            "Could not resolve the foundation model from the provided model identifier.",
        ));
    }
    if let Some(e) = crate::refuse::bedrock(call.model, &req.conv) {
        return Err(e);
    }
    let faults = http::request_faults(&shared, call.headers, &mut req.conv).await?;
    let reply = reply::generate(&req.conv, || shared.next_prefixed_call_id("tooluse_"));
    shared.report_usage(reply.usage.prompt, reply.usage.completion);
    let answer = Answer {
        reply,
        cache_read: (req.cache_points || faults.cache_read.is_some())
            .then(|| faults.cache_read.unwrap_or(0)),
    };
    let mut extra = faults.response_headers();
    extra.push(("x-amzn-requestid".to_owned(), id.to_owned()));
    let output = if call.stream {
        extra.push(("content-type".to_owned(), EVENT_STREAM.to_owned()));
        Output::Stream(render::stream_frames(&answer))
    } else {
        Output::Plain {
            full: Bytes::from(render::converse(&answer).to_string()),
            broken: render::broken_body(),
            error: render::mid_error_body(),
        }
    };
    Ok(http::deliver(shared, call.uri.path(), &faults, output, &extra).await)
}
