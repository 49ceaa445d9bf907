//! Client auth (master key, virtual keys, loopback mode), per-key limits, body limit and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use crux_gateway::GatewayConfig;
use crux_gateway::keys::{CachedKey, hash_key};
use crux_llm::breaker::Clock;
use harness::{Gateway, JsonBody};
use serde_json::{Value, json};

fn chat(content: &str) -> Value {
    json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": content}]})
}

async fn with_master() -> Gateway {
    let config = GatewayConfig {
        master_key: Some("master-secret".into()),
        ..GatewayConfig::default()
    };
    let g = Gateway::start_with(config, &[], Clock::default()).await;
    g.state.keys.replace([(
        hash_key("vk-team"),
        CachedKey {
            id: "vk_1".into(),
            name: "team".into(),
            rpm: Some(2),
            tpm: None,
            budget_usd: None,
            models: Some(vec!["openai/gpt-4o-mini".into()]),
            spend_usd: 0.0,
        },
    )]);
    g
}

#[tokio::test]
async fn master_key_is_required_and_checked() {
    let g = with_master().await;
    let resp = g
        .http
        .post(g.url("/v1/chat/completions"))
        .json_body(&chat("hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(v["error"]["type"], "authentication_error");
    let (status, _, _) = g.post("/v1/chat/completions", "wrong", &chat("hi")).await;
    assert_eq!(status, 401);
    let (status, _, _) = g
        .post("/v1/chat/completions", "master-secret", &chat("hi"))
        .await;
    assert_eq!(status, 200);
    let resp = g
        .http
        .post(g.url("/v1/messages"))
        .header("x-api-key", "master-secret")
        .json_body(&json!({"model": "openai/gpt-4o-mini", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "x-api-key works too");
    let resp = g
        .http
        .post(g.url("/v1/messages"))
        .json_body(&json!({"model": "m", "max_tokens": 1, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(v["type"], "error", "Anthropic dialect error");
    assert_eq!(v["error"]["type"], "authentication_error");
}

#[tokio::test]
async fn virtual_key_rpm_and_allowed_models() {
    let g = with_master().await;
    let (status, _, _) = g
        .post("/v1/chat/completions", "vk-team", &chat("one"))
        .await;
    assert_eq!(status, 200);
    let other = json!({"model": "anthropic/claude-3-5-haiku-latest", "messages": [{"role": "user", "content": "x"}]});
    let (status, _, text) = g.post("/v1/chat/completions", "vk-team", &other).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("may not use model"));
    let (status, _, _) = g
        .post("/v1/chat/completions", "vk-team", &chat("two"))
        .await;
    assert_eq!(status, 200);
    let (status, headers, text) = g
        .post("/v1/chat/completions", "vk-team", &chat("three"))
        .await;
    assert_eq!(status, 429, "{text}");
    assert!(
        headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(
        g.mock.requests().len(),
        2,
        "rejected requests never reach the upstream"
    );
}

#[tokio::test]
async fn without_master_key_loopback_is_served_and_admin_is_closed() {
    let g = Gateway::start().await;
    let (status, _, _) = g
        .post("/v1/chat/completions", "anything", &chat("hi"))
        .await;
    assert_eq!(status, 200);
    let state = &g.state;
    let err =
        crux_gateway::auth::require_admin(state, &crux_gateway::auth::Caller::Local).unwrap_err();
    assert_eq!(err.status, 403);
    let non_loopback = "10.1.2.3".parse().unwrap();
    let err =
        crux_gateway::auth::authenticate(state, &Default::default(), non_loopback).unwrap_err();
    assert_eq!(err.status, 403);
}

#[tokio::test]
async fn bad_input_is_answered_in_dialect() {
    let config = GatewayConfig {
        body_limit: 10_000,
        ..GatewayConfig::default()
    };
    let g = Gateway::start_with(config, &[], Clock::default()).await;
    let resp = g
        .http
        .post(g.url("/v1/chat/completions"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid JSON")
    );
    let (status, _, text) = g
        .post("/v1/chat/completions", "k", &chat(&"x".repeat(20_000)))
        .await;
    assert_eq!(status, 413, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["error"]["code"],
        "too_large"
    );
    let (status, _, text) = g
        .post(
            "/v1/chat/completions",
            "k",
            &json!({"model": "nope/x", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 404);
    assert!(
        text.contains("openai") && text.contains("mistral"),
        "{text}"
    );
    let (status, _, _) = g
        .post(
            "/v1/chat/completions",
            "k",
            &json!({"model": "openai/gpt-4o-mini", "messages": []}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _, text) = g
        .post(
            "/v1/messages",
            "k",
            &json!({"model": "openai/gpt-4o-mini", "max_tokens": 5,
        "messages": [{"role": "tool", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["error"]["type"],
        "invalid_request_error"
    );
    let (status, text) = g.get("/nope", "k").await;
    assert_eq!(status, 404, "{text}");
}

#[tokio::test]
async fn health_and_metrics() {
    let g = Gateway::start().await;
    let (status, body) = g.get("/health", "k").await;
    assert_eq!((status, body.contains("ok")), (200, true));
    let (status, _) = g.get("/ready", "k").await;
    assert_eq!(status, 200);
    g.post("/v1/chat/completions", "k", &chat("count me")).await;
    let (_, metrics) = g.get("/metrics", "k").await;
    assert!(
        metrics.contains(r#"crux_requests_total{provider="openai",model="gpt-4o-mini",route="chat_completions",status="ok"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("crux_gateway_overhead_seconds_count 1"),
        "{metrics}"
    );
    assert!(
        metrics
            .contains(r#"crux_tokens_total{kind="prompt",provider="openai",model="gpt-4o-mini"}"#)
    );
}
