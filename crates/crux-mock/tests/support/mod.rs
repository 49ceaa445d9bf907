//! Shared helpers for every crux-mock integration test: HTTP calls with each wire's auth, minimal
//! request bodies, (in `bodies`) reading response bodies as SSE, named SSE events or raw bytes, and
//! (in `aws`) SigV4-signed Bedrock calls and event-stream decoding.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

pub mod aws;
mod bodies;

use std::time::Duration;

use crux_mock::MockServer;
use serde_json::{Value, json};

pub use bodies::{Raw, Sse, Stream, read_events_within, read_raw_within, read_sse_within};

/// Upper bound for any single HTTP exchange in tests.
pub const LIMIT: Duration = Duration::from_secs(5);

/// Text with leading, trailing and repeated whitespace, tabs and blank lines.
pub const TRICKY: &str = "  leading,\ttabs\n\nblank line  and trailing  \n";

/// A plain HTTP client.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// Sends a request built by `req` within [`LIMIT`].
pub async fn send(req: reqwest::RequestBuilder) -> reqwest::Response {
    tokio::time::timeout(LIMIT, req.send())
        .await
        .unwrap()
        .unwrap()
}

/// POSTs `body` (a JSON value, or raw text when it is `Value::String`) to `path` with a JSON
/// content type and only the given headers.
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
    let mut req = client()
        .post(format!("{}{path}", server.url()))
        .header("content-type", "application/json")
        .body(raw);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req).await
}

/// GETs `path` with the given headers.
pub async fn get_with(
    server: &MockServer,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client().get(format!("{}{path}", server.url()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req).await
}

/// POSTs the JSON `body` to `path` with a valid OpenAI bearer key, plus optional extra headers.
pub async fn post(
    server: &MockServer,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("authorization", "Bearer test-key")];
    all.extend_from_slice(headers);
    let mut req = client()
        .post(format!("{}{path}", server.url()))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (k, v) in &all {
        req = req.header(*k, *v);
    }
    send(req).await
}

/// POSTs a chat completion request to `/v1/chat/completions`.
pub async fn chat(
    server: &MockServer,
    body: &Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    post(server, "/v1/chat/completions", body, headers).await
}

/// A minimal Chat Completions body with one user message.
pub fn user(text: &str) -> Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]})
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

/// POSTs to the Gemini `path` (under `/v1beta/models/`) with a valid `x-goog-api-key`.
pub async fn gemini(
    server: &MockServer,
    path: &str,
    body: &Value,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut headers = vec![("x-goog-api-key", "test-key")];
    headers.extend_from_slice(extra);
    post_with(server, &format!("/v1beta/models/{path}"), body, &headers).await
}

/// A Gemini request with one user turn.
pub fn gemini_user(text: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": text}]}]})
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

/// POSTs to Ollama's `/api/chat` (no auth).
pub async fn ollama(
    server: &MockServer,
    body: &Value,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    post_with(server, "/api/chat", body, extra).await
}

/// An Ollama chat request with one user message (streaming unless `stream` says otherwise).
pub fn ollama_user(text: &str) -> Value {
    json!({"model": "llama3.2", "messages": [{"role": "user", "content": text}]})
}

/// `body` with `"stream": true` set.
pub fn streaming(mut body: Value) -> Value {
    body["stream"] = json!(true);
    body
}

/// The response body parsed as JSON.
pub async fn body_json(resp: reqwest::Response) -> Value {
    let bytes = tokio::time::timeout(LIMIT, resp.bytes())
        .await
        .unwrap()
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Asserts that an error message names `needle`.
pub fn assert_mentions(msg: &str, needle: &str) {
    assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
}

/// Reads an OpenAI SSE body until it ends (or errors), within [`LIMIT`].
pub async fn read_sse(resp: reqwest::Response) -> Sse {
    read_sse_within(resp, LIMIT).await
}

/// Reads a named-event SSE body (Anthropic, Responses) until it ends (or errors), within
/// [`LIMIT`].
pub async fn read_events(resp: reqwest::Response) -> Stream {
    read_events_within(resp, LIMIT).await
}

/// Reads a body to its end (or transport error) within [`LIMIT`].
pub async fn read_raw(resp: reqwest::Response) -> Raw {
    read_raw_within(resp, LIMIT).await
}
