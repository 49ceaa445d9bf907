//! Routing, fallback, circuit breakers (fake clock), in-band stream errors and client disconnects.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use std::time::Duration;

use crux_gateway::GatewayConfig;
use crux_llm::ProviderId;
use crux_llm::breaker::{BreakerConfig, Clock};
use harness::{Gateway, sse};
use serde_json::{Value, json};

fn routed(breaker: BreakerConfig) -> GatewayConfig {
    let mut c = GatewayConfig {
        router: crux_llm::RouterConfig {
            breaker,
            ..Default::default()
        },
        ..GatewayConfig::default()
    };
    c.router.routes.insert(
        "smart".into(),
        vec![
            "deepseek/deepseek-chat".parse().unwrap(),
            "openai/gpt-4o-mini".parse().unwrap(),
        ],
    );
    c
}

#[tokio::test]
async fn fallback_before_content_non_stream_and_stream() {
    let g = Gateway::start_with(
        routed(BreakerConfig::default()),
        &[ProviderId::DeepSeek],
        Clock::default(),
    )
    .await;
    let body =
        json!({"model": "smart", "messages": [{"role": "user", "content": "fall back please"}]});
    let (status, headers, text) = g.post("/v1/chat/completions", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers["x-crux-target"], "openai/gpt-4o-mini");
    assert!(text.contains("fall back please"));

    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let (status, _, text) = g.post("/v1/chat/completions", "k", &streamed).await;
    assert_eq!(status, 200, "{text}");
    let content: String = sse(&text)
        .iter()
        .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(
        content.contains("fall back please") && text.trim_end().ends_with("data: [DONE]"),
        "{text}"
    );

    let anthropic = json!({"model": "smart", "max_tokens": 50, "stream": true,
        "messages": [{"role": "user", "content": "via anthropic dialect"}]});
    let (status, _, text) = g.post("/v1/messages", "k", &anthropic).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("message_stop"));
    let (_, metrics) = g.get("/metrics", "k").await;
    assert!(metrics.contains("crux_fallbacks_total 3"), "{metrics}");
}

#[tokio::test]
async fn every_target_failing_is_reported_in_dialect() {
    let g = Gateway::start_with(
        routed(BreakerConfig::default()),
        &[ProviderId::DeepSeek, ProviderId::OpenAi],
        Clock::default(),
    )
    .await;
    let body = json!({"model": "smart", "messages": [{"role": "user", "content": "x"}]});
    let (status, _, text) = g.post("/v1/chat/completions", "k", &body).await;
    assert_eq!(status, 502, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["code"], "unavailable");
    let anthropic =
        json!({"model": "smart", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]});
    let (status, _, text) = g.post("/v1/messages", "k", &anthropic).await;
    assert_eq!(status, 502, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["type"],
        "error"
    );
}

#[tokio::test]
async fn breaker_opens_fails_fast_and_probes_after_open_ms() {
    let clock = Clock::fake();
    let breaker = BreakerConfig {
        failures: 2,
        open_ms: 10_000,
        ..BreakerConfig::default()
    };
    let g = Gateway::start_with(routed(breaker), &[ProviderId::DeepSeek], clock.clone()).await;
    let body = json!({"model": "smart", "messages": [{"role": "user", "content": "x"}]});
    for _ in 0..3 {
        let (status, _, _) = g.post("/v1/chat/completions", "k", &body).await;
        assert_eq!(status, 200);
    }
    assert_eq!(
        g.state.router.breakers().state("deepseek/deepseek-chat"),
        crux_llm::breaker::BreakerState::Open
    );
    let (_, metrics) = g.get("/metrics", "k").await;
    assert!(
        metrics.contains("crux_breaker_state{target=\"deepseek/deepseek-chat\"} 2"),
        "{metrics}"
    );
    // Open: the dead target is skipped without an attempt, so a direct request fails fast with `unavailable`.
    let direct =
        json!({"model": "deepseek/deepseek-chat", "messages": [{"role": "user", "content": "x"}]});
    let (status, _, text) = g.post("/v1/chat/completions", "k", &direct).await;
    assert_eq!(status, 502);
    assert!(text.contains("circuit breaker open"), "{text}");
    clock.advance(Duration::from_millis(10_000));
    assert_eq!(
        g.state.router.breakers().state("deepseek/deepseek-chat"),
        crux_llm::breaker::BreakerState::HalfOpen
    );
    let (status, _, text) = g.post("/v1/chat/completions", "k", &direct).await;
    assert_eq!(status, 502);
    assert!(
        !text.contains("circuit breaker open"),
        "the half-open probe really went upstream: {text}"
    );
    assert_eq!(
        g.state.router.breakers().state("deepseek/deepseek-chat"),
        crux_llm::breaker::BreakerState::Open
    );
}

#[tokio::test]
async fn errors_after_content_go_in_band() {
    let g = Gateway::start().await;
    let body = json!({"model": "openai/gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "one two three four [[mock mid_error]]"}]});
    let (status, _, text) = g.post("/v1/chat/completions", "k", &body).await;
    assert_eq!(status, 200);
    let last: Value = serde_json::from_str(&sse(&text).last().unwrap().1).unwrap();
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mock mid-stream failure"),
        "{text}"
    );
    let body = json!({"model": "openai/gpt-4o-mini", "max_tokens": 50, "stream": true,
        "messages": [{"role": "user", "content": "one two three four [[mock cut_after=3]]"}]});
    let (status, _, text) = g.post("/v1/messages", "k", &body).await;
    assert_eq!(status, 200);
    let frames = sse(&text);
    assert_eq!(frames.last().unwrap().0.as_deref(), Some("error"), "{text}");
    assert!(!text.contains("message_stop"));
}

#[tokio::test]
async fn upstream_statuses_map_to_gateway_statuses() {
    // A breaker that never opens: this test sends many failures on purpose.
    let config = GatewayConfig {
        router: crux_llm::RouterConfig {
            breaker: BreakerConfig::never(),
            ..Default::default()
        },
        ..GatewayConfig::default()
    };
    let g = Gateway::start_with(config, &[], Clock::default()).await;
    for (fault, expect, anthropic_expect) in [
        ("status=429 retry_after=2", 429, 429),
        ("status=500", 502, 502),
        ("status=529", 503, 529),
        ("status=503", 503, 529),
        ("status=400", 400, 400),
        ("status=404", 404, 404),
    ] {
        let content = format!("x [[mock {fault}]]");
        let body = json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": content}]});
        let (status, headers, text) = g.post("/v1/chat/completions", "k", &body).await;
        assert_eq!(status, expect, "{fault}: {text}");
        if expect == 429 {
            assert_eq!(headers["retry-after"], "2");
        }
        let body = json!({"model": "openai/gpt-4o-mini", "max_tokens": 5, "messages": [{"role": "user", "content": content}]});
        let (status, _, text) = g.post("/v1/messages", "k", &body).await;
        assert_eq!(status, anthropic_expect, "{fault} via /v1/messages: {text}");
    }
}

#[tokio::test]
async fn client_disconnect_closes_the_upstream() {
    let g = Gateway::start().await;
    let body = json!({"model": "openai/gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "a b c d e f g h i j k l [[mock delay=100]]"}]});
    let mut resp = g
        .http
        .post(g.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    resp.chunk().await.unwrap().unwrap();
    drop(resp);
    assert!(g.mock.wait_for_streams(1, Duration::from_secs(5)).await);
    assert!(
        g.mock.streams()[0].client_disconnected,
        "{:?}",
        g.mock.streams()
    );
}
