//! Embeddings and model listing through `Client` against `crux-mock`, for every provider that offers them.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{Target, client_for};
use crux_llm::{EmbedRequest, ModelId, ProviderId};
use crux_mock::MockServer;

async fn embed(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let req = EmbedRequest {
        model: ModelId::new(t.provider, t.model),
        input: vec!["first text".into(), "second".into()],
        dimensions: Some(4),
    };
    let resp = client.embed(&req).await.unwrap();
    assert_eq!(resp.vectors.len(), 2, "{t:?}");
    assert!(
        resp.vectors.iter().all(|v| v.len() == 4),
        "{t:?}: {:?}",
        resp.vectors
    );
    assert_ne!(resp.vectors[0], resp.vectors[1]);
    assert_eq!(resp.model, t.model);
    t.assert_auth(&mock.requests()[0]);
    let again = client.embed(&req).await.unwrap();
    assert_eq!(resp.vectors, again.vectors, "embeddings are deterministic");
}

async fn list_models(t: Target, expect: &str) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let models = client.list_models(t.provider).await.unwrap();
    assert!(models.iter().any(|m| m.id == expect), "{t:?}: {models:?}");
    assert!(
        models
            .iter()
            .all(|m| m.provider == t.provider.as_str() && !m.id.starts_with("models/"))
    );
    t.assert_auth(&mock.requests()[0]);
}

const fn t(provider: ProviderId, model: &'static str) -> Target {
    Target { provider, model }
}

#[tokio::test]
async fn embed_openai() {
    embed(t(ProviderId::OpenAi, "text-embedding-3-small")).await
}
#[tokio::test]
async fn embed_mistral() {
    embed(t(ProviderId::Mistral, "mistral-embed")).await
}
#[tokio::test]
async fn embed_gemini() {
    embed(t(ProviderId::Gemini, "gemini-embedding-001")).await
}
#[tokio::test]
async fn embed_ollama() {
    embed(t(ProviderId::Ollama, "nomic-embed-text")).await
}

#[tokio::test]
async fn embed_anthropic_is_unsupported() {
    let mock = MockServer::start().await.unwrap();
    let target = t(ProviderId::Anthropic, "claude");
    let req = EmbedRequest {
        model: ModelId::new(target.provider, "claude"),
        input: vec!["x".into()],
        dimensions: None,
    };
    let err = client_for(&mock, target).embed(&req).await.unwrap_err();
    assert_eq!(err.code(), crux_llm::ErrorCode::Unsupported);
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn models_openai() {
    list_models(t(ProviderId::OpenAi, ""), "gpt-4o-mini").await
}
#[tokio::test]
async fn models_anthropic_follows_pages() {
    list_models(t(ProviderId::Anthropic, ""), "claude-3-5-haiku-latest").await
}
#[tokio::test]
async fn models_gemini_follows_pages() {
    list_models(t(ProviderId::Gemini, ""), "gemini-2.0-flash").await
}
#[tokio::test]
async fn models_ollama() {
    list_models(t(ProviderId::Ollama, ""), "llama3.2:latest").await
}
