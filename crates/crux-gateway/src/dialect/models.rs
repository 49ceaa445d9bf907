//! `GET /v1/models` and `GET /v1/models/{id}`: aliases and the registry's models of providers that have a key, in
//! the OpenAI list shape, or in the Anthropic shape (`type`, `display_name`, `created_at`, paging with `limit`,
//! `after_id`, `before_id`, `has_more`, `first_id`, `last_id`) when the request carries `anthropic-version` — so
//! Claude Code's gateway model discovery works. `{id}` takes bare and `provider/model` ids (`%2F` decoded).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use crux_llm::ProviderId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::authenticate;
use crate::error::{ApiError, Dialect};
use crate::state::AppState;

/// A stable `created` for every listed model (1 Jan 2024): clients cache lists keyed on it.
const CREATED: u64 = 1_704_067_200;
const CREATED_AT: &str = "2024-01-01T00:00:00Z";

/// One advertised model: its id as clients send it and who owns it.
struct Listed {
    id: String,
    owner: &'static str,
    display: String,
}

fn listed(state: &AppState) -> Vec<Listed> {
    let client = state.client();
    let mut out: Vec<Listed> = state
        .router
        .routes()
        .keys()
        .map(|alias| Listed {
            id: alias.clone(),
            owner: "crux",
            display: format!("{alias} (alias)"),
        })
        .collect();
    let names = state.router.registry().read().ok().map(|r| {
        crate::models::known(state)
            .into_iter()
            .map(|(p, m)| {
                let display = r
                    .get(&crux_llm::ModelId::new(p, m.clone()))
                    .map_or_else(|| m.clone(), |e| e.name.clone());
                (p, m, display)
            })
            .collect::<Vec<_>>()
    });
    for (provider, model, display) in names.unwrap_or_default() {
        if client.has_key(provider) {
            out.push(Listed {
                id: format!("{provider}/{model}"),
                owner: owner(provider),
                display,
            });
        }
    }
    out
}

fn owner(p: ProviderId) -> &'static str {
    p.spec().display_name
}

/// The shape to answer in (Anthropic when the request carries `anthropic-version`), once the caller is authenticated.
fn caller_dialect(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Dialect, Box<Response>> {
    let dialect = if headers.contains_key("anthropic-version") {
        Dialect::Anthropic
    } else {
        Dialect::OpenAi
    };
    authenticate(state, headers, peer.ip())
        .map(|_| dialect)
        .map_err(|e| Box::new(e.render(dialect)))
}

fn openai_entry(m: &Listed) -> Value {
    json!({"id": m.id, "object": "model", "created": CREATED, "owned_by": m.owner})
}

fn anthropic_entry(m: &Listed) -> Value {
    json!({"type": "model", "id": m.id, "display_name": m.display, "created_at": CREATED_AT})
}

/// Paging of the Anthropic list.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    limit: Option<usize>,
    after_id: Option<String>,
    before_id: Option<String>,
}

/// `GET /v1/models`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(paging): Query<Paging>,
) -> Response {
    let dialect = match caller_dialect(&state, &headers, peer) {
        Ok(d) => d,
        Err(response) => return *response,
    };
    let all = listed(&state);
    if dialect == Dialect::OpenAi {
        let data: Vec<Value> = all.iter().map(openai_entry).collect();
        return axum::Json(json!({"object": "list", "data": data})).into_response();
    }
    let limit = paging.limit.unwrap_or(20).clamp(1, 1000);
    let position = |id: &str| all.iter().position(|m| m.id == id);
    let (start, end) = match (&paging.after_id, &paging.before_id) {
        (Some(after), _) => {
            let s = position(after).map_or(all.len(), |i| i + 1);
            (s, (s + limit).min(all.len()))
        }
        (None, Some(before)) => {
            let e = position(before).unwrap_or(0);
            (e.saturating_sub(limit), e)
        }
        (None, None) => (0, limit.min(all.len())),
    };
    let page = &all[start..end];
    let data: Vec<Value> = page.iter().map(anthropic_entry).collect();
    axum::Json(json!({
        "data": data,
        "has_more": end < all.len(),
        "first_id": page.first().map(|m| m.id.clone()),
        "last_id": page.last().map(|m| m.id.clone()),
    }))
    .into_response()
}

/// `GET /v1/models/{id}`: a bare id matches an alias or the one `provider/model` that ends with it.
pub async fn retrieve(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let dialect = match caller_dialect(&state, &headers, peer) {
        Ok(d) => d,
        Err(response) => return *response,
    };
    let id = id.replace("%2F", "/").replace("%2f", "/");
    let all = listed(&state);
    let found = all.iter().find(|m| m.id == id).or_else(|| {
        let mut bare = all
            .iter()
            .filter(|m| m.id.split_once('/').is_some_and(|(_, rest)| rest == id));
        match (bare.next(), bare.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    });
    match found {
        Some(m) if dialect == Dialect::Anthropic => axum::Json(anthropic_entry(m)).into_response(),
        Some(m) => axum::Json(openai_entry(m)).into_response(),
        None => ApiError::not_found(format!("model '{id}' not found")).render(dialect),
    }
}
