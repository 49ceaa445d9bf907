//! Reading whole response bodies within a time limit: OpenAI `data:`-only SSE ([`Sse`]),
//! SSE whose events carry an `event:` name ([`Stream`], Anthropic and Responses), and raw bytes
//! ([`Raw`]: Gemini CRLF SSE and JSON arrays, Ollama NDJSON). A leaf: callers pass the limit.

use std::time::Duration;

use serde_json::Value;

/// Reads a body to its end within `limit`: the bytes received and whether it ended with a
/// transport error (e.g. a scripted cut).
async fn read_to_end(mut resp: reqwest::Response, limit: Duration) -> (Vec<u8>, bool) {
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
    (bytes, error)
}

/// Outcome of reading an OpenAI SSE body to its end.
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

/// `data:` payloads of an LF-framed SSE body.
fn payloads(raw: &str) -> Vec<String> {
    raw.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").unwrap_or(e).to_owned())
        .collect()
}

/// Reads an OpenAI SSE body until it ends (or errors), within `limit`.
pub async fn read_sse_within(resp: reqwest::Response, limit: Duration) -> Sse {
    let (bytes, error) = read_to_end(resp, limit).await;
    Sse {
        data: payloads(&String::from_utf8_lossy(&bytes)),
        error,
    }
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

/// Splits a named-event SSE body into its events.
fn events(raw: &str) -> Vec<Event> {
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
pub async fn read_events_within(resp: reqwest::Response, limit: Duration) -> Stream {
    let (bytes, error) = read_to_end(resp, limit).await;
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    Stream {
        events: events(&raw),
        error,
        raw,
    }
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
pub async fn read_raw_within(resp: reqwest::Response, limit: Duration) -> Raw {
    let (bytes, error) = read_to_end(resp, limit).await;
    Raw { bytes, error }
}
