//! The fault matrix harness: one cell = (fault, dialect, stream or not, direct or alias-with-fallback), each on a
//! fresh mock (or raw-TCP stub) upstream, a gateway with a SQLite store and write queue, and the client-visible
//! outcome plus the cell's one chat-log row compared with the table in `docs/reliability.md`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod stub;

use std::sync::Arc;
use std::time::Duration;

use crux_gateway::{AppState, GatewayConfig};
use crux_llm::breaker::Clock;
use crux_llm::{Client, ProviderConfig, ProviderId, RetryPolicy, Timeouts, Wire};
use crux_mock::MockServer;
use crux_store::{LogFilter, LogStatus};
use serde_json::{Value, json};

pub use stub::Stub;

/// The documented table the cells must match.
const DOC: &str = include_str!("../../../../docs/reliability.md");
/// The native alias cells: `/api/chat` names a provider, so aliases are not reachable from it.
pub const NATIVE_ALIAS_NA: &str = "n/a (/api/chat names a provider)";

/// How the faulty first target misbehaves.
#[derive(Debug, Clone, Copy)]
pub enum Upstream {
    /// The mock, with this fault spec in `x-mock-fault` (sent to the first target only).
    Mock(&'static str),
    /// A raw-TCP stub answering canned bytes.
    Stub(Stub),
    /// A closed port.
    Refused,
}

/// One row of the matrix.
#[derive(Debug, Clone, Copy)]
pub struct Fault {
    /// The row id in the table.
    pub id: &'static str,
    pub upstream: Upstream,
}

/// The caller's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenAi,
    Anthropic,
    /// The Responses API (`/v1/responses`) to an OpenAI reasoning model: the same-wire pass-through to `/responses`.
    Responses,
    Native,
}

impl Dialect {
    fn column(self) -> usize {
        match self {
            Dialect::OpenAi => 3,
            Dialect::Anthropic => 4,
            Dialect::Responses => 5,
            Dialect::Native => 6,
        }
    }
    fn primary(self) -> (ProviderId, &'static str) {
        match self {
            Dialect::Anthropic => (ProviderId::Anthropic, "anthropic/claude-3-5-haiku-latest"),
            Dialect::Responses => (ProviderId::OpenAi, "openai/gpt-5-mini"),
            _ => (ProviderId::OpenAi, "openai/gpt-4o-mini"),
        }
    }
}

/// The fallback target of the `fb` alias: always healthy (it never gets the fault header).
pub const FALLBACK: &str = "gemini/gemini-2.0-flash";

fn client(mock: &MockServer, dialect: Dialect, up: Upstream, stub_url: Option<String>) -> Client {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut b = Client::builder()
        .retry(RetryPolicy {
            max_retries: 1,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            ..RetryPolicy::default()
        })
        .timeouts(Timeouts {
            first_byte: Duration::from_millis(3000),
            idle: Duration::from_millis(3000),
            ..Timeouts::default()
        });
    let (primary, _) = dialect.primary();
    for p in ProviderId::all() {
        let suffix = if matches!(p.spec().wire, Wire::OpenAi | Wire::Responses) {
            "/v1"
        } else {
            ""
        };
        let mut cfg = ProviderConfig {
            base_url: Some(format!("{}{suffix}", mock.url())),
            api_key: Some("provider-key-matrix".into()),
            ..Default::default()
        };
        if p == primary {
            match up {
                Upstream::Mock(spec) => cfg.headers.push(("x-mock-fault".into(), spec.into())),
                Upstream::Stub(_) => {
                    cfg.base_url = Some(format!("{}{suffix}", stub_url.clone().unwrap()))
                }
                Upstream::Refused => cfg.base_url = Some(format!("http://{closed}{suffix}")),
            }
        }
        b = b.provider(p, cfg);
    }
    b.build().unwrap()
}

