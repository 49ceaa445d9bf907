//! The library `Router` against `crux-mock`: alias fallback (stream and not), retries reported by provider and
//! cause, breakers failing fast, a virtual key's permit applied to every target, and the input guard.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{KEY, test_retry, test_timeouts};
use crux_llm::breaker::{BreakerConfig, Clock};
use crux_llm::{
    CallOptions, ChatRequest, Client, ErrorCode, Message, ModelId, ProviderConfig, ProviderId,
    Router, RouterConfig, StreamEvent,
};
use crux_mock::MockServer;
use futures_util::StreamExt;

fn client(mock: &MockServer, dead_anthropic: bool) -> Client {
    let anthropic = if dead_anthropic {
        "http://127.0.0.1:9".to_owned()
    } else {
        mock.url()
    };
    Client::builder()
        .provider(
            ProviderId::OpenAi,
            ProviderConfig {
                base_url: Some(format!("{}/v1", mock.url())),
                api_key: Some(KEY.into()),
                ..Default::default()
            },
        )
        .provider(
            ProviderId::Anthropic,
            ProviderConfig {
                base_url: Some(anthropic),
                api_key: Some(KEY.into()),
                ..Default::default()
            },
        )
        .timeouts(test_timeouts())
        .retry(test_retry())
        .build()
        .unwrap()
}

fn router(client: Client, targets: &[&str], breaker: BreakerConfig, clock: Clock) -> Router {
    let mut config = RouterConfig {
        breaker,
        ..RouterConfig::default()
    };
    config.routes.insert(
        "smart".into(),
        targets.iter().map(|t| t.parse().unwrap()).collect(),
    );
    Router::with_clock(client, config, clock)
}

fn ask(text: &str) -> ChatRequest {
    // The model is a placeholder: the router writes each target's id.
    ChatRequest::new(
        ModelId::new(ProviderId::OpenAi, ""),
        vec![Message::user(text)],
    )
}

#[tokio::test]
async fn alias_falls_back_past_a_dead_target_and_reports_it() {
    let mock = MockServer::start().await.unwrap();
    let r = router(
        client(&mock, true),
        &["anthropic/claude-3-5-haiku-latest", "openai/gpt-4o-mini"],
        BreakerConfig::default(),
        Clock::default(),
    );
    let route = r.resolve("smart", None).unwrap();
    let served = r
        .chat(&route, ask("hello"), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(served.target.to_string(), "openai/gpt-4o-mini");
    assert_eq!(served.fallbacks, 1);
    assert!(!served.value.text().is_empty());
    // The dead target was retried (connection refused is retryable) before falling back.
    assert!(
        served
            .retries
            .iter()
            .all(|(p, c)| *p == ProviderId::Anthropic && *c == ErrorCode::Unavailable)
    );
    assert_eq!(served.retries.len(), 2);

    let peeked = r
        .stream(&route, ask("hello stream"), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(peeked.target.to_string(), "openai/gpt-4o-mini");
    assert_eq!(peeked.fallbacks, 1);
    let mut events: Vec<_> = peeked.value.buffered;
    let mut rest = peeked.value.stream;
    while let Some(e) = rest.next().await {
        events.push(e);
    }
    assert!(matches!(
        events.last(),
        Some(Ok(StreamEvent::Finish { .. }))
    ));
}

#[tokio::test]
async fn retries_are_counted_by_provider_and_cause() {
    let mock = MockServer::start().await.unwrap();
    let r = router(
        client(&mock, false),
        &["openai/gpt-4o-mini"],
        BreakerConfig::default(),
        Clock::default(),
    );
    let route = r.resolve("smart", None).unwrap();
    let served = r
        .chat(
            &route,
            ask("[[mock status=500 times=1 key=r1]] hi"),
            CallOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(served.fallbacks, 0);
    assert_eq!(
        served.retries,
        vec![(ProviderId::OpenAi, ErrorCode::ServerError)]
    );
    let streamed = r
        .stream(
            &route,
            ask("[[mock status=429 retry_after_ms=10 times=1 key=r2]] hi"),
            CallOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        streamed.retries,
        vec![(ProviderId::OpenAi, ErrorCode::RateLimit)]
    );
}

#[tokio::test]
async fn an_open_breaker_fails_fast_and_the_next_target_serves() {
    let mock = MockServer::start().await.unwrap();
    let clock = Clock::fake();
    let r = router(
        client(&mock, true),
        &["anthropic/claude-3-5-haiku-latest", "openai/gpt-4o-mini"],
        BreakerConfig {
            failures: 1,
            open_ms: 60_000,
            ..BreakerConfig::default()
        },
        clock.clone(),
    );
    let route = r.resolve("smart", None).unwrap();
    r.chat(&route, ask("one"), CallOptions::default())
        .await
        .unwrap();
    let before = mock.requests().len();
    let served = r
        .chat(&route, ask("two"), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(served.fallbacks, 1);
    assert!(served.retries.is_empty(), "the open breaker sent nothing");
    assert_eq!(mock.requests().len(), before + 1);
}

#[tokio::test]
async fn a_permit_is_applied_to_every_target() {
    let mock = MockServer::start().await.unwrap();
    let r = router(
        client(&mock, false),
        &["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"],
        BreakerConfig::default(),
        Clock::default(),
    );
    let route = r.resolve("smart", None).unwrap();
    let only_openai = |t: &ModelId| t.provider == ProviderId::OpenAi;
    let opts = CallOptions {
        permit: Some(&only_openai),
        ..CallOptions::default()
    };
    // The allowed first target fails; the fallback is not allowed: the caller is refused, Anthropic never called.
    let failure = r
        .chat(&route, ask("[[mock status=500 times=9 key=p1]] hi"), opts)
        .await
        .unwrap_err();
    assert_eq!(failure.attempts.len(), 2);
    assert_eq!(failure.error().code(), ErrorCode::Auth);
    assert!(mock.requests().iter().all(|r| !r.path.contains("messages")));
}

#[tokio::test]
async fn a_huge_prompt_is_refused_without_stalling_the_runtime() {
    let mock = MockServer::start().await.unwrap();
    let r = router(
        client(&mock, false),
        &["openai/gpt-4o-mini"],
        BreakerConfig::default(),
        Clock::default(),
    );
    let route = r.resolve("smart", None).unwrap();
    let prompt = "lorem ipsum dolor sit amet ".repeat(400_000); // ~10 MB
    // This test runs on a current-thread runtime: a ticker task gets to run while the guard counts only if the
    // counting happens on another thread (inline counting would hold the one runtime thread until it is done).
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let ticker = {
        let ticks = std::sync::Arc::clone(&ticks);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                ticks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })
    };
    let result = r.chat(&route, ask(&prompt), CallOptions::default()).await;
    let ticked = ticks.load(std::sync::atomic::Ordering::SeqCst);
    ticker.abort();
    assert!(
        ticked >= 2,
        "the runtime kept ticking while the guard counted ({ticked} ticks)"
    );
    let failure = result.unwrap_err();
    assert_eq!(failure.error().code(), ErrorCode::TooLarge);
    assert!(mock.requests().is_empty(), "nothing went upstream");
}
