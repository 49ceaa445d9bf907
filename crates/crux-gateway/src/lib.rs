//! `crux-gateway`: OpenAI- and Anthropic-compatible HTTP APIs over every provider, with auth, limits, routing,
//! fallback, circuit breakers and metrics. Built by [`build_router`], run by [`serve`].

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod accounting;
pub mod api;
pub mod auth;
mod big_body;
mod body_budget;
pub mod cache;
pub mod config;
pub mod dialect;
pub mod error;
mod head_error;
pub mod keys;
pub mod limits;
pub mod limits_shared;
pub mod models;
mod redis_link;
mod server;
mod server_body;
pub mod state;
pub mod sync;
pub mod telemetry;
pub mod ui;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

pub use config::GatewayConfig;
pub use state::AppState;

use crate::error::{ApiError, Dialect};

/// Every route of the gateway.
pub fn build_router(state: Arc<AppState>) -> Router {
    let limit = state.config.body_limit;
    let cors = cors_layer(&state.config.cors_origins);
    Router::new()
        .route(
            "/v1/chat/completions",
            post(dialect::openai::chat_completions),
        )
        .route("/v1/embeddings", post(dialect::openai::embeddings))
        .route("/v1/models", get(dialect::models::list))
        .route("/v1/models/{*id}", get(dialect::models::retrieve))
        .route("/v1/messages", post(dialect::anthropic::messages))
        .route(
            "/v1/messages/count_tokens",
            post(dialect::anthropic::count_tokens),
        )
        .route("/v1/responses", post(dialect::responses::create))
        .route("/v1/responses/{id}", get(dialect::responses::retrieve))
        .route("/api/health", get(api::health))
        .route("/api/providers", get(api::providers))
        .route("/api/models", get(models::api_models))
        .route("/api/chat", post(api::chat::chat))
        .route(
            "/api/keys",
            get(api::admin::keys_get)
                .post(api::admin::keys_post)
                .delete(api::admin::keys_delete),
        )
        .route(
            "/api/prefs",
            get(api::admin::prefs_get).post(api::admin::prefs_post),
        )
        .route("/api/metrics/summary", get(api::admin::metrics_summary))
        .route("/api/logs", get(api::admin::logs))
        .route("/api/logs/{id}", get(api::console::log))
        .route("/api/overview", get(api::console::overview))
        .route("/api/models/validate", get(api::console::validate_models))
        .route("/ui", get(ui::index))
        .route("/ui/", get(ui::index))
        .route("/ui/assets/{name}", get(ui::asset))
        .route("/ui/login", post(ui::login))
        .route("/ui/logout", post(ui::logout))
        .route("/ui/session", get(ui::current))
        .route(
            "/api/virtual-keys",
            get(api::admin::vkeys_get)
                .post(api::admin::vkeys_post)
                .delete(api::admin::vkeys_delete),
        )
        .route("/api/chat/stream", post(api::chat::chat_stream))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            front,
        ))
        .layer(cors)
        .with_state(state)
}

/// CORS for browser apps on the configured origins (the original service's defaults: the local dev server), with
/// credentials; preflights echo the requested methods and headers. No origins: no CORS headers at all.
fn cors_layer(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
        .collect();
    if list.is_empty() {
        return CorsLayer::new();
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(list))
        .allow_methods(AllowMethods::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .allow_credentials(true)
        .expose_headers([
            axum::http::HeaderName::from_static("x-crux-target"),
            axum::http::HeaderName::from_static("x-request-id"),
        ])
}

async fn health() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

/// Readiness answers within a second even when the store cannot hand out a connection. With `[scale]`, it also says
/// whether Redis holds the limits (`"limits": "redis"`) or the gateway is serving on its local ones (`"local"`, still
/// ready: Redis going away degrades limits, it does not stop traffic).
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let mut body = serde_json::json!({"status": "ready"});
    if let Some(shared) = &state.shared_limits {
        let up = shared.is_up();
        body["redis"] = if up { "up" } else { "down" }.into();
        body["limits"] = if up { "redis" } else { "local" }.into();
    }
    match &state.persistence.store {
        Some(store) => match store.ping_within(std::time::Duration::from_secs(1)).await {
            Ok(()) => {
                body["store"] = store.backend().as_str().into();
                axum::Json(body).into_response()
            }
            Err(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable", "error": e.to_string()})),
            )
                .into_response(),
        },
        None => {
            body["store"] = "none".into();
            axum::Json(body).into_response()
        }
    }
}

