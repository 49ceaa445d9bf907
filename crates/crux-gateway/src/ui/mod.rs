//! The web console at `/ui`: embedded assets (ETag'd, strict CSP), login with the master key for an HttpOnly
//! SameSite=Strict session cookie, logout, and the middleware that lets a console session call the admin `/api`
//! routes (a CSRF token on every state-changing request). Without a master key the console stays closed.

mod assets;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::auth::{presented_key, same_secret};
use crate::error::{ApiError, Dialect};
use crate::state::AppState;
use session::{COOKIE, CSRF_HEADER, same_token, session_id};

pub use session::Sessions;

/// How long a console session lives.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// Scripts, styles and data only from the gateway itself; no inline code, no frames, no plugins.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn harden(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// `GET /ui`: the console's page (never cached).
pub async fn index() -> Response {
    let mut resp = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        assets::INDEX,
    )
        .into_response();
    harden(&mut resp);
    resp
}

/// `GET /ui/assets/{name}`: a script or stylesheet, revalidated by ETag (`304` when unchanged).
pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(a) = assets::find(&name) else {
        return ApiError::not_found(format!("no console asset {name}")).render(Dialect::Native);
    };
    let etag = a.etag();
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, a.content_type)], a.body).into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    harden(&mut resp);
    resp
}

fn json_no_store(status: StatusCode, v: serde_json::Value) -> Response {
    let mut resp = (status, axum::Json(v)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn cookie(state: &AppState, value: &str, max_age: u64) -> Option<HeaderValue> {
    let secure = if state.config.console_secure_cookie {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// A request another site made the browser send (`Sec-Fetch-Site: cross-site`).
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
}

/// `POST /ui/login` `{"key":"MASTER"}` → the session cookie and `{"ok":true,"csrf":TOKEN}`.
pub async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    struct Body {
        key: String,
    }
    let Some(master) = &state.config.master_key else {
        return ApiError::forbidden(
            "the console needs a master key: set CRUX_MASTER_KEY and restart",
        )
        .render(Dialect::Native);
    };
    if cross_site(&headers) {
        return ApiError::forbidden("cross-site login refused").render(Dialect::Native);
    }
    let Ok(b) = serde_json::from_slice::<Body>(&body) else {
        return ApiError::bad_request("body must be {\"key\": \"…\"}").render(Dialect::Native);
    };
    if !same_secret(b.key.trim(), master.expose_secret()) {
        return ApiError::unauthorized("wrong master key").render(Dialect::Native);
    }
    let Some((id, csrf)) = state.ui_sessions.create(SESSION_TTL) else {
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            crux_llm::ErrorCode::Internal,
            "cannot create a session",
        )
        .render(Dialect::Native);
    };
    let mut resp = json_no_store(StatusCode::OK, json!({"ok": true, "csrf": csrf}));
    if let Some(c) = cookie(&state, &id, SESSION_TTL.as_secs()) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    resp
}

/// `GET /ui/session` → `{"ok":true,"csrf":TOKEN}` for a live session (after a reload), else `401`.
pub async fn current(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match session_id(&headers).and_then(|id| state.ui_sessions.csrf(id)) {
        Some(csrf) => json_no_store(StatusCode::OK, json!({"ok": true, "csrf": csrf})),
        None => ApiError::unauthorized("no console session").render(Dialect::Native),
    }
}

/// `POST /ui/logout` (with the CSRF token): ends the session and clears the cookie.
pub async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(id) = session_id(&headers) else {
        return ApiError::unauthorized("no console session").render(Dialect::Native);
    };
    let Some(csrf) = state.ui_sessions.csrf(id) else {
        return ApiError::unauthorized("no console session").render(Dialect::Native);
    };
    if !csrf_ok(&headers, &csrf) {
        return ApiError::forbidden("missing or wrong CSRF token").render(Dialect::Native);
    }
    state.ui_sessions.remove(id);
    let mut resp = json_no_store(StatusCode::OK, json!({"ok": true}));
    if let Some(c) = cookie(&state, "", 0) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    resp
}

fn csrf_ok(headers: &HeaderMap, csrf: &str) -> bool {
    headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| same_token(v.trim(), csrf))
}

/// Around `/api/*`: a request with no key but a live console session cookie acts as the master key, provided a
/// state-changing method carries the session's CSRF token (`403` otherwise); its answer is never cached. A
/// request that presents a key is left alone, and an unknown or expired cookie changes nothing (so `401`).
pub async fn session_auth(
    state: &AppState,
    mut req: axum::extract::Request,
    next: impl AsyncFnOnce(axum::extract::Request) -> Response,
) -> Response {
    let console = req.uri().path().starts_with("/api/") && presented_key(req.headers()).is_none();
    let csrf = console
        .then(|| session_id(req.headers()).and_then(|id| state.ui_sessions.csrf(id)))
        .flatten();
    let (Some(csrf), Some(master)) = (csrf, &state.config.master_key) else {
        return next(req).await;
    };
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !csrf_ok(req.headers(), &csrf) {
        return ApiError::forbidden("missing or wrong CSRF token").render(Dialect::Native);
    }
    let Ok(mut bearer) = HeaderValue::from_str(&format!("Bearer {}", master.expose_secret()))
    else {
        return next(req).await;
    };
    bearer.set_sensitive(true);
    req.headers_mut().insert(header::AUTHORIZATION, bearer);
    let mut resp = next(req).await;
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
