//! Same-wire pass-through: an Anthropic Messages call to an Anthropic target and a Chat Completions call to an
//! OpenAI-wire target reach the mock byte-identical apart from the model id, with `anthropic-beta` and friends and
//! never the client's key; the answer comes back as the upstream sent it; the chat log still has usage, cost, TTFT
//! and the answer text; fallback before the first content still works; cross-wire targets keep translating.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use crux_gateway::GatewayConfig;
use crux_llm::ProviderId;
use crux_store::LogFilter;
use harness::{JsonBody, Stored};
use serde_json::Value;

const ANTHROPIC_BODY: &str = r#"{"model":"anthropic/claude-3-5-haiku-latest","max_tokens":64,
  "service_tier": "auto",
  "system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}},
            {"type":"text","text":"Second block."}],
  "tools":[{"name":"lookup","description":"d","input_schema":{"type":"object","properties":{}},
            "cache_control":{"type":"ephemeral"}}],
  "messages":[{"role":"user","content":[{"type":"text","text":"  hi there\n","cache_control":{"type":"ephemeral"}}]}]}"#;

#[tokio::test]
async fn anthropic_to_anthropic_is_forwarded_as_sent() {
    let mut s = Stored::start_config(GatewayConfig::default(), &[], 0).await;
    let g = &s.gateway;
    let resp = g
        .http
        .post(g.url("/v1/messages"))
        .header("x-api-key", "client-secret-key")
        .header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "prompt-caching-2024-07-31")
        .header("content-type", "application/json")
        .body(ANTHROPIC_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["x-crux-target"],
        "anthropic/claude-3-5-haiku-latest"
    );
    let answer: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(answer["type"], "message");
    let sent = g.mock.requests().pop().unwrap();
    assert_eq!(
        sent.raw_body,
        ANTHROPIC_BODY.replace(
            "anthropic/claude-3-5-haiku-latest",
            "claude-3-5-haiku-latest"
        ),
        "byte-identical apart from the model id"
    );
    assert_eq!(
        sent.header("anthropic-beta"),
        Some("prompt-caching-2024-07-31")
    );
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_ne!(sent.header("x-api-key"), Some("client-secret-key"));
    let stats = s.drain().await;
    assert_eq!(stats.written, 1);
    let rows = s
        .store
        .query_chat_logs(&LogFilter::default())
        .await
        .unwrap();
    let log = &rows[0].log;
    assert!(log.usage.prompt.unwrap() > 0 && log.usage.completion.unwrap() > 0);
    assert!(log.cost_usd.unwrap() > 0.0);
    assert!(log.response_text.as_deref().unwrap().contains("hi there"));
}

