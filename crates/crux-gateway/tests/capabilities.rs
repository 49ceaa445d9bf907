//! Observed capabilities end to end: a mock model that rejects a capability the way the real API does is recorded
//! (registry at once, store in the background), later requests adapt — tools refused with a 400 naming them without
//! calling upstream, or the next target of an alias; JSON mode and streamed usage emulated — through both dialects,
//! `/api/models` shows observed next to catalog values, and a restarted gateway loads them from the store.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use std::time::Duration;

use crux_gateway::GatewayConfig;
use crux_llm::{Capability, ModelId};
use harness::Stored;
use serde_json::{Value, json};

const NO_TOOLS: &str = "openai/mock-no-tools";

fn chat_calls(g: &Stored) -> Vec<Value> {
    g.gateway
        .mock
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .map(|r| r.body)
        .collect()
}

fn openai_tools(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "weather in Paris? use the tool"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
        "properties": {"city": {"type": "string"}}}}}]})
}

fn anthropic_tools(model: &str) -> Value {
    json!({"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "weather? use the tool"}],
        "tools": [{"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}]})
}

/// The stored observations of `provider`, once the background write has landed.
async fn stored(g: &Stored, model: &str, feature: &str) -> Option<bool> {
    for _ in 0..200 {
        let obs = g.store.load_observed_capabilities("openai").await.unwrap();
        if let Some(v) = obs.get(model).and_then(|f| f.get(feature)) {
            return Some(*v);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

fn observed(g: &Stored, model: &str, cap: Capability) -> Option<bool> {
    let id: ModelId = model.parse().unwrap();
    g.gateway
        .state
        .router
        .registry()
        .read()
        .unwrap()
        .observed(&id, cap)
}

#[tokio::test]
async fn rejected_tools_are_recorded_and_refused_without_calling_upstream_openai_dialect() {
    let g = Stored::start(None).await;
    let (status, _, text) = g
        .gateway
        .post("/v1/chat/completions", "k", &openai_tools(NO_TOOLS))
        .await;
    assert_eq!(
        status, 400,
        "the upstream's rejection passes through: {text}"
    );
    assert!(text.contains("tools"), "{text}");
    assert_eq!(chat_calls(&g).len(), 1);
    assert_eq!(observed(&g, NO_TOOLS, Capability::Tools), Some(false));
    assert_eq!(stored(&g, "mock-no-tools", "tools").await, Some(false));

    let (status, _, text) = g
        .gateway
        .post("/v1/chat/completions", "k", &openai_tools(NO_TOOLS))
        .await;
    assert_eq!(status, 400, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("`tools`"),
        "{v}"
    );
    assert_eq!(chat_calls(&g).len(), 1, "refused before going upstream");

    // Without tools the model still serves.
    let plain = json!({"model": NO_TOOLS, "messages": [{"role": "user", "content": "hi"}]});
    let (status, _, text) = g.gateway.post("/v1/chat/completions", "k", &plain).await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test]
async fn rejected_tools_are_recorded_and_refused_anthropic_dialect() {
    let g = Stored::start(None).await;
    let (status, _, text) = g
        .gateway
        .post("/v1/messages", "k", &anthropic_tools(NO_TOOLS))
        .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(chat_calls(&g).len(), 1);
    assert_eq!(observed(&g, NO_TOOLS, Capability::Tools), Some(false));

    let (status, _, text) = g
        .gateway
        .post("/v1/messages", "k", &anthropic_tools(NO_TOOLS))
        .await;
    assert_eq!(status, 400, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&v["type"], &v["error"]["type"]),
        (&json!("error"), &json!("invalid_request_error")),
        "{v}"
    );
    assert!(
        v["error"]["message"].as_str().unwrap().contains("`tools`"),
        "{v}"
    );
    assert_eq!(chat_calls(&g).len(), 1, "refused before going upstream");
    assert_eq!(stored(&g, "mock-no-tools", "tools").await, Some(false));
}

#[tokio::test]
async fn an_alias_falls_back_past_a_target_without_tools() {
    let mut config = GatewayConfig::default();
    config.router.routes.insert(
        "tooled".into(),
        vec![
            NO_TOOLS.parse().unwrap(),
            "openai/gpt-4o-mini".parse().unwrap(),
        ],
    );
    let g = Stored::start_config(config, &[], 0).await;
    for round in 0..2 {
        let (status, headers, text) = g
            .gateway
            .post("/v1/chat/completions", "k", &openai_tools("tooled"))
            .await;
        assert_eq!(status, 200, "round {round}: {text}");
        assert_eq!(headers["x-crux-target"], "openai/gpt-4o-mini");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
            "get_weather"
        );
    }
    let models: Vec<Value> = chat_calls(&g).iter().map(|b| b["model"].clone()).collect();
    assert_eq!(
        models,
        [
            json!("mock-no-tools"),
            json!("gpt-4o-mini"),
            json!("gpt-4o-mini")
        ],
        "skipped once known"
    );
}

#[tokio::test]
async fn json_mode_and_stream_usage_are_emulated_after_one_rejection() {
    let g = Stored::start(None).await;
    let body = json!({"model": "openai/mock-no-json", "response_format": {"type": "json_object"},
        "messages": [{"role": "user", "content": "give me json"}]});
    let (status, _, text) = g.gateway.post("/v1/chat/completions", "k", &body).await;
    assert_eq!(status, 200, "the same target is retried, adapted: {text}");
    let calls = chat_calls(&g);
    assert_eq!(calls.len(), 2);
    assert!(calls[0].get("response_format").is_some());
    assert!(calls[1].get("response_format").is_none(), "{}", calls[1]);
    assert_eq!(calls[1]["messages"][0]["role"], "system");
    assert!(
        calls[1]["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("JSON object")
    );
    let (status, _, _) = g.gateway.post("/v1/chat/completions", "k", &body).await;
    assert_eq!(status, 200);
    assert_eq!(chat_calls(&g).len(), 3, "adapted at once the next time");
    assert_eq!(stored(&g, "mock-no-json", "json_schema").await, Some(false));

    let streamed = json!({"model": "openai/mock-no-stream-usage", "stream": true,
        "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "hi"}]});
    let (status, _, text) = g.gateway.post("/v1/chat/completions", "k", &streamed).await;
    assert_eq!(status, 200, "{text}");
    let content: String = harness::sse(&text)
        .iter()
        .filter_map(|(_, data)| serde_json::from_str::<Value>(data).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(content, "Mock reply: hi", "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let last = chat_calls(&g).pop().unwrap();
    assert!(last.get("stream_options").is_none(), "{last}");
    assert_eq!(
        observed(&g, "openai/mock-no-stream-usage", Capability::StreamUsage),
        Some(false)
    );
}

#[tokio::test]
async fn api_models_shows_observed_values_and_a_restart_loads_them() {
    let g = Stored::start(Some("mk")).await;
    // A catalog model observed without tools (through the store, as another instance would have recorded it) and
    // a model only known because it was used.
    g.store
        .record_observed_capability("openai", "gpt-4o-mini", "tools", false)
        .await
        .unwrap();
    let (status, _, _) = g
        .gateway
        .post("/v1/chat/completions", "mk", &openai_tools(NO_TOOLS))
        .await;
    assert_eq!(status, 400);
    assert_eq!(stored(&g, "mock-no-tools", "tools").await, Some(false));
    crux_gateway::sync::load_registry(&g.gateway.state)
        .await
        .unwrap();
    let (status, body) = g.gateway.get("/api/models?provider=openai", "mk").await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let models = v["snapshot"]["models"].as_array().unwrap();
    let find = |id: &str| models.iter().find(|m| m["id"] == id).unwrap().clone();
    let mini = find("gpt-4o-mini");
    assert_eq!(
        mini["observed"]["tools"],
        json!({"value": false, "catalog": true}),
        "{mini}"
    );
    assert_eq!(mini["capabilities"]["tools"], false);
    assert_eq!(mini["capabilities"]["tools_supported"], false);
    let used = find("mock-no-tools");
    assert_eq!(
        used["observed"]["tools"],
        json!({"value": false, "catalog": null}),
        "{used}"
    );
    let plain = find("gpt-4o");
    assert!(
        plain
            .get("observed")
            .is_none_or(|o| o.as_object().is_some_and(|o| o.is_empty())),
        "{plain}"
    );

    // A fresh gateway on the same store knows at startup: the first request is refused without going upstream.
    let url = format!("sqlite://{}", g.dir.path().join("crux.db").display());
    let again = Stored::start_url(&url, None, tempfile::tempdir().unwrap()).await;
    crux_gateway::sync::load_registry(&again.gateway.state)
        .await
        .unwrap();
    let (status, _, text) = again
        .gateway
        .post("/v1/chat/completions", "k", &openai_tools(NO_TOOLS))
        .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("`tools`"), "{text}");
    assert!(chat_calls(&again).is_empty());
}
