//! Admin `/api` routes (master key only): provider keys, prefs, metrics summary, chat logs, virtual keys.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use crux_llm::{ErrorCode, ProviderId};
use crux_store::{LogFilter, LogStatus, NewVirtualKey, Store, StoreError};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::{authenticate, require_admin};
use crate::error::{ApiError, Dialect};
use crate::state::AppState;
use crate::sync;

const D: Dialect = Dialect::Native;

fn store_error(e: &StoreError) -> ApiError {
    let status = match e.code() {
        ErrorCode::Validation => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, e.code(), e.to_string())
}

/// Admin check plus the store, or the error to answer.
pub(crate) fn admin_store(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Store, ApiError> {
    let caller = authenticate(state, headers, peer.ip())?;
    require_admin(state, &caller)?;
    state.persistence.store.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "this gateway runs without a store",
        )
    })
}

fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        store_error(&e)
    }
}

/// Run an admin handler body with the store; its `Ok` value is the JSON answer, its error rendered natively.
pub(crate) async fn with_store<Fut>(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    body: impl FnOnce(Store) -> Fut,
) -> Response
where
    Fut: std::future::Future<Output = Result<Value, ApiError>>,
{
    let result = match admin_store(state, headers, peer) {
        Ok(store) => body(store).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => ok(v),
        Err(e) => e.render(D),
    }
}

fn body_json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))
}

/// The provider an env-variable name (or alias) belongs to.
fn provider_of_env(name: &str) -> Option<ProviderId> {
    ProviderId::all().into_iter().find(|p| {
        p.spec()
            .key_env
            .iter()
            .any(|k| k.eq_ignore_ascii_case(name.trim()))
    })
}

fn acceptable_key(value: &str) -> bool {
    let v = value.trim();
    !v.is_empty()
        && v.is_ascii()
        && !v.chars().all(|c| c == '*')
        && !v.to_ascii_lowercase().contains("placeholder")
}

/// `GET /api/keys`: which providers have a key (never the values).
pub async fn keys_get(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) =
        authenticate(&state, &headers, peer.ip()).and_then(|c| require_admin(&state, &c))
    {
        return e.render(D);
    }
    let client = state.client();
    let keys: Map<String, Value> = ProviderId::all()
        .into_iter()
        .filter_map(|p| {
            p.spec()
                .key_env
                .first()
                .map(|env| ((*env).to_owned(), json!(client.has_key(p))))
        })
        .collect();
    ok(json!({"ok": true, "keys": keys}))
}

/// `POST /api/keys` `{"keys":{"OPENAI_API_KEY":"…"}}`: encrypt into the vault and use at once (env keys still win).
pub async fn keys_post(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    #[derive(Deserialize)]
    struct Body {
        keys: Map<String, Value>,
    }
    let st = Arc::clone(&state);
    with_store(&state, &headers, peer, |store| async move {
        let body: Body = body_json(&body)?;
        let vault = st.persistence.vault.clone().ok_or_else(|| {
            ApiError::bad_request(
                "no vault key: set CRUX_VAULT_KEY or run `crux keys init`, then restart",
            )
        })?;
        let mut stored = Vec::new();
        for (name, value) in body.keys {
            let (Some(provider), Some(value)) = (provider_of_env(&name), value.as_str()) else {
                continue;
            };
            if !acceptable_key(value) {
                continue;
            }
            let secret = SecretString::from(value.trim().to_owned());
            store.set_provider_key(&vault, provider, &secret).await?;
            if !st.persistence.env_keys.contains(&provider) {
                st.set_client(st.client().with_key(provider, Some(secret)));
            }
            stored.push(name.trim().to_owned());
        }
        Ok(json!({"ok": true, "stored": stored}))
    })
    .await
}

/// Query with a provider.
#[derive(Debug, Deserialize)]
pub struct ProviderQuery {
    provider: Option<String>,
}

/// `DELETE /api/keys?provider=P`.
pub async fn keys_delete(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<ProviderQuery>,
) -> Response {
    let st = Arc::clone(&state);
    with_store(&state, &headers, peer, |store| async move {
        let name = q
            .provider
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        let provider: ProviderId = name
            .ok_or_else(|| ApiError::bad_request("provider is required"))?
            .parse()
            .map_err(|e| ApiError::bad_request(format!("{e}")))?;
        store.remove_provider_key(provider).await?;
        if !st.persistence.env_keys.contains(&provider) {
            st.set_client(st.client().with_key(provider, None));
        }
        Ok(json!({"ok": true, "deleted": provider.as_str()}))
    })
    .await
}

/// `GET /api/prefs`.
pub async fn prefs_get(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    with_store(&state, &headers, peer, |store| async move {
        Ok(json!({"ok": true, "prefs": store.prefs().await?}))
    })
    .await
}

/// `POST /api/prefs` `{"prefs":{…}}`: shallow merge.
pub async fn prefs_post(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    #[derive(Deserialize)]
    struct Body {
        prefs: Map<String, Value>,
    }
    with_store(&state, &headers, peer, |store| async move {
        let body: Body = body_json(&body)?;
        Ok(json!({"ok": true, "prefs": store.merge_prefs(&body.prefs).await?}))
    })
    .await
}