#[tokio::test]
async fn chat_completions_stream_to_an_openai_wire_target_is_forwarded_and_tapped() {
    let mut s = Stored::start_config(GatewayConfig::default(), &[], 0).await;
    let g = &s.gateway;
    let body = r#"{"model":"groq/llama-3.1-8b-instant","stream":true,"user":"u-1","parallel_tool_calls":false,
        "messages":[{"role":"user","content":"stream me please","name":"alice"}]}"#;
    let resp = g
        .http
        .post(g.url("/v1/chat/completions"))
        .bearer_auth("client-secret-key")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("stream me please") || text.contains("stream"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    assert!(
        !text.contains("\"choices\":[]"),
        "the usage chunk the gateway asked for is not forwarded: {text}"
    );
    let sent = g.mock.requests().pop().unwrap();
    let mut expected: Value = serde_json::from_str(&body.replace("groq/", "")).unwrap();
    expected["stream_options"] = serde_json::json!({"include_usage": true});
    assert_eq!(sent.body, expected);
    assert!(
        sent.raw_body
            .starts_with(r#"{"model":"llama-3.1-8b-instant","stream":true,"user":"u-1""#)
    );
    s.drain().await;
    let rows = s
        .store
        .query_chat_logs(&LogFilter::default())
        .await
        .unwrap();
    let log = &rows[0].log;
    assert!(log.usage.completion.unwrap() > 0, "usage from the tap");
    assert!(log.ttft_ms.is_some());
    assert!(log.response_text.as_deref().unwrap().contains("stream"));
}

#[tokio::test]
async fn same_wire_streams_fall_back_before_content_and_cross_wire_targets_translate() {
    let mut config = GatewayConfig::default();
    config.router.routes.insert(
        "smart".into(),
        vec![
            "anthropic/claude-3-5-haiku-latest".parse().unwrap(),
            "openai/gpt-4o-mini".parse().unwrap(),
        ],
    );
    let s = Stored::start_config(config, &[ProviderId::Anthropic], 0).await;
    let g = &s.gateway;
    let body = serde_json::json!({"model": "smart", "max_tokens": 40, "stream": true,
        "messages": [{"role": "user", "content": "fall back"}]});
    let resp = g
        .http
        .post(g.url("/v1/messages"))
        .header("x-api-key", "k")
        .json_body(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-crux-target"], "openai/gpt-4o-mini");
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("event: message_start") && text.contains("event: message_stop"),
        "{text}"
    );
    let sent = g.mock.requests().pop().unwrap();
    assert_eq!(
        sent.path, "/v1/chat/completions",
        "translated for the other wire"
    );
}

#[tokio::test]
async fn claude_code_conventions_reach_an_anthropic_target_and_translate_elsewhere() {
    let s = Stored::start_config(GatewayConfig::default(), &[], 0).await;
    let g = &s.gateway;
    // Claude Code's shape: system blocks with cache markers, a mid-conversation system item under its beta,
    // context_management under its beta, adaptive thinking with an effort.
    let body = |model: &str| {
        serde_json::json!({"model": model, "max_tokens": 64,
            "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
            "thinking": {"type": "adaptive"}, "output_config": {"effort": "low"},
            "context_management": {"edits": []},
            "messages": [{"role": "user", "content": "first"},
                         {"role": "system", "content": "Reminder: be brief."},
                         {"role": "assistant", "content": "ok"},
                         {"role": "user", "content": [{"type": "text", "text": "second", "cache_control": {"type": "ephemeral"}}]}]})
    };
    let send = |model: &'static str, beta: Option<&'static str>| {
        let mut req = g
            .http
            .post(g.url("/v1/messages"))
            .header("x-api-key", "k")
            .header("anthropic-version", "2023-06-01");
        if let Some(b) = beta {
            req = req.header("anthropic-beta", b);
        }
        req.json_body(&body(model)).send()
    };
    let betas = "mid-conversation-system-2026-04-07,context-management-2025-06-27";
    let ok = send("claude-sonnet-4-5", Some(betas)).await.unwrap();
    assert_eq!(ok.status(), 200, "{}", ok.text().await.unwrap());
    let sent = g.mock.requests().pop().unwrap();
    assert_eq!(
        sent.body["messages"][1]["role"], "system",
        "kept in place for Anthropic"
    );
    assert_eq!(sent.body["system"][0]["cache_control"]["type"], "ephemeral");
    // Without the betas the real API refuses the beta-gated fields: so does the mock, through the gateway.
    let refused = send("claude-sonnet-4-5", None).await.unwrap();
    assert_eq!(refused.status(), 400);
    // To another wire: translated (system items folded in), effort mapped.
    let other = send("openai/gpt-4o-mini", Some(betas)).await.unwrap();
    assert_eq!(other.status(), 200, "{}", other.text().await.unwrap());
    let sent = g.mock.requests().pop().unwrap();
    let roles: Vec<&str> = sent.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "system", "assistant", "user"]);
}

#[tokio::test]
async fn reasoning_effort_is_not_sent_to_a_model_without_reasoning() {
    let s = Stored::start_config(GatewayConfig::default(), &[], 0).await;
    let g = &s.gateway;
    let body = serde_json::json!({"model": "openai/gpt-4o-mini", "max_tokens": 20,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "messages": [{"role": "user", "content": "think"}]});
    let resp = g
        .http
        .post(g.url("/v1/messages"))
        .header("x-api-key", "k")
        .json_body(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let sent = g.mock.requests().pop().unwrap();
    assert!(sent.body.get("reasoning_effort").is_none(), "{}", sent.body);
}
