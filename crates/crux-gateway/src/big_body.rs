//! Work on a request body that grows with its size, kept from starving the async workers and from multiplying a
//! 30 MB prompt in memory: large bodies are admitted against a byte budget before they are read ([`gate`]) and
//! read into one buffer of their announced size, parsed off the async workers ([`from_json`]), and a chat log
//! copies a bounded piece of their text ([`logged_text`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::BytesMut;
use crux_llm::{ChatRequest, ErrorCode, Part, Role};
use futures_util::StreamExt;
use tokio::sync::OwnedSemaphorePermit;

#[cfg(test)]
use crate::body_budget::{LargeBodies, UNIT};
use crate::error::{ApiError, Dialect};
use crate::state::AppState;

/// Bodies at least this large are large: admitted against [`crate::body_budget::LargeBodies`], and parsed with
/// [`tokio::task::block_in_place`] so `/health` and other requests on the same worker keep being served.
pub const LARGE_BODY_BYTES: usize = 1 << 20;

/// Most bytes of request text a chat log keeps; the rest is replaced by a note of how much was left out.
pub const LOGGED_TEXT_BYTES: usize = 64 * 1024;

fn too_large(dialect: Dialect) -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::TooLarge,
        "request body is too large",
    )
    .render(dialect)
}

/// `503 overloaded` + `Retry-After: 1`, closing the connection (the unread body is not drained).
fn busy(dialect: Dialect) -> Response {
    let mut err = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Overloaded,
        "too many large request bodies in flight; retry shortly",
    );
    err.retry_after = Some(1);
    let mut resp = err.render(dialect);
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Admit large bodies against the budget, refuse an announced size over the body limit before reading it, and
/// read an admitted body into one buffer; small bodies pass untouched.
pub(crate) async fn gate(
    state: &AppState,
    req: Request,
    next: impl AsyncFnOnce(Request) -> Response,
) -> Response {
    let dialect = crate::dialect_of(req.uri().path());
    let limit = state.config.body_limit;
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    match announced {
        Some(n) if n > limit => return too_large(dialect),
        Some(n) if n < LARGE_BODY_BYTES => return next(req).await,
        None if !chunked => return next(req).await,
        _ => {}
    }
    let (parts, body) = req.into_parts();
    let mut frames = body.into_data_stream();
    let mut buf = BytesMut::with_capacity(announced.unwrap_or(0));
    // A body of unknown length is read up to the threshold before it takes from the budget: most are small.
    let mut ended = false;
    while announced.is_none() && buf.len() < LARGE_BODY_BYTES {
        match frames.next().await {
            Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
            Some(Err(_)) => return unreadable(dialect),
            None => {
                ended = true;
                break;
            }
        }
    }
    let permit = if ended {
        None
    } else {
        match admit(state, announced.unwrap_or(limit)).await {
            Some(p) => Some(p),
            None => return busy(dialect),
        }
    };
    while let Some(chunk) = frames.next().await {
        let Ok(chunk) = chunk else {
            return unreadable(dialect);
        };
        if buf.len() + chunk.len() > limit {
            return too_large(dialect);
        }
        buf.extend_from_slice(&chunk);
    }
    let resp = next(Request::from_parts(parts, Body::from(buf.freeze()))).await;
    drop(permit);
    resp
}

/// Take a body of `bytes` from the budget, waiting at most half the body timeout.
async fn admit(state: &AppState, bytes: usize) -> Option<OwnedSemaphorePermit> {
    let budget = &state.large_bodies;
    let wait = state.config.body_timeout / 2;
    let acquire = Arc::clone(&budget.permits).acquire_many_owned(budget.units_for(bytes));
    tokio::time::timeout(wait, acquire).await.ok()?.ok()
}

/// A body that broke off (or missed its deadline: the connection layer then answers `408` instead).
fn unreadable(dialect: Dialect) -> Response {
    ApiError::bad_request("the request body could not be read").render(dialect)
}

/// Parse a JSON body, off the async worker when it is large (and the runtime has other workers to take over).
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if body.len() >= LARGE_BODY_BYTES && multi {
        tokio::task::block_in_place(|| serde_json::from_slice(body))
    } else {
        serde_json::from_slice(body)
    }
}

/// What a chat log keeps of the request: the text of the last user message, at most [`LOGGED_TEXT_BYTES`] of it
/// (cut on a character boundary) and then a note of how many bytes were left out. Only the kept part is copied.
pub(crate) fn logged_text(req: &ChatRequest) -> String {
    let Some(m) = req.messages.iter().rev().find(|m| m.role == Role::User) else {
        return String::new();
    };
    let mut out = String::new();
    let mut left_out = 0;
    for part in &m.content {
        let Part::Text { text } = part else {
            continue;
        };
        let mut end = text.len().min(LOGGED_TEXT_BYTES - out.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&text[..end]);
        left_out += text.len() - end;
    }
    if left_out > 0 {
        out.push_str(&format!(" … [{left_out} more bytes not logged]"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crux_llm::Message;

    #[test]
    fn logged_text_is_bounded_on_a_char_boundary() {
        let short = ChatRequest::unrouted(vec![Message::user("short")]);
        assert_eq!(logged_text(&short), "short");
        let long = ChatRequest::unrouted(vec![
            Message::user("earlier"),
            Message::user("é".repeat(LOGGED_TEXT_BYTES)),
        ]);
        let cut = logged_text(&long);
        assert!(cut.len() < LOGGED_TEXT_BYTES + 64, "{}", cut.len());
        assert!(cut.starts_with('é'), "the last user message");
        assert!(
            cut.ends_with(&format!(" … [{} more bytes not logged]", LOGGED_TEXT_BYTES)),
            "{}",
            &cut[cut.len() - 40..]
        );
        let parsed: serde_json::Value = from_json(b"{\"a\":1}").unwrap();
        assert_eq!(parsed["a"], 1);
    }

    #[test]
    fn the_budget_holds_at_least_one_largest_body() {
        let b = LargeBodies::new(1, 32 * UNIT);
        assert_eq!(b.units, 32);
        assert_eq!(b.units_for(31 * UNIT + 1), 32);
        assert_eq!(b.units_for(100 * UNIT), 32, "never more than the budget");
        assert_eq!(b.units_for(10), 1);
        let roomy = LargeBodies::new(64 * UNIT, 32 * UNIT);
        assert_eq!(
            roomy.units_for(2 * UNIT),
            u32::try_from(2 * crate::body_budget::FOOTPRINT).unwrap(),
            "a body takes its footprint, not only its bytes"
        );
        assert_eq!(roomy.units_for(30 * UNIT), 64, "a 30 MB prompt runs alone");
        assert_eq!(b.available_bytes(), 32 * UNIT);
    }
}
