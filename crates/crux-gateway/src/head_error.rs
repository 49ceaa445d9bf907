//! hyper's own answers to request heads it cannot parse — a bad request line, an invalid header name or
//! value, a conflicting `content-length`, an oversized head — said again in the caller's dialect.
//!
//! hyper answers such a head itself, before any service runs, with an empty `400`, `414` or `431`. The
//! connection layer keeps the first [`CAPTURE`] bytes of each request head it reads and hands every response
//! hyper starts to write to [`rewrite`]; when it is one of those automatic answers, the same status goes out
//! with the JSON error body of the dialect the head's path speaks (the OpenAI shape when no path can be read,
//! e.g. a request line that is not HTTP at all), and `Connection: close` as hyper's answer had. Heads hyper
//! refuses without answering (an HTTP/2 preface on this HTTP/1.1 listener) stay unanswered.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use axum::body::HttpBody;
use axum::http::StatusCode;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use crux_llm::ErrorCode;
use tokio::io::AsyncWrite;

use crate::error::{ApiError, Dialect};

/// Bytes of a request head kept to find its path (the request line is all that is needed).
pub(crate) const CAPTURE: usize = 2048;

/// Whether `out` starts a response head (not a `1xx` interim answer such as `100 Continue`).
pub(crate) fn starts_response(out: &[u8]) -> bool {
    out.starts_with(b"HTTP/1.1 ") && out.get(9).is_some_and(|d| (b'2'..=b'5').contains(d))
}

/// If `out` is hyper's automatic answer to an unparsable head (`400`, `414` or `431`, headers only,
/// `content-length: 0`), the complete replacement in the dialect of the path in `head` (the first bytes
/// of that request as read from the client).
pub(crate) fn rewrite(head: &[u8], out: &[u8]) -> Option<Bytes> {
    let end = out.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    if end != out.len() {
        return None;
    }
    let text = std::str::from_utf8(out).ok()?;
    if !text
        .to_ascii_lowercase()
        .contains("\r\ncontent-length: 0\r\n")
    {
        return None;
    }
    let (code, message) = match text.get(9..12)? {
        "400" => (
            StatusCode::BAD_REQUEST,
            "malformed HTTP request: the request line or a header could not be parsed",
        ),
        "414" => (StatusCode::URI_TOO_LONG, "request URI is too long"),
        "431" => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request line and headers are too large",
        ),
        _ => return None,
    };
    let error_code = if code == StatusCode::BAD_REQUEST {
        ErrorCode::Validation
    } else {
        ErrorCode::TooLarge
    };
    let dialect = path_of(head).map_or(Dialect::OpenAi, crate::dialect_of);
    encode(ApiError::new(code, error_code, message).render(dialect))
}

/// The path of a request line (`METHOD SP TARGET SP VERSION`), origin-form or absolute-form.
fn path_of(head: &[u8]) -> Option<&str> {
    let line_end = head
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(head.len());
    let line = std::str::from_utf8(head.get(..line_end)?).ok()?;
    let target = line.split(' ').nth(1)?;
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    let path = target.split(['?', '#']).next()?;
    path.starts_with('/').then_some(path)
}

/// The bytes of a rendered error (a fully buffered JSON body), closing the connection.
fn encode(resp: axum::response::Response) -> Option<Bytes> {
    let (parts, mut body) = resp.into_parts();
    let mut cx = Context::from_waker(Waker::noop());
    let data = match Pin::new(&mut body).poll_frame(&mut cx) {
        Poll::Ready(Some(Ok(frame))) => frame.into_data().ok()?,
        _ => return None,
    };
    let mut out = BytesMut::with_capacity(256 + data.len());
    let reason = parts.status.canonical_reason().unwrap_or("Error");
    out.put_slice(format!("HTTP/1.1 {} {reason}\r\n", parts.status.as_u16()).as_bytes());
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_LENGTH && name != axum::http::header::CONNECTION {
            out.put_slice(name.as_str().as_bytes());
            out.put_slice(b": ");
            out.put_slice(value.as_bytes());
            out.put_slice(b"\r\n");
        }
    }
    out.put_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            data.len()
        )
        .as_bytes(),
    );
    out.put_slice(&data);
    Some(out.freeze())
}

/// A replacement being written in place of `claimed` bytes hyper asked to write.
#[derive(Debug)]
pub(crate) struct Replacement {
    bytes: Bytes,
    claimed: usize,
}

impl Replacement {
    /// Write `bytes` instead of the `claimed` bytes of hyper's own answer.
    pub(crate) fn new(bytes: Bytes, claimed: usize) -> Self {
        Self { bytes, claimed }
    }

    /// Write the rest of the replacement to `io`; once it is all out, the count hyper is told was written.
    pub(crate) fn poll_write<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        while !self.bytes.is_empty() {
            match Pin::new(&mut *io).poll_write(cx, &self.bytes) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.bytes.advance(n),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(self.claimed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPER_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: x\r\n\r\n";

    #[test]
    fn automatic_answers_take_the_dialect_of_the_path() {
        let out = rewrite(b"POST /v1/messages HTTP/1.1\r\nx: \x01\r\n", HYPER_400).unwrap();
        let text = String::from_utf8(out.to_vec()).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
        assert!(text.contains("connection: close\r\n"), "{text}");
        assert!(text.contains(r#""type":"error""#), "{text}");
        let native = rewrite(b"GET http://h/api/chat?x HTTP/1.1\r\n", HYPER_400).unwrap();
        assert!(String::from_utf8_lossy(&native).contains(r#""ok":false"#));
        let garbage = rewrite(b"\x16\x03\x01", HYPER_400).unwrap();
        assert!(String::from_utf8_lossy(&garbage).contains(r#""code":"validation""#));
        let big = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        let out = rewrite(b"POST /v1/chat/completions HTTP/1.1\r\n", big).unwrap();
        assert!(String::from_utf8_lossy(&out).contains(r#""code":"too_large""#));
    }

    #[test]
    fn other_responses_are_left_alone() {
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        assert!(rewrite(b"GET / HTTP/1.1\r\n", with_body).is_none());
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(rewrite(b"GET / HTTP/1.1\r\n", ok).is_none());
        assert!(!starts_response(b"HTTP/1.1 100 Continue\r\n\r\n"));
        assert!(starts_response(HYPER_400));
    }
}