/// One running cell: upstreams, gateway, store.
struct Cell {
    _mock: MockServer,
    addr: std::net::SocketAddr,
    store: crux_store::Store,
    queue: Option<crux_store::WriteQueue>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Cell {
    async fn start(fault: Fault, dialect: Dialect) -> Cell {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("crux.db").display());
        let store = crux_store::Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let queue = crux_store::WriteQueue::spawn(
            store.clone(),
            crux_store::QueueConfig {
                flush_interval: Duration::from_millis(5),
                ..Default::default()
            },
        );
        let mock = MockServer::start().await.unwrap();
        let stub_url = match fault.upstream {
            Upstream::Stub(s) => Some(s.start().await),
            _ => None,
        };
        let mut config = GatewayConfig::default();
        config.router.routes.insert(
            "fb".into(),
            vec![
                dialect.primary().1.parse().unwrap(),
                FALLBACK.parse().unwrap(),
            ],
        );
        let persistence = crux_gateway::state::Persistence {
            store: Some(store.clone()),
            log: Some(queue.sender()),
            vault: None,
            env_keys: Vec::new(),
        };
        let client = client(&mock, dialect, fault.upstream, stub_url);
        let state = AppState::build(client, config, Clock::default(), persistence);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(crux_gateway::serve(listener, Arc::clone(&state), async {
            let _ = rx.await;
        }));
        Cell {
            _mock: mock,
            addr,
            store,
            queue: Some(queue),
            stop: Some(tx),
            _dir: dir,
        }
    }
}

