//! Registry refresh against `crux-mock` for every provider: a refresh stores a snapshot, and a failed refresh
//! (server error, closed port) keeps the previous one and says why.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{KEY, Target, client_for, test_retry, test_timeouts};
use crux_llm::registry::{self, Registry, SOURCE_API};
use crux_llm::{Client, ErrorCode, ModelId, ProviderConfig, ProviderId, RetryPolicy};
use crux_mock::MockServer;
use futures_util::StreamExt;

fn target(provider: ProviderId) -> Target {
    Target {
        provider,
        model: "",
    }
}

/// A client for `provider` at `base_url`, sending `headers`, without retries.
fn client_at(provider: ProviderId, base_url: String, headers: Vec<(String, String)>) -> Client {
    Client::builder()
        .provider(
            provider,
            ProviderConfig {
                base_url: Some(base_url),
                api_key: Some(KEY.into()),
                headers,
                ..Default::default()
            },
        )
        .timeouts(test_timeouts())
        .retry(RetryPolicy {
            max_retries: 0,
            ..test_retry()
        })
        .build()
        .unwrap()
}

async fn closed_port_url(t: Target) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let root = format!("http://{addr}");
    match t.provider.spec().wire {
        crux_llm::Wire::OpenAi | crux_llm::Wire::Responses => format!("{root}/v1"),
        _ => root,
    }
}

async fn refresh_and_survive_failures(provider: ProviderId) {
    let t = target(provider);
    let mock = MockServer::start().await.unwrap();
    let mut reg = Registry::new();

    let snap = registry::refresh(&client_for(&mock, t), provider)
        .await
        .unwrap();
    assert_eq!(snap.provider, provider);
    assert_eq!(snap.source, SOURCE_API);
    assert!(snap.fetched_at > 0);
    assert!(!snap.models.is_empty(), "{provider}: empty list");
    assert_eq!(
        reg.apply_refresh(provider, Ok(snap.clone())),
        Ok(snap.models.len())
    );
    assert_eq!(reg.snapshot(provider), Some(&snap));
    for m in &snap.models {
        let entry = reg
            .get(&ModelId::new(provider, m.id.clone()))
            .unwrap_or_else(|| panic!("{provider}: listed model {} missing", m.id));
        assert_eq!(entry.listed, Some(true));
    }
    let catalog_only = reg
        .models(provider)
        .iter()
        .filter(|e| e.listed == Some(false));
    assert!(
        catalog_only.count() > 0,
        "{provider}: catalog models not marked unlisted"
    );

    // A server error keeps the snapshot and says why.
    let fault = vec![("x-mock-fault".to_owned(), "status=500".to_owned())];
    let failing = client_at(provider, t.base_url(&mock), fault);
    let failure = reg
        .apply_refresh(provider, registry::refresh(&failing, provider).await)
        .unwrap_err();
    assert_eq!(failure.code, ErrorCode::ServerError, "{failure:?}");
    assert!(failure.message.contains("500"), "{}", failure.message);
    assert_eq!(reg.snapshot(provider), Some(&snap));
    assert_eq!(reg.last_failure(provider), Some(&failure));

    // So does an unreachable provider.
    let down = client_at(provider, closed_port_url(t).await, Vec::new());
    let failure = reg
        .apply_refresh(provider, registry::refresh(&down, provider).await)
        .unwrap_err();
    assert_eq!(failure.code, ErrorCode::Unavailable, "{failure:?}");
    assert_eq!(reg.snapshot(provider), Some(&snap));

    // A later success replaces the snapshot and clears the failure.
    let again = registry::refresh(&client_for(&mock, t), provider)
        .await
        .unwrap();
    assert!(reg.apply_refresh(provider, Ok(again)).is_ok());
    assert!(reg.last_failure(provider).is_none());
}

macro_rules! per_provider {
    ($($name:ident => $p:expr),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() { refresh_and_survive_failures($p).await }
    )*};
}

per_provider! {
    refresh_openai => ProviderId::OpenAi,
    refresh_anthropic => ProviderId::Anthropic,
    refresh_gemini => ProviderId::Gemini,
    refresh_ollama => ProviderId::Ollama,
    refresh_openrouter => ProviderId::OpenRouter,
    refresh_deepseek => ProviderId::DeepSeek,
    refresh_xai => ProviderId::Xai,
    refresh_groq => ProviderId::Groq,
    refresh_mistral => ProviderId::Mistral,
}

#[tokio::test]
async fn fetched_limits_fill_gaps_and_defaults_validate() {
    let mock = MockServer::start().await.unwrap();
    let mut reg = Registry::new();
    for p in [
        ProviderId::Gemini,
        ProviderId::Ollama,
        ProviderId::Anthropic,
    ] {
        let snap = registry::refresh(&client_for(&mock, target(p)), p)
            .await
            .unwrap();
        reg.apply_refresh(p, Ok(snap)).unwrap();
    }
    // The mock's Ollama has qwen3:8b (catalog: qwen3) and llama3.2:latest (catalog: llama3.2).
    let qwen = ModelId::new(ProviderId::Ollama, "qwen3:8b");
    assert_eq!(reg.context_limit(&qwen), Some(40_960));
    let defaults: Vec<(ProviderId, String)> = [
        ProviderId::Gemini,
        ProviderId::Ollama,
        ProviderId::Anthropic,
    ]
    .into_iter()
    .map(|p| (p, crux_llm::catalog::default_model(p).to_owned()))
    .collect();
    assert_eq!(reg.validate_defaults(&defaults, &[]), Vec::new());
}

#[tokio::test]
async fn refresh_each_reports_every_provider() {
    let mock = MockServer::start().await.unwrap();
    let providers = [
        ProviderId::OpenAi,
        ProviderId::Anthropic,
        ProviderId::Gemini,
        ProviderId::Ollama,
    ];
    let mut builder = Client::builder()
        .timeouts(test_timeouts())
        .retry(test_retry());
    for p in providers {
        builder = builder.provider(
            p,
            ProviderConfig {
                base_url: Some(target(p).base_url(&mock)),
                api_key: Some(KEY.into()),
                ..Default::default()
            },
        );
    }
    let client = builder.build().unwrap();
    let mut done: Vec<ProviderId> = tokio::time::timeout(
        Duration::from_secs(20),
        registry::refresh_each(&client, &providers)
            .map(|(p, r)| {
                assert!(r.is_ok(), "{p}: {r:?}");
                p
            })
            .collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    done.sort();
    assert_eq!(done, providers);
}
