//! Admin `/api` routes the web console reads: one chat log, the overview time series, and the defaults check of
//! the model registry.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use crux_llm::ProviderId;
use serde::Deserialize;
use serde_json::json;

use crate::api::admin::with_store;
use crate::auth::{authenticate, require_admin};
use crate::error::{ApiError, Dialect};
use crate::state::AppState;

/// `GET /api/logs/{id}`: one chat log with its request, response, usage, latency and error.
pub async fn log(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    with_store(&state, &headers, peer, |store| async move {
        let entry = store
            .chat_log(id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no chat log {id}")))?;
        Ok(json!({"ok": true, "log": entry}))
    })
    .await
}

/// Query of `/api/overview`.
#[derive(Debug, Deserialize)]
pub struct OverviewQuery {
    /// `hour` (60 one-minute buckets, the default) or `day` (96 fifteen-minute buckets).
    window: Option<String>,
}

/// `GET /api/overview?window=hour|day`: per bucket requests, errors, p50/p95 latency and TTFT; per provider and
/// bucket tokens and cost (from `metric_points`, a range on its `ts` index).
pub async fn overview(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<OverviewQuery>,
) -> Response {
    with_store(&state, &headers, peer, |store| async move {
        let (span, bucket) = match q.window.as_deref().unwrap_or("hour") {
            "hour" => (3_600_000, 60_000),
            "day" => (86_400_000, 900_000),
            other => {
                return Err(ApiError::bad_request(format!(
                    "window must be hour or day, not '{other}'"
                )));
            }
        };
        // Buckets aligned to their width, so a refresh does not shift them.
        let until = (crux_store::time::now_ms() / bucket + 1) * bucket;
        let o = store.overview(until - span, until, bucket).await?;
        Ok(json!({"ok": true, "overview": o}))
    })
    .await
}

/// `GET /api/models/validate`: every provider's default model and every `[routes]` target checked against the
/// registry → `{"ok":true,"problems":[{subject, model, severity, message}]}`.
pub async fn validate_models(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) =
        authenticate(&state, &headers, peer.ip()).and_then(|c| require_admin(&state, &c))
    {
        return e.render(Dialect::Native);
    }
    let defaults: Vec<(ProviderId, String)> = ProviderId::all()
        .iter()
        .map(|p| (*p, crux_llm::catalog::default_model(*p).to_owned()))
        .collect();
    let routes: Vec<(String, Vec<String>)> = state
        .config
        .router
        .routes
        .iter()
        .map(|(name, targets)| {
            (
                name.clone(),
                targets.iter().map(ToString::to_string).collect(),
            )
        })
        .collect();
    let problems = match state.router.registry().read() {
        Ok(r) => r.validate_defaults(&defaults, &routes),
        Err(_) => Vec::new(),
    };
    axum::Json(json!({"ok": true, "problems": problems})).into_response()
}
