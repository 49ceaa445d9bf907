//! OpenAI Responses wire: the `POST /v1/responses` handler (OpenAI bearer auth and error
//! bodies, neutral reply generation, faults and recording shared with the other wires).

/// Validation of a Responses request and translation into a neutral conversation.
mod parse;
/// Replies as `response` objects and sequence-numbered `response.*` SSE events.
mod render;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use bytes::Bytes;

use crate::errors::MockError;
use crate::http::{self, Output, unix_now};
use crate::openai::check_auth;
use crate::openai::render::error_response;
use crate::reply;
use crate::responses::parse::REASONING_TOKENS;
use crate::responses::parse::parse_request;
use crate::responses::render::{Answer, Meta};
use crate::state::Shared;

/// `POST /v1/responses`.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, uri.path(), &headers, &body)
        .await
        .unwrap_or_else(|e| error_response(&e))
}

async fn handle(
    shared: Arc<Shared>,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, MockError> {
    check_auth(headers)?;
    let mut req = parse_request(body)?;
    let faults = http::request_faults(&shared, headers, &mut req.conv).await?;
    let reply = reply::generate(&req.conv, || shared.next_prefixed_call_id("call_"));
    let meta = Meta {
        n: shared.next_response(),
        created_at: unix_now(),
        model: req.model,
        echo: req.echo,
    };
    let answer = Answer {
        reply,
        reasoning: req.reasoning,
        encrypted_reasoning: req.encrypted_reasoning,
        cache_read: faults.cache_read.unwrap_or(0),
    };
    let reasoning = if answer.reasoning {
        REASONING_TOKENS
    } else {
        0
    };
    shared.report_usage(
        answer.reply.usage.prompt,
        answer.reply.usage.completion + reasoning,
    );
    let mut extra = faults.response_headers();
    extra.push(("x-request-id".to_owned(), format!("req_mock_{}", meta.n)));
    let output = if req.stream {
        Output::Stream(render::stream_frames(&meta, &answer))
    } else {
        Output::Plain {
            full: Bytes::from(render::response(&meta, &answer).to_string()),
            broken: render::broken_body(),
            error: render::mid_error_body(&meta),
        }
    };
    Ok(http::deliver(shared, path, &faults, output, &extra).await)
}
