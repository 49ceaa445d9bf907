//! Shared helpers for the Anthropic and Responses wire tests: requests with each wire's auth,
//! and reading SSE bodies whose events carry an `event:` name.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::time::Duration;

use crux_mock::MockServer;
use serde_json::Value;

/// Upper bound for any single HTTP exchange in these tests.
pub const LIMIT: Duration = Duration::from_secs(5);

/// POSTs `body` (a JSON value, or a raw string when it is `Value::String`) to `path` with only
/// the given headers.
pub async fn post_with(
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
    tokio::time::timeout(LIMIT, req.send())
        .await
        .unwrap()
        .unwrap()
}

/// POSTs to `/v1/messages` with a valid `x-api-key` and `anthropic-version`, plus `extra`.
pub async fn anthropic(
    server: &MockServer,
    body: &Value,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut headers = vec![
        ("x-api-key", "sk-ant-test"),
        ("anthropic-version", "2023-06-01"),
    ];
    headers.extend_from_slice(extra);
    post_with(server, "/v1/messages", body, &headers).await
}

/// POSTs to `/v1/responses` with a valid bearer key, plus `extra`.
pub async fn responses(
    server: &MockServer,
    body: &Value,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut headers = vec![("authorization", "Bearer sk-test")];
    headers.extend_from_slice(extra);
    post_with(server, "/v1/responses", body, &headers).await
}

/// GETs `path` with the given headers.
pub async fn get_with(
    server: &MockServer,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{}{path}", server.url()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    tokio::time::timeout(LIMIT, req.send())
        .await
        .unwrap()
        .unwrap()
}

/// The response body parsed as JSON.
pub async fn json(resp: reqwest::Response) -> Value {
    let bytes = tokio::time::timeout(LIMIT, resp.bytes())
        .await
        .unwrap()
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// One SSE event: its `event:` name and raw `data:` payload.
#[derive(Debug, Clone)]
pub struct Event {
    /// The `event:` line value (empty if none).
    pub name: String,
    /// The joined `data:` lines.
    pub data: String,
}

impl Event {
    /// The payload parsed as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }
}

/// Outcome of reading a named-event SSE body.
#[derive(Debug)]
pub struct Stream {
    /// Events in order.
    pub events: Vec<Event>,
    /// Whether the body ended with a transport error.
    pub error: bool,
    /// The raw body text.
    pub raw: String,
}

impl Stream {
    /// Event names in order.
    pub fn names(&self) -> Vec<&str> {
        self.events.iter().map(|e| e.name.as_str()).collect()
    }

    /// Payloads of the events named `name`, parsed as JSON.
    pub fn named(&self, name: &str) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| e.name == name)
            .map(Event::json)
            .collect()
    }
}

fn parse(raw: &str) -> Vec<Event> {
    raw.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|block| {
            let mut name = String::new();
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    name = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push(v);
                }
            }
            Event {
                name,
                data: data.join("\n"),
            }
        })
        .collect()
}

/// Reads a named-event SSE body until it ends (or errors), within `limit`.
pub async fn read_within(mut resp: reqwest::Response, limit: Duration) -> Stream {
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
    let raw = String::from_utf8_lossy(&raw).into_owned();
    Stream {
        events: parse(&raw),
        error,
        raw,
    }
}

/// Reads a named-event SSE body until it ends (or errors).
pub async fn read(resp: reqwest::Response) -> Stream {
    read_within(resp, LIMIT).await
}