async fn metrics(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
) -> Response {
    if !state.config.prometheus {
        return ApiError::not_found("metrics are disabled ([telemetry] prometheus = false)")
            .render(Dialect::OpenAi);
    }
    if let Err(e) = auth::metrics_access(&state, &headers, peer.ip()) {
        return e.render(Dialect::OpenAi);
    }
    // Live values are read at scrape time, so an idle gateway reports an empty queue.
    state.refresh_live_metrics();
    let mut resp = state.telemetry.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}

/// What runs around every route, outermost first, in one layer (each `from_fn` layer costs a boxed future and a
/// clone of the route per request): the access layer (request id, span, in-flight gauge, `x-crux-overhead-ms`, the
/// access line), axum's body-limit rejection in the caller's dialect, a console session's admin auth, and the
/// large-body gate.
async fn front(
    State(state): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let state = &*state;
    telemetry::access::serve(&state.telemetry, req, async |req| {
        let dialect = dialect_of(req.uri().path());
        let resp = ui::session_auth(state, req, async |req| {
            big_body::gate(state, req, async |req| next.run(req).await).await
        })
        .await;
        too_large_in_dialect(resp, dialect)
    })
    .await
}

async fn not_found(uri: axum::http::Uri) -> Response {
    let dialect = dialect_of(uri.path());
    ApiError::not_found(format!("no route for {}", uri.path())).render(dialect)
}

/// The first `chars` characters of `s` (a bounded copy for logs and labels, without copying char by char).
pub(crate) fn head(s: &str, chars: usize) -> &str {
    s.char_indices().nth(chars).map_or(s, |(i, _)| &s[..i])
}

/// The dialect a path speaks.
fn dialect_of(path: &str) -> Dialect {
    if path.starts_with("/api/") {
        Dialect::Native
    } else if path == "/v1/messages" || path.starts_with("/v1/messages/") {
        Dialect::Anthropic
    } else {
        Dialect::OpenAi
    }
}

/// axum's body-limit rejection is plain text; answer it in the caller's dialect instead.
fn too_large_in_dialect(resp: Response, dialect: Dialect) -> Response {
    if resp.status() != StatusCode::PAYLOAD_TOO_LARGE
        || resp
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
    {
        return resp;
    }
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        crux_llm::ErrorCode::TooLarge,
        "request body is too large",
    )
    .render(dialect)
}

/// Serve until `shutdown` resolves, then stop accepting and let in-flight requests finish.
///
/// HTTP/1.1 with connection limits from [`GatewayConfig`]: a client that has not sent a complete request
/// head within `header_timeout` is disconnected without an answer; a body not received within
/// `body_timeout` gets `408` (`code: "timeout"`, in the caller's dialect) and `Connection: close`; an
/// idle kept-alive connection is closed after `idle_timeout`; a head over `max_header_bytes` gets `431`
/// and the connection is closed. Beyond `max_connections` a new connection is accepted and answered at
/// once with `503` (an OpenAI-shaped JSON error, `code: "overloaded"`, `Retry-After: 1`) and
/// `Connection: close`, from a task of its own so the accept loop never waits; if a burst of such
/// refusals is already under way, further connections are closed without an answer. Accepted sockets
/// get TCP_NODELAY, and handlers can extract `ConnectInfo<SocketAddr>`. On `shutdown`, idle connections
/// close at once and in-flight requests (long streams included) run to their end.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = server::Limits::of(&state.config);
    server::run(listener, build_router(state), limits, shutdown).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn head_counts_characters_not_bytes() {
        assert_eq!(super::head("abc", 5), "abc");
        assert_eq!(super::head("abc", 3), "abc");
        assert_eq!(super::head("abc", 2), "ab");
        assert_eq!(super::head("äöü", 2), "äö");
        assert_eq!(super::head("ab", 0), "");
        assert_eq!(super::head("", 3), "");
    }
}
