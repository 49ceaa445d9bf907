//! The client-facing surface beyond chat: `/v1/models/{id}` (bare, `provider/model`, `%2F`), the Anthropic-shaped
//! model list with paging, `/v1/messages/count_tokens` (upstream for Anthropic targets, local otherwise), errors
//! under `/v1/messages/…` in the Anthropic dialect, CORS preflight, and session headers in the chat log.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use crux_gateway::GatewayConfig;
use crux_store::LogFilter;
use harness::{Gateway, JsonBody, Stored};
use serde_json::{Value, json};

async fn get(g: &Gateway, path: &str, anthropic: bool) -> (u16, Value) {
    let mut req = g.http.get(g.url(path)).bearer_auth("k");
    if anthropic {
        req = req.header("anthropic-version", "2023-06-01");
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_str(&resp.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn models_in_both_shapes_with_retrieve_and_paging() {
    let g = Gateway::start().await;
    let (status, list) = get(&g, "/v1/models", false).await;
    assert_eq!(status, 200);
    assert_eq!(list["object"], "list");
    let first = &list["data"][0];
    assert!(first["created"].as_u64().unwrap() > 0);
    let (_, again) = get(&g, "/v1/models", false).await;
    assert_eq!(
        again["data"][0]["created"], first["created"],
        "a stable created"
    );

    let (status, page) = get(&g, "/v1/models?limit=3", true).await;
    assert_eq!(status, 200);
    assert_eq!(page["data"].as_array().unwrap().len(), 3);
    assert_eq!(page["data"][0]["type"], "model");
    assert!(page["data"][0]["display_name"].is_string());
    assert_eq!(page["has_more"], true);
    let last = page["last_id"].as_str().unwrap().to_owned();
    assert_eq!(page["first_id"], page["data"][0]["id"]);
    let (_, next) = get(&g, &format!("/v1/models?limit=3&after_id={last}"), true).await;
    assert_ne!(next["data"][0]["id"], page["data"][0]["id"]);

    for id in ["openai/gpt-4o-mini", "openai%2Fgpt-4o-mini"] {
        let (status, m) = get(&g, &format!("/v1/models/{id}"), false).await;
        assert_eq!(
            (status, m["id"].as_str()),
            (200, Some("openai/gpt-4o-mini")),
            "{id}"
        );
    }
    let (status, m) = get(&g, "/v1/models/claude-3-5-haiku-latest", true).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["id"], "anthropic/claude-3-5-haiku-latest");
    assert_eq!(m["type"], "model");
    let (status, e) = get(&g, "/v1/models/no-such-model", true).await;
    assert_eq!(status, 404);
    assert_eq!(
        e["type"], "error",
        "Anthropic error shape for an Anthropic client"
    );
}

#[tokio::test]
async fn count_tokens_upstream_for_anthropic_and_local_otherwise() {
    let g = Gateway::start().await;
    for model in ["anthropic/claude-3-5-haiku-latest", "openai/gpt-4o-mini"] {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "count these words please"}]});
        let resp = g
            .http
            .post(g.url("/v1/messages/count_tokens"))
            .header("x-api-key", "k")
            .header("anthropic-version", "2023-06-01")
            .json_body(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{model}");
        let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        assert!(v["input_tokens"].as_u64().unwrap() > 0, "{model}: {v}");
    }
    let upstream = g.mock.requests();
    assert!(
        upstream
            .iter()
            .any(|r| r.path == "/v1/messages/count_tokens")
    );
    assert_eq!(upstream.len(), 1, "the OpenAI target was counted locally");
    let resp = g
        .http
        .post(g.url("/v1/messages/batches"))
        .header("x-api-key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(v["type"], "error", "Anthropic dialect under /v1/messages/…");
}

#[tokio::test]
async fn cors_preflight_for_the_dev_origin_only() {
    let g = Gateway::start().await;
    let preflight = |origin: &'static str| {
        g.http
            .request(reqwest::Method::OPTIONS, g.url("/v1/chat/completions"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let ok = preflight("http://localhost:5173").await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    let other = preflight("http://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn session_headers_are_logged_and_filterable() {
    let mut s = Stored::start_config(GatewayConfig::default(), &[], 0).await;
    let g = &s.gateway;
    for (session, text) in [("sess-a", "first"), ("sess-b", "second")] {
        let resp = g
            .http
            .post(g.url("/v1/messages"))
            .header("x-api-key", "k")
            .header("x-claude-code-session-id", session)
            .json_body(
                &json!({"model": "anthropic/claude-3-5-haiku-latest", "max_tokens": 20,
                "messages": [{"role": "user", "content": text}]}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    s.drain().await;
    let rows = s
        .store
        .query_chat_logs(&LogFilter {
            session: Some("sess-b".into()),
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].log.request_text.as_deref(), Some("second"));
    let meta = rows[0].log.metadata.as_ref().unwrap();
    assert_eq!(meta["session"]["x-claude-code-session-id"], "sess-b");
}
