//! Request and response bodies of the connection layer ([`crate::server`]): the request body read bounded
//! by `body_timeout` ([`DeadlineBody`], answered `408` in the caller's dialect) and the response body that
//! ends its request's span when hyper is done with it ([`Finishing`]).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, HttpBody};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use tokio::time::Sleep;

use crate::error::ApiError;

/// `408` in the caller's dialect, closing the connection (the rest of the body may still be on its way).
pub(crate) fn body_timeout_response(dialect: crate::error::Dialect) -> Response {
    let mut resp = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        crux_llm::ErrorCode::Timeout,
        "request body not received in time",
    )
    .render(dialect);
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// The error of a body read that did not finish by its deadline.
fn body_timeout() -> axum::BoxError {
    io::Error::new(io::ErrorKind::TimedOut, "request body not received in time").into()
}

/// A request body that fails (and flags `late`) if it is still incomplete when `sleep` ends.
pub(crate) struct DeadlineBody {
    pub(crate) inner: Incoming,
    pub(crate) sleep: Pin<Box<Sleep>>,
    pub(crate) late: Arc<AtomicBool>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.late.load(Ordering::Acquire) {
            return Poll::Ready(Some(Err(body_timeout())));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.late.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(body_timeout())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that drops `guard` (ending its request's span) when hyper is done with it.
pub(crate) struct Finishing<G> {
    pub(crate) inner: Body,
    pub(crate) _guard: G,
}

impl<G: Unpin> HttpBody for Finishing<G> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
