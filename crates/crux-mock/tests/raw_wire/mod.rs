//! Shared helpers for the Gemini and Ollama wire tests: requests with each wire's auth, and
//! reading whole bodies as raw bytes (CRLF SSE, JSON arrays, NDJSON) within a time limit.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::time::Duration;

use crux_mock::MockServer;
use serde_json::{Value, json};

/// Upper bound for any single HTTP exchange in these tests.
pub const LIMIT: Duration = Duration::from_secs(5);

/// Text with leading, trailing and repeated whitespace, tabs and blank lines.
pub const TRICKY: &str = "  leading,\ttabs\n\nblank line  and trailing  \n";

/// Sends a request built by `req` within [`LIMIT`].
pub async fn send(req: reqwest::RequestBuilder) -> reqwest::Response {
    tokio::time::timeout(LIMIT, req.send())
        .await
        .unwrap()
        .unwrap()
}

/// POSTs `body` (a JSON value, or raw text when it is `Value::String`) to `path` with only the
/// given headers.
pub async fn post_raw(
    server: &MockServer,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let raw = match body {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", server.url()))
        .header("content-type", "application/json")
        .body(raw);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req).await
}

/// GETs `path` with the given headers.
pub async fn get_raw(
    server: &MockServer,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{}{path}", server.url()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req).await
}

/// POSTs to the Gemini `path` (under `/v1beta/models/`) with a valid `x-goog-api-key`.
pub async fn gemini(
    server: &MockServer,
    path: &str,
    body: &Value,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut headers = vec![("x-goog-api-key", "test-key")];
    headers.extend_from_slice(extra);
    post_raw(server, &format!("/v1beta/models/{path}"), body, &headers).await
}

/// A Gemini request with one user turn.
pub fn gemini_user(text: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": text}]}]})
}

/// POSTs to Ollama's `/api/chat` (no auth).
pub async fn ollama(
    server: &MockServer,
    body: &Value,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    post_raw(server, "/api/chat", body, extra).await
}

/// An Ollama chat request with one user message (streaming unless `stream` says otherwise).
pub fn ollama_user(text: &str) -> Value {
    json!({"model": "llama3.2", "messages": [{"role": "user", "content": text}]})
}

/// The response body parsed as JSON.
pub async fn body_json(resp: reqwest::Response) -> Value {
    let bytes = tokio::time::timeout(LIMIT, resp.bytes())
        .await
        .unwrap()
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// A whole body read as bytes, and whether it ended with a transport error.
pub struct Raw {
    /// Bytes received before the body ended.
    pub bytes: Vec<u8>,
    /// The body ended with a transport error (e.g. a scripted cut).
    pub error: bool,
}

impl Raw {
    /// The bytes as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Gemini SSE payloads: events split on `\r\n\r\n`, `data: ` stripped.
    pub fn sse_payloads(&self) -> Vec<String> {
        self.text()
            .split("\r\n\r\n")
            .filter(|e| !e.is_empty())
            .map(|e| e.strip_prefix("data: ").unwrap_or(e).to_owned())
            .collect()
    }

    /// SSE payloads that parse as JSON.
    pub fn sse_json(&self) -> Vec<Value> {
        self.sse_payloads()
            .iter()
            .filter_map(|d| serde_json::from_str(d).ok())
            .collect()
    }

    /// NDJSON lines (without their `\n`).
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// NDJSON lines that parse as JSON.
    pub fn ndjson(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// Reads a body to its end (or transport error) within `limit`.
pub async fn read_raw_within(mut resp: reqwest::Response, limit: Duration) -> Raw {
    let mut bytes = Vec::new();
    let read = async {
        loop {
            match resp.chunk().await {
                Ok(Some(b)) => bytes.extend_from_slice(&b),
                Ok(None) => return false,
                Err(_) => return true,
            }
        }
    };
    let error = tokio::time::timeout(limit, read)
        .await
        .expect("body read timed out");
    Raw { bytes, error }
}

/// Reads a body to its end within [`LIMIT`].
pub async fn read_raw(resp: reqwest::Response) -> Raw {
    read_raw_within(resp, LIMIT).await
}

/// Concatenated `text` of the first candidate's parts over Gemini chunks.
pub fn gemini_text(chunks: &[Value]) -> String {
    chunks
        .iter()
        .flat_map(|c| {
            c["candidates"][0]["content"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| p["text"].as_str().map(str::to_owned))
        .collect()
}
