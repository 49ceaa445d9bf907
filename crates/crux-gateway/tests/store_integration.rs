//! The gateway with a real SQLite store: chat logs through the write queue (streams included), admin routes,
//! virtual keys created through the API, provider keys through the vault, readiness.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use crux_store::{LogFilter, LogStatus};
use harness::Stored;
use serde_json::{Value, json};

const MASTER: &str = "master-secret";

#[tokio::test]
async fn every_request_writes_one_chat_log() {
    let mut s = Stored::start(None).await;
    let g = &s.gateway;
    let chat = |content: &str, stream: bool| {
        let mut body = json!({"model": "openai/gpt-4o-mini", "stream": stream,
            "messages": [{"role": "user", "content": content}]});
        if stream {
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    };
    assert_eq!(
        g.post("/v1/chat/completions", "k", &chat("logged plain", false))
            .await
            .0,
        200
    );
    assert_eq!(
        g.post("/v1/chat/completions", "k", &chat("logged stream", true))
            .await
            .0,
        200
    );
    assert_eq!(
        g.post(
            "/v1/chat/completions",
            "k",
            &chat("x [[mock status=500]]", false)
        )
        .await
        .0,
        502
    );
    let anthropic = json!({"model": "gemini/gemini-2.0-flash", "max_tokens": 20, "stream": true,
        "messages": [{"role": "user", "content": "logged anthropic stream"}]});
    assert_eq!(g.post("/v1/messages", "k", &anthropic).await.0, 200);
    let stats = s.drain().await;
    assert_eq!((stats.written, stats.dropped), (4, 0), "{stats:?}");
    let g = &s.gateway;
    let logs = s
        .store
        .query_chat_logs(&LogFilter {
            limit: 10,
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(logs.len(), 4);
    let by_text = |t: &str| {
        logs.iter()
            .find(|l| l.log.request_text.as_deref() == Some(t))
            .unwrap()
    };
    let streamed = by_text("logged stream");
    assert_eq!(streamed.log.status, LogStatus::Ok);
    assert!(
        streamed.log.usage.completion.unwrap() > 0,
        "usage from the stream is logged"
    );
    assert!(
        streamed
            .log
            .response_text
            .as_deref()
            .unwrap()
            .contains("logged stream")
    );
    assert!(streamed.log.cost_usd.unwrap() > 0.0);
    let failed = by_text("x [[mock status=500]]");
    assert_eq!(failed.log.status, LogStatus::Error);
    assert_eq!(failed.log.error_code.as_deref(), Some("server_error"));
    let gem = by_text("logged anthropic stream");
    assert_eq!(
        (gem.log.provider.as_str(), gem.log.route.as_str()),
        ("gemini", "messages")
    );
    assert!(gem.log.ttft_ms.is_some());
    let (status, body) = g.get("/ready", "k").await;
    assert_eq!(status, 200);
    assert!(body.contains("sqlite"), "{body}");
}

async fn admin_post(s: &Stored, path: &str, body: &Value) -> (u16, Value) {
    let (status, _, text) = s.gateway.post(path, MASTER, body).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn virtual_keys_through_the_admin_api() {
    let s = Stored::start(Some(MASTER)).await;
    let g = &s.gateway;
    let (status, created) = admin_post(
        &s,
        "/api/virtual-keys",
        &json!({"name": "team", "models": ["openai/gpt-4o-mini"], "rpm": 100}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let chat =
        |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        g.post("/v1/chat/completions", &key, &chat("openai/gpt-4o-mini"))
            .await
            .0,
        200
    );
    assert_eq!(
        g.post(
            "/v1/chat/completions",
            &key,
            &chat("anthropic/claude-3-5-haiku-latest")
        )
        .await
        .0,
        403
    );
    // Virtual keys are not admins.
    let (status, _) = g.get("/api/virtual-keys", &key).await;
    assert_eq!(status, 403);
    let (status, list) = g.get("/api/virtual-keys", MASTER).await;
    assert_eq!(status, 200);
    assert!(!list.contains(&key), "secrets are never listed");
    let id = created["virtual_key"]["id"].as_str().unwrap();
    let resp = g
        .http
        .delete(g.url(&format!("/api/virtual-keys?id={id}")))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        g.post("/v1/chat/completions", &key, &chat("openai/gpt-4o-mini"))
            .await
            .0,
        401,
        "revoked at once"
    );
}

#[tokio::test]
async fn provider_keys_prefs_logs_and_summary() {
    let s = Stored::start(Some(MASTER)).await;
    let g = &s.gateway;
    let (status, v) = admin_post(
        &s,
        "/api/keys",
        &json!({"keys": {"GROQ_API_KEY": "gsk-new-key-value", "NOPE": "x",
        "OPENAI_API_KEY": "placeholder"}}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["stored"], json!(["GROQ_API_KEY"]));
    let groq = json!({"model": "groq/llama-3.3-70b-versatile", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(g.post("/v1/chat/completions", MASTER, &groq).await.0, 200);
    let sent = g.gateway_requests_last_auth();
    assert_eq!(
        sent.as_deref(),
        Some("Bearer gsk-new-key-value"),
        "the new key is used at once"
    );
    let (status, keys) = g.get("/api/keys", MASTER).await;
    assert_eq!(status, 200);
    assert!(!keys.contains("gsk-new"), "values never returned: {keys}");
    let (status, v) = admin_post(
        &s,
        "/api/prefs",
        &json!({"prefs": {"theme": "dark", "n": 2}}),
    )
    .await;
    assert_eq!((status, v["prefs"]["theme"].clone()), (200, json!("dark")));
    let (_, v) = admin_post(&s, "/api/prefs", &json!({"prefs": {"n": 3}})).await;
    assert_eq!(
        (v["prefs"]["theme"].clone(), v["prefs"]["n"].clone()),
        (json!("dark"), json!(3))
    );
    for path in [
        "/api/metrics/summary",
        "/api/logs?provider=groq&status=ok&since=1h&limit=5",
    ] {
        let (status, body) = g.get(path, MASTER).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["ok"], true);
    }
    let (status, _) = g.get("/api/logs?status=weird", MASTER).await;
    assert_eq!(status, 400);
}

trait LastAuth {
    fn gateway_requests_last_auth(&self) -> Option<String>;
}

impl LastAuth for harness::Gateway {
    fn gateway_requests_last_auth(&self) -> Option<String> {
        self.mock
            .requests()
            .last()
            .and_then(|r| r.header("authorization").map(str::to_owned))
    }
}
