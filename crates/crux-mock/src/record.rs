//! Request and stream recording: what the mock received and how each streamed response ended.

use std::sync::Mutex;
use std::sync::MutexGuard;
use std::time::Duration;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// One HTTP request received by the mock (requests to `/_mock/*` are not recorded).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Request path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Raw query string without the leading `?`, if any.
    pub query: Option<String>,
    /// Headers in arrival order, names lowercased; non-UTF-8 values are decoded lossily.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON, or `Value::String(raw)` if it is not JSON, or `Null` if empty.
    pub body: serde_json::Value,
    /// The body exactly as received (byte-for-byte checks of same-wire pass-through).
    pub raw_body: String,
}

impl RecordedRequest {
    /// Builds a record from the parts of an HTTP request and its full body.
    pub(crate) fn new(
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Self {
        let headers = headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body_bytes = body;
        let body = if body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(body).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(body).into_owned())
            })
        };
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
            headers,
            body,
            raw_body: String::from_utf8_lossy(body_bytes).into_owned(),
        }
    }

    /// The value of the first header named `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How one streamed response ended; recorded once the response body is finished or dropped.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StreamRecord {
    /// Request path of the streamed response.
    pub path: String,
    /// Number of frames (SSE events, including role chunk and terminator) written to the body.
    pub chunks_sent: usize,
    /// True when the wire's terminator (e.g. `data: [DONE]`) was sent.
    pub completed: bool,
    /// True when the body was dropped before the server produced its last frame, and not
    /// because of a scripted cut.
    pub client_disconnected: bool,
}

/// Thread-safe store of recorded requests and stream records.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    requests: Mutex<Vec<RecordedRequest>>,
    streams: Mutex<Vec<StreamRecord>>,
    stream_added: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Recorder {
    /// Appends a received request.
    pub(crate) fn push_request(&self, request: RecordedRequest) {
        lock(&self.requests).push(request);
    }

    /// Appends a finished stream and wakes waiters.
    pub(crate) fn push_stream(&self, record: StreamRecord) {
        lock(&self.streams).push(record);
        self.stream_added.notify_waiters();
    }

    /// All requests so far, in arrival order.
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    /// All stream records so far, in completion order.
    pub(crate) fn streams(&self) -> Vec<StreamRecord> {
        lock(&self.streams).clone()
    }

    /// Forgets every recorded request and stream.
    pub(crate) fn clear(&self) {
        lock(&self.requests).clear();
        lock(&self.streams).clear();
    }

    /// Waits until at least `n` stream records exist; false on timeout.
    pub(crate) async fn wait_for_streams(&self, n: usize, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.stream_added.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if lock(&self.streams).len() >= n {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }
}
