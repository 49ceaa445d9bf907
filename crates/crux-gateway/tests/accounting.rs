//! Outcome accounting through the shared chat path: one chat log per request whatever the client does (native
//! NDJSON and non-streamed requests whose client leaves are logged `cancelled`), native stream rows with TTFT and
//! answer text, fallbacks in the row, `crux_retries_total` by provider and reason, and a virtual key's model
//! restriction applied to every target an alias tries.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use std::time::Duration;

use crux_gateway::GatewayConfig;
use crux_gateway::keys::{CachedKey, hash_key};
use crux_llm::ProviderId;
use crux_store::{ChatLogEntry, LogFilter, LogStatus};
use futures_util::StreamExt;
use harness::{JsonBody, Stored};
use serde_json::json;

fn smart(dead_first: bool) -> GatewayConfig {
    let mut config = GatewayConfig::default();
    let first = if dead_first {
        "anthropic/claude-3-5-haiku-latest"
    } else {
        "openai/gpt-4o-mini"
    };
    config.router.routes.insert(
        "smart".into(),
        vec![
            first.parse().unwrap(),
            "openai/gpt-4o-mini".parse().unwrap(),
            "gemini/gemini-2.0-flash".parse().unwrap(),
        ],
    );
    config
}

async fn logs(s: &mut Stored) -> Vec<ChatLogEntry> {
    let stats = s.drain().await;
    assert_eq!(stats.dropped, 0, "{stats:?}");
    s.store
        .query_chat_logs(&LogFilter {
            limit: 50,
            ..LogFilter::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn native_stream_rows_carry_ttft_and_text_and_a_vanished_client_is_cancelled() {
    let mut s = Stored::start_config(GatewayConfig::default(), &[], 0).await;
    let g = &s.gateway;
    let body = |text: &str| {
        json!({"provider": "openai", "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": text}]})
    };
    let (status, headers, text) = g.post("/api/chat/stream", "k", &body("native hello")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let last = text.lines().last().unwrap();
    assert!(last.contains("\"type\":\"final\""), "{text}");
    // A client that reads the first line and leaves.
    let resp = g
        .http
        .post(g.url("/api/chat/stream"))
        .json_body(&body("leaving early [[mock delay=300]]"))
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(stream);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rows = logs(&mut s).await;
    assert_eq!(rows.len(), 2, "one row per request");
    let ok = rows
        .iter()
        .find(|r| r.log.request_text.as_deref() == Some("native hello"))
        .unwrap();
    assert_eq!(ok.log.status, LogStatus::Ok);
    assert_eq!(ok.log.route, "api_chat_stream");
    assert!(ok.log.ttft_ms.is_some(), "TTFT is logged");
    assert!(
        ok.log
            .response_text
            .as_deref()
            .unwrap()
            .contains("native hello")
    );
    assert_eq!(ok.log.metadata.as_ref().unwrap()["fallbacks"], 0);
    let left = rows
        .iter()
        .find(|r| {
            r.log
                .request_text
                .as_deref()
                .is_some_and(|t| t.starts_with("leaving early"))
        })
        .unwrap();
    assert_eq!(left.log.error_code.as_deref(), Some("cancelled"));
}

#[tokio::test]
async fn a_non_streamed_request_whose_client_leaves_is_logged_cancelled() {
    let mut s = Stored::start_config(GatewayConfig::default(), &[], 0).await;
    let g = &s.gateway;
    for (path, body) in [
        (
            "/v1/chat/completions",
            json!({"model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": "slow one [[mock first_byte_ms=1500]]"}]}),
        ),
        (
            "/v1/messages",
            json!({"model": "anthropic/claude-3-5-haiku-latest", "max_tokens": 20,
                "messages": [{"role": "user", "content": "slow one [[mock first_byte_ms=1500]]"}]}),
        ),
    ] {
        let sent = g
            .http
            .post(g.url(path))
            .header("x-api-key", "k")
            .header("anthropic-version", "2023-06-01")
            .timeout(Duration::from_millis(200))
            .json_body(&body)
            .send()
            .await;
        assert!(sent.is_err(), "the client gave up");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rows = logs(&mut s).await;
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.log.error_code.as_deref() == Some("cancelled")),
        "{rows:?}"
    );
}

#[tokio::test]
async fn fallbacks_and_retries_are_logged_and_counted() {
    let mut s = Stored::start_config(smart(true), &[ProviderId::Anthropic], 1).await;
    let g = &s.gateway;
    let ask =
        json!({"model": "smart", "messages": [{"role": "user", "content": "fall back please"}]});
    let (status, headers, _) = g.post("/v1/chat/completions", "k", &ask).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-crux-target"], "openai/gpt-4o-mini");
    let once = json!({"model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "retry me [[mock status=500 times=1 key=once]]"}]});
    assert_eq!(g.post("/v1/chat/completions", "k", &once).await.0, 200);
    let (_, metrics) = g.get("/metrics", "k").await;
    assert!(
        metrics.contains("crux_retries_total{provider=\"openai\",reason=\"server_error\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("crux_retries_total{provider=\"anthropic\",reason=\"unavailable\"} 1"),
        "{metrics}"
    );
    let rows = logs(&mut s).await;
    let fell = rows
        .iter()
        .find(|r| r.log.request_text.as_deref() == Some("fall back please"))
        .unwrap();
    let meta = fell.log.metadata.as_ref().unwrap();
    assert_eq!(
        (meta["fallbacks"].as_u64(), meta["requested_model"].as_str()),
        (Some(1), Some("smart"))
    );
}

#[tokio::test]
async fn a_restricted_key_cannot_reach_other_models_through_an_alias() {
    let mut config = smart(false);
    config.master_key = Some("master".into());
    let s = Stored::start_config(config, &[], 0).await;
    let g = &s.gateway;
    g.state.keys.replace([(
        hash_key("vk-narrow"),
        CachedKey {
            id: "vk_n".into(),
            name: "narrow".into(),
            rpm: None,
            tpm: None,
            budget_usd: None,
            models: Some(vec!["openai/gpt-4o-mini".into()]),
            spend_usd: 0.0,
        },
    )]);
    // The allowed first target fails; the alias would fall back to gemini, which the key may not use.
    let ask = json!({"model": "smart",
        "messages": [{"role": "user", "content": "hi [[mock status=500 times=4 key=narrow]]"}]});
    let (status, _, body) = g.post("/v1/chat/completions", "vk-narrow", &ask).await;
    assert_eq!(status, 403, "{body}");
    assert!(g.mock.requests().iter().all(|r| !r.path.contains("gemini")));
    // A model neither listed nor reachable through a listed alias is refused up front.
    let other =
        json!({"model": "gemini/gemini-2.0-flash", "messages": [{"role": "user", "content": "x"}]});
    assert_eq!(
        g.post("/v1/chat/completions", "vk-narrow", &other).await.0,
        403
    );
    // The master key is not restricted: the same alias falls back.
    let (status, headers, _) = g.post("/v1/chat/completions", "master", &ask).await;
    assert_eq!(
        (status, &headers["x-crux-target"]),
        (
            200,
            &"gemini/gemini-2.0-flash"
                .parse::<reqwest::header::HeaderValue>()
                .unwrap()
        )
    );
}
