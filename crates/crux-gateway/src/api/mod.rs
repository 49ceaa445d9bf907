//! The native `/api` routes, kept compatible with the original Python service's shapes (`{"ok":true,…}`).

pub mod admin;
pub mod chat;
pub mod console;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use crux_llm::ProviderId;
use serde_json::json;

use crate::auth::authenticate;
use crate::error::Dialect;
use crate::state::AppState;

/// `GET /api/health`.
pub async fn health() -> Response {
    axum::Json(json!({"ok": true})).into_response()
}

/// `GET /api/providers`: every provider with its display name, wire and circuit-breaker states, and the balanced
/// aliases' deployments.
pub async fn providers(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = authenticate(&state, &headers, peer.ip()) {
        return e.render(Dialect::Native);
    }
    let breakers = state.router.breakers().snapshot();
    let client = state.client();
    let counts: Vec<usize> = state.router.registry().read().map_or_else(
        |_| vec![0; ProviderId::all().len()],
        |r| {
            ProviderId::all()
                .iter()
                .map(|p| r.models(*p).len())
                .collect()
        },
    );
    let mut names: Vec<&str> = ProviderId::all().iter().map(|p| p.as_str()).collect();
    names.sort_unstable();
    // The original's descriptors (`list_providers`, dead code there): id, display_name, aliases, model_count,
    // enabled, metadata — plus the breakers of each provider's models.
    let details: Vec<serde_json::Value> = ProviderId::all()
        .iter()
        .zip(counts)
        .map(|(p, model_count)| {
            let spec = p.spec();
            let prefix = format!("{}/", spec.id);
            let open: Vec<serde_json::Value> = breakers
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, s)| json!({"model": &k[prefix.len()..], "state": s}))
                .collect();
            json!({"id": spec.id, "name": spec.id, "display_name": spec.display_name,
                "aliases": aliases(*p), "model_count": model_count, "enabled": client.has_key(*p),
                "metadata": {"wire": spec.wire}, "wire": spec.wire, "breakers": open})
        })
        .collect();
    // Balanced aliases: each deployment's weight, requests in flight, latency average and remaining cooldown.
    let routes: Vec<serde_json::Value> = state
        .router
        .deployments()
        .into_iter()
        .map(|(name, strategy, deployments)| {
            json!({"name": name, "strategy": strategy, "deployments": deployments})
        })
        .collect();
    axum::Json(json!({"ok": true, "providers": names, "details": details, "routes": routes}))
        .into_response()
}

/// Names a provider is also known by (the original catalog's `aliases`).
fn aliases(p: ProviderId) -> &'static [&'static str] {
    match p {
        ProviderId::OpenAi => &["openai"],
        ProviderId::Anthropic => &["anthropic", "claude"],
        ProviderId::Gemini => &["gemini", "google"],
        ProviderId::Ollama => &["ollama"],
        ProviderId::OpenRouter => &["openrouter"],
        ProviderId::DeepSeek => &["deepseek"],
        ProviderId::Xai => &["xai", "grok"],
        ProviderId::Groq => &["groq"],
        ProviderId::Mistral => &["mistral"],
        _ => std::slice::from_ref(&p.spec().id),
    }
}
