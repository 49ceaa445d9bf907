//! Shared helpers for crux-mock integration tests: HTTP calls and SSE reading.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::time::Duration;

use crux_mock::MockServer;
use serde_json::{Value, json};

/// Upper bound for any single HTTP exchange in tests.
pub const LIMIT: Duration = Duration::from_secs(5);

/// A plain HTTP client.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// POSTs JSON with a valid key, plus optional extra headers.
pub async fn post(
    server: &MockServer,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client()
        .post(format!("{}{path}", server.url()))
        .header("authorization", "Bearer test-key")
        .header("content-type", "application/json")
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    tokio::time::timeout(LIMIT, req.send())
        .await
        .unwrap()
        .unwrap()
}

/// POSTs a chat completion request to `/v1/chat/completions`.
pub async fn chat(
    server: &MockServer,
    body: &Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    post(server, "/v1/chat/completions", body, headers).await
}

/// A minimal chat body with one user message.
pub fn user(text: &str) -> Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]})
}

/// The response body parsed as JSON.
pub async fn body_json(resp: reqwest::Response) -> Value {
    let bytes = tokio::time::timeout(LIMIT, resp.bytes())
        .await
        .unwrap()
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Outcome of reading an SSE body to its end.
pub struct Sse {
    /// `data:` payloads in order (including `[DONE]` if sent).
    pub data: Vec<String>,
    /// Whether the body ended with a transport error.
    pub error: bool,
}

impl Sse {
    /// Payloads parsed as JSON (skipping `[DONE]` and invalid ones).
    pub fn json(&self) -> Vec<Value> {
        self.data
            .iter()
            .filter_map(|d| serde_json::from_str(d).ok())
            .collect()
    }

    /// Whether the last payload is `[DONE]`.
    pub fn done(&self) -> bool {
        self.data.last().is_some_and(|d| d == "[DONE]")
    }

    /// Concatenated `delta.content` of all chunks.
    pub fn text(&self) -> String {
        self.json()
            .iter()
            .filter_map(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }
}

fn payloads(raw: &str) -> Vec<String> {
    raw.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").unwrap_or(e).to_owned())
        .collect()
}

/// Reads an SSE body until it ends (or errors), within `limit`.
pub async fn read_sse_within(mut resp: reqwest::Response, limit: Duration) -> Sse {
    let mut raw = Vec::new();
    let read = async {
        loop {
            match resp.chunk().await {
                Ok(Some(b)) => raw.extend_from_slice(&b),
                Ok(None) => return false,
                Err(_) => return true,
            }
        }
    };
    let error = tokio::time::timeout(limit, read)
        .await
        .expect("SSE read timed out");
    Sse {
        data: payloads(&String::from_utf8_lossy(&raw)),
        error,
    }
}

/// Reads an SSE body until it ends (or errors).
pub async fn read_sse(resp: reqwest::Response) -> Sse {
    read_sse_within(resp, LIMIT).await
}
