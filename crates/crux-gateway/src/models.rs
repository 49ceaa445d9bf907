//! The models the gateway advertises (`/v1/models`, `/api/models`): route targets and the model registry.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use crux_llm::ProviderId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{authenticate, require_admin};
use crate::error::{ApiError, Dialect};
use crate::state::AppState;

/// Epoch milliseconds as the ISO-8601 text the original service answered.
fn iso(ms: u64) -> String {
    crux_store::time::format_ms(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// `(provider, model)` pairs known to the gateway, sorted and deduplicated.
pub fn known(state: &AppState) -> Vec<(ProviderId, String)> {
    let mut set: BTreeSet<(ProviderId, String)> = BTreeSet::new();
    for targets in state.router.routes().values() {
        set.extend(targets.iter().map(|t| (t.provider, t.model.clone())));
    }
    if let Ok(registry) = state.router.registry().read() {
        for p in ProviderId::all() {
            for e in registry.models(p) {
                set.insert((p, e.id.clone()));
                set.extend(e.aliases.iter().map(|a| (p, a.clone())));
            }
        }
    }
    set.into_iter().collect()
}

/// Query of `GET /api/models`.
#[derive(Debug, Deserialize)]
pub struct ModelsQuery {
    provider: Option<String>,
    #[serde(default)]
    refresh: Option<String>,
}

/// `GET /api/models?provider=P&refresh=1`: the provider's registry snapshot in the original service's shape.
pub async fn api_models(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<ModelsQuery>,
) -> Response {
    const D: Dialect = Dialect::Native;
    let caller = match authenticate(&state, &headers, peer.ip()) {
        Ok(c) => c,
        Err(e) => return e.render(D),
    };
    let Some(name) = q
        .provider
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    else {
        return ApiError::bad_request("provider is required").render(D);
    };
    let provider: ProviderId = match name.parse() {
        Ok(p) => p,
        Err(e) => return ApiError::bad_request(format!("{e}")).render(D),
    };
    let refresh = matches!(q.refresh.as_deref(), Some("1" | "true" | "yes"));
    if refresh {
        // A refresh calls the provider and changes shared state: admins only.
        if let Err(e) = require_admin(&state, &caller) {
            return e.render(D);
        }
        let result = crux_llm::registry::refresh(&state.client(), provider).await;
        let fresh = result.as_ref().ok().cloned();
        if let Ok(mut registry) = state.router.registry().write() {
            let _ = registry.apply_refresh(provider, result);
        }
        if let (Some(snapshot), Some(store)) = (fresh, &state.persistence.store)
            && let Err(e) = crate::sync::save_snapshot(store, &snapshot).await
        {
            tracing::warn!(error = %e, "cannot store the refreshed model snapshot");
        }
    }
    let Ok(registry) = state.router.registry().read() else {
        return ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            crux_llm::ErrorCode::Internal,
            "registry lock",
        )
        .render(D);
    };
    let snapshot = registry.snapshot(provider);
    let models: Vec<Value> = registry
        .models(provider)
        .iter()
        .map(|e| {
            let mut caps = serde_json::to_value(&e.capabilities).unwrap_or_default();
            if let (Value::Object(c), Ok(Value::Object(ide))) = (&mut caps, serde_json::to_value(e.ide)) {
                c.extend(ide);
            }
            // `observed`: capabilities a provider's answers showed, each with the catalog's value (null = unknown).
            json!({"id": e.id, "name": e.name, "family": e.family, "context_length": e.context_window,
                "capabilities": caps, "observed": e.observed, "prices": e.prices,
                "updated_at": snapshot.map(|s| iso(s.fetched_at))})
        })
        .collect();
    let failure = registry.last_failure(provider);
    axum::Json(json!({"ok": true, "snapshot": {
        "provider": provider.as_str(),
        "models": models,
        "fetched_at": snapshot.map(|s| iso(s.fetched_at)),
        "fetched_via": snapshot.map_or("catalog", |s| s.source.as_str()),
        "metadata": {"last_error": failure.map(|f| &f.message)},
    }}))
    .into_response()
}
