//! Registry-driven behaviour: `/v1/models`, `/api/models`, bare-name resolution, the input guard, cost → budgets.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use crux_gateway::GatewayConfig;
use crux_gateway::keys::{CachedKey, hash_key};
use crux_llm::breaker::Clock;
use crux_llm::context::{GuardConfig, GuardRule};
use harness::Gateway;
use serde_json::{Value, json};

#[tokio::test]
async fn v1_models_lists_aliases_and_registry_models() {
    let mut config = GatewayConfig::default();
    config
        .router
        .routes
        .insert("smart".into(), vec!["openai/gpt-4o".parse().unwrap()]);
    let g = Gateway::start_with(config, &[], Clock::default()).await;
    let (status, body) = g.get("/v1/models", "k").await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    for id in [
        "smart",
        "openai/gpt-4o-mini",
        "anthropic/claude-3-5-haiku-latest",
        "gemini/gemini-2.0-flash",
        "ollama/llama3.2",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert_eq!(v["object"], "list");
}

#[tokio::test]
async fn api_models_snapshot_and_admin_refresh() {
    let config = GatewayConfig {
        master_key: Some("mk".into()),
        ..GatewayConfig::default()
    };
    let g = Gateway::start_with(config, &[], Clock::default()).await;
    let (status, body) = g.get("/api/models?provider=gemini", "mk").await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["snapshot"]["provider"], "gemini");
    assert_eq!(v["snapshot"]["fetched_via"], "catalog");
    let flash = v["snapshot"]["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "gemini-2.0-flash")
        .unwrap();
    assert!(flash["context_length"].as_u64().unwrap() > 100_000);
    assert!(
        flash["capabilities"].get("tools_supported").is_some(),
        "{flash}"
    );
    let (status, body) = g.get("/api/models?provider=gemini&refresh=1", "mk").await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(
        v["snapshot"]["fetched_at"]
            .as_str()
            .is_some_and(|t| t.contains('T')),
        "ISO text: {v}"
    );
    assert!(g.mock.requests().iter().any(|r| r.path == "/v1beta/models"));
    let (status, _) = g.get("/api/models", "mk").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn bare_catalog_names_pick_their_provider() {
    let g = Gateway::start().await;
    let body =
        json!({"model": "gemini-2.0-flash", "messages": [{"role": "user", "content": "hi"}]});
    let (status, headers, text) = g.post("/v1/chat/completions", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers["x-crux-target"], "gemini/gemini-2.0-flash");
}

#[tokio::test]
async fn input_guard_refuses_before_going_upstream() {
    let guard = GuardConfig {
        default: GuardRule {
            enabled: Some(true),
            max_input_tokens: Some(50),
            ..GuardRule::default()
        },
        ..GuardConfig::default()
    };
    let config = GatewayConfig {
        router: crux_llm::RouterConfig {
            guard,
            ..Default::default()
        },
        ..GatewayConfig::default()
    };
    let g = Gateway::start_with(config, &[], Clock::default()).await;
    let big = "lorem ipsum dolor sit amet ".repeat(40);
    let body =
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": big}]});
    let (status, _, text) = g.post("/v1/chat/completions", "k", &body).await;
    assert_eq!(status, 413, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["error"]["code"],
        "too_large"
    );
    let anthropic = json!({"model": "openai/gpt-4o-mini", "max_tokens": 10, "messages": [{"role": "user", "content": big}]});
    let (status, _, text) = g.post("/v1/messages", "k", &anthropic).await;
    assert_eq!(status, 413);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["error"]["type"],
        "request_too_large"
    );
    assert!(g.mock.requests().is_empty(), "nothing went upstream");
    let small =
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "short"}]});
    assert_eq!(g.post("/v1/chat/completions", "k", &small).await.0, 200);
}

#[tokio::test]
async fn spend_from_prices_exhausts_a_budget() {
    let config = GatewayConfig {
        master_key: Some("mk".into()),
        ..GatewayConfig::default()
    };
    let g = Gateway::start_with(config, &[], Clock::default()).await;
    let key = CachedKey {
        id: "vk_b".into(),
        name: "tiny".into(),
        rpm: None,
        tpm: None,
        budget_usd: Some(0.000_001),
        models: None,
        spend_usd: 0.0,
    };
    g.state.keys.replace([(hash_key("vk-tiny"), key)]);
    let body = json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "spend some tokens please"}]});
    let (status, _, _) = g.post("/v1/chat/completions", "vk-tiny", &body).await;
    assert_eq!(status, 200);
    assert!(g.state.limiter.local_spend("vk_b") > 0.0);
    let (status, headers, text) = g.post("/v1/chat/completions", "vk-tiny", &body).await;
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("budget"), "{text}");
    assert!(headers.contains_key("retry-after"));
}