/// Filters of `/api/logs` and `/api/metrics/summary`.
#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    provider: Option<String>,
    model: Option<String>,
    status: Option<String>,
    /// Epoch milliseconds, or a duration such as `30m`, `12h`, `7d`.
    since: Option<String>,
    limit: Option<u32>,
    /// A client session id (`X-Claude-Code-Session-Id`, Codex's session id).
    session: Option<String>,
    /// Only rows before this time: epoch ms or a duration ago, like `since`.
    until: Option<String>,
    /// A virtual key id.
    key: Option<String>,
    /// Keyset cursor `TS_MS:ID` (the `next` of the previous page).
    before: Option<String>,
}

fn cursor(text: &str) -> Result<(i64, i64), ApiError> {
    text.split_once(':')
        .and_then(|(ts, id)| Some((ts.trim().parse().ok()?, id.trim().parse().ok()?)))
        .ok_or_else(|| ApiError::bad_request(format!("invalid before '{text}' (want TS_MS:ID)")))
}

fn since_ms(text: &str) -> Result<i64, ApiError> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let (num, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = num
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid since '{text}'")))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(ApiError::bad_request(format!(
                "invalid since '{text}' (use e.g. 30m, 12h, 7d)"
            )));
        }
    };
    Ok(crux_store::time::now_ms() - secs * 1000)
}

fn filter(q: &LogQuery) -> Result<LogFilter, ApiError> {
    Ok(LogFilter {
        provider: q.provider.clone().filter(|p| !p.trim().is_empty()),
        model: q.model.clone().filter(|m| !m.trim().is_empty()),
        status: match q.status.as_deref() {
            None => None,
            Some("ok") => Some(LogStatus::Ok),
            Some("error") => Some(LogStatus::Error),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "status must be ok or error, not '{other}'"
                )));
            }
        },
        since_ms: q.since.as_deref().map(since_ms).transpose()?,
        limit: q.limit.unwrap_or(100).min(10_000),
        session: q.session.clone().filter(|s| !s.trim().is_empty()),
        until_ms: q.until.as_deref().map(since_ms).transpose()?,
        virtual_key_id: q.key.clone().filter(|k| !k.trim().is_empty()),
        before: q.before.as_deref().map(cursor).transpose()?,
    })
}

/// `GET /api/logs`: newest first, `{"ok":true,"logs":[…],"next":"TS_MS:ID"|null}`; pass `next` as `before`
/// for the following page (keyset paging on the indexes, never `OFFSET`).
pub async fn logs(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LogQuery>,
) -> Response {
    with_store(&state, &headers, peer, |store| async move {
        let (rows, next) = store.chat_log_page(&filter(&q)?).await?;
        let next = next.map(|(ts, id)| format!("{ts}:{id}"));
        Ok(json!({"ok": true, "logs": rows, "next": next}))
    })
    .await
}

/// `GET /api/metrics/summary` `{total, by_provider:[{provider,count,avg_ms}], by_model:[…]}`.
pub async fn metrics_summary(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LogQuery>,
) -> Response {
    with_store(&state, &headers, peer, |store| async move {
        let s = store.metrics_summary(&filter(&q)?).await?;
        Ok(
            json!({"ok": true, "summary": {"total": s.total.count, "by_provider": s.by_provider,
            "by_model": s.by_model, "totals": s.total}}),
        )
    })
    .await
}

/// `GET /api/virtual-keys`.
pub async fn vkeys_get(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    with_store(&state, &headers, peer, |store| async move {
        Ok(json!({"ok": true, "keys": store.list_virtual_keys(true).await?}))
    })
    .await
}

/// `POST /api/virtual-keys` `{name, budget_usd?, rpm?, models?}` → the key (shown once) and its record.
pub async fn vkeys_post(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    #[derive(Deserialize)]
    struct Body {
        name: String,
        #[serde(default)]
        budget_usd: Option<f64>,
        #[serde(default)]
        rpm: Option<u32>,
        #[serde(default)]
        tpm: Option<u32>,
        #[serde(default)]
        models: Option<Vec<String>>,
    }
    let st = Arc::clone(&state);
    with_store(&state, &headers, peer, |store| async move {
        let b: Body = body_json(&body)?;
        let new = NewVirtualKey {
            name: b.name,
            budget_usd: b.budget_usd,
            rpm: b.rpm,
            tpm: b.tpm,
            models: b.models,
        };
        let (key, secret) = store.create_virtual_key(&new).await?;
        let _ = sync::refresh_keys(&st).await;
        Ok(json!({"ok": true, "key": secret.expose_secret(), "virtual_key": key}))
    })
    .await
}

/// Query naming a key.
#[derive(Debug, Deserialize)]
pub struct KeyQuery {
    id: Option<String>,
}

/// `DELETE /api/virtual-keys?id=ID_OR_NAME`: revoke.
pub async fn vkeys_delete(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<KeyQuery>,
) -> Response {
    let st = Arc::clone(&state);
    with_store(&state, &headers, peer, |store| async move {
        let id =
            q.id.filter(|i| !i.trim().is_empty())
                .ok_or_else(|| ApiError::bad_request("id is required"))?;
        let key = store.revoke_virtual_key(&id).await?;
        let _ = sync::refresh_keys(&st).await;
        Ok(json!({"ok": true, "revoked": key}))
    })
    .await
}
