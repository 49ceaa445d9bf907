//! The native `/api` routes: health, providers, chat and the NDJSON stream, with non-2xx provider failures.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use harness::Gateway;
use serde_json::{Value, json};

#[tokio::test]
async fn health_and_providers() {
    let g = Gateway::start().await;
    let (status, body) = g.get("/api/health", "k").await;
    assert_eq!((status, body.as_str()), (200, r#"{"ok":true}"#));
    let (status, body) = g.get("/api/providers", "k").await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ok"], true);
    // The original's shape: provider names, sorted; descriptors beside them.
    assert_eq!(v["providers"].as_array().unwrap().len(), 9);
    assert_eq!(v["providers"][0], "anthropic");
    assert_eq!(v["details"][2]["display_name"], "Google Gemini");
    assert_eq!(v["details"][6]["aliases"][1], "grok");
}

#[tokio::test]
async fn chat_and_ndjson_stream() {
    let g = Gateway::start().await;
    let body = json!({"provider": "anthropic", "model": "claude-3-5-haiku-latest",
        "messages": [{"role": "user", "content": "native hello"}], "max_tokens": 50});
    let (status, _, text) = g.post("/api/chat", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ok"], true);
    assert!(
        v["response"]["text"]
            .as_str()
            .unwrap()
            .contains("native hello")
    );
    assert_eq!(v["response"]["meta"]["provider_name"], "anthropic");
    assert!(
        v["response"]["meta"]["token_usage"]["total"]
            .as_u64()
            .unwrap()
            > 0
    );

    let (status, headers, text) = g.post("/api/chat/stream", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let deltas: String = lines.iter().filter_map(|l| l["delta"].as_str()).collect();
    assert!(deltas.contains("native hello"), "{deltas}");
    let terminal: Vec<&Value> = lines.iter().filter(|l| l["finish"] == true).collect();
    assert_eq!(terminal.len(), 1);
    assert_eq!(terminal[0]["type"], "final");
    assert_eq!(lines.last().unwrap()["type"], "final");
}

#[tokio::test]
async fn failures_are_non_2xx_with_codes() {
    let g = Gateway::start().await;
    let body = json!({"provider": "openai", "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "x [[mock status=429 retry_after=1]]"}]});
    let (status, _, text) = g.post("/api/chat", "k", &body).await;
    assert_eq!(status, 429, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "rate_limit");
    let (status, _, text) = g
        .post(
            "/api/chat",
            "k",
            &json!({"provider": "openai", "model": "m", "messages": []}),
        )
        .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["error"]["code"],
        "validation"
    );
    let mut mid = body.clone();
    mid["messages"][0]["content"] = json!("a b c d [[mock mid_error]]");
    let (status, _, text) = g.post("/api/chat/stream", "k", &mid).await;
    assert_eq!(status, 200);
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "error");
    assert!(
        last["error"].as_str().unwrap().starts_with("server_error:"),
        "{last}"
    );
    let (status, _, text) = g.post("/api/chat/stream", "k", &body).await;
    assert_eq!(
        status, 429,
        "a failure before the stream starts is a non-2xx answer: {text}"
    );
}