impl Drop for Cell {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn request(dialect: Dialect, stream: bool, alias: bool, tag: &str) -> (&'static str, Value) {
    let model = if alias { "fb" } else { dialect.primary().1 };
    let messages = json!([{"role": "user", "content": format!("matrix cell {tag}")}]);
    match dialect {
        Dialect::OpenAi => (
            "/v1/chat/completions",
            json!({"model": model, "stream": stream, "messages": messages}),
        ),
        Dialect::Anthropic => (
            "/v1/messages",
            json!({"model": model, "max_tokens": 64, "stream": stream, "messages": messages}),
        ),
        Dialect::Responses => (
            "/v1/responses",
            json!({"model": model, "stream": stream, "input": format!("matrix cell {tag}")}),
        ),
        Dialect::Native => (
            if stream {
                "/api/chat/stream"
            } else {
                "/api/chat"
            },
            json!({"provider": "openai", "model": "gpt-4o-mini", "messages": messages}),
        ),
    }
}

/// The error label of a JSON error body in `dialect`.
fn error_label(dialect: Dialect, v: &Value) -> String {
    let s = match dialect {
        Dialect::OpenAi | Dialect::Responses => {
            v["error"]["code"].as_str().or(v["error"]["type"].as_str())
        }
        Dialect::Anthropic => v["error"]["type"].as_str(),
        Dialect::Native => match &v["error"] {
            Value::String(s) => s.split(':').next(),
            e => e["code"].as_str(),
        },
    };
    s.unwrap_or("?").to_owned()
}

/// What a 200 stream body ended with: `ok`, `+ in-band CODE` or `+ cut (no terminator)`.
fn stream_label(dialect: Dialect, body: &str) -> String {
    let frames: Vec<Value> = match dialect {
        Dialect::Native => body
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
        _ => body
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect(),
    };
    let error = frames.iter().find(|f| match dialect {
        Dialect::OpenAi => f.get("error").is_some(),
        Dialect::Anthropic | Dialect::Responses | Dialect::Native => f["type"] == "error",
    });
    if let Some(e) = error {
        let label = match dialect {
            // The Responses API's `error` event carries its code at the top level.
            Dialect::Responses => e["code"].as_str().unwrap_or("?").to_owned(),
            _ => error_label(dialect, e),
        };
        return format!("200 + in-band {label}");
    }
    let done = match dialect {
        Dialect::OpenAi => body.contains("data: [DONE]"),
        Dialect::Anthropic => body.contains("event: message_stop"),
        Dialect::Responses => {
            body.contains("event: response.completed")
                || body.contains("event: response.incomplete")
        }
        Dialect::Native => frames.last().is_some_and(|f| f["type"] == "final"),
    };
    if done {
        "200 ok".into()
    } else {
        "200 + cut (no terminator)".into()
    }
}

/// Run one cell and describe it as the table does: `OUTCOME · log ROW`.
async fn run_cell(fault: Fault, dialect: Dialect, stream: bool, alias: bool) -> String {
    let mut cell = Cell::start(fault, dialect).await;
    let tag = format!("{}-{dialect:?}-{stream}-{alias}", fault.id);
    let (path, body) = request(dialect, stream, alias, &tag);
    let http = reqwest::Client::new();
    let resp = tokio::time::timeout(
        Duration::from_secs(60),
        http.post(format!("http://{}{path}", cell.addr))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .send(),
    )
    .await
    .expect("the gateway answers")
    .unwrap();
    let status = resp.status().as_u16();
    let ra = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let target = resp
        .headers()
        .get("x-crux-target")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = tokio::time::timeout(Duration::from_secs(60), resp.text())
        .await
        .expect("body ends")
        .unwrap_or_default();
    let mut outcome = if status == 200 && stream {
        stream_label(dialect, &text)
    } else if status == 200 {
        "200 ok".into()
    } else {
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        format!("{status} {}", error_label(dialect, &v))
    };
    if let Some(ra) = ra {
        outcome.push_str(&format!(" ra={ra}"));
    }
    if target.as_deref() == Some(FALLBACK) {
        outcome.push_str(" (fallback)");
    }
    // Exactly one chat-log row per request, whatever happened.
    let stats = cell.queue.take().unwrap().shutdown().await;
    assert_eq!(stats.dropped, 0, "{stats:?}");
    let rows = cell
        .store
        .query_chat_logs(&LogFilter {
            limit: 50,
            ..LogFilter::default()
        })
        .await
        .unwrap();
    let mine: Vec<_> = rows
        .iter()
        .filter(|r| {
            r.log
                .request_text
                .as_deref()
                .is_some_and(|t| t.contains(&tag))
        })
        .collect();
    assert_eq!(
        (mine.len(), rows.len()),
        (1, 1),
        "{tag}: one chat-log row per request: {rows:?}"
    );
    let row = match mine[0].log.status {
        LogStatus::Ok => "ok".to_owned(),
        _ => format!("error:{}", mine[0].log.error_code.as_deref().unwrap_or("?")),
    };
    format!("{outcome} · log {row}")
}

/// The documented cell for (fault, mode, routing) in `dialect`'s column.
fn documented(fault: &str, mode: &str, routing: &str, dialect: Dialect) -> Option<String> {
    DOC.lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| l.split('|').map(str::trim).collect::<Vec<_>>())
        .find(|c| c.len() > 7 && c[1] == format!("`{fault}`") && c[2] == mode && c[3] == routing)
        .map(|c| c[dialect.column() + 1].to_owned())
}

/// Run every cell of `fault` for `dialect` and compare each with `docs/reliability.md`.
pub async fn run(fault: Fault, dialect: Dialect) {
    let mut wrong = Vec::new();
    for (alias, routing) in [(false, "direct"), (true, "alias")] {
        for (stream, mode) in [(false, "non-stream"), (true, "stream")] {
            let observed = if alias && dialect == Dialect::Native {
                NATIVE_ALIAS_NA.to_owned()
            } else {
                run_cell(fault, dialect, stream, alias).await
            };
            let doc = documented(fault.id, mode, routing, dialect);
            eprintln!(
                "MATRIX | `{}` | {mode} | {routing} | {dialect:?} | {observed} |",
                fault.id
            );
            if doc.as_deref() != Some(observed.as_str()) {
                wrong.push(format!(
                    "{} {mode} {routing} {dialect:?}: documented {doc:?}, observed {observed:?}",
                    fault.id
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "cells differ from docs/reliability.md:\n{}",
        wrong.join("\n")
    );
}
