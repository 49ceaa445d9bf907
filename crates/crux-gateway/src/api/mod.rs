//! The native `/api` routes, kept compatible with the original Python service's shapes (`{"ok":true,…}`).

pub mod admin;
pub mod chat;

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

/// `GET /api/providers`: every provider with its display name, wire and circuit-breaker states.
pub async fn providers(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = authenticate(&state, &headers, peer.ip()) {
        return e.render(Dialect::Native);
    }
    let breakers = state.router.breakers().snapshot();
    let providers: Vec<serde_json::Value> = ProviderId::ALL
        .iter()
        .map(|p| {
            let spec = p.spec();
            let prefix = format!("{}/", spec.id);
            let open: Vec<serde_json::Value> = breakers
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, s)| json!({"model": &k[prefix.len()..], "state": s}))
                .collect();
            json!({"id": spec.id, "name": spec.id, "display_name": spec.display_name,
                "wire": spec.wire, "breakers": open})
        })
        .collect();
    axum::Json(json!({"ok": true, "providers": providers})).into_response()
}
