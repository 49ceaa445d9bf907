//! OpenAI Responses routes: `POST /v1/responses` (streamed as typed events or not, to any provider) and
//! `GET /v1/responses/{id}`.
//!
//! A target on the Responses wire gets the caller's body as sent (hosted tools, reasoning items and
//! `previous_response_id` included: the upstream keeps its own state). Every other target is translated (namespace
//! and custom tools as functions, hosted tools left out and named in `x-crux-dropped-tools`); with
//! `store: true` its answer is kept in the store after it was sent (a spawned write, never awaited by the request),
//! and `previous_response_id` is resolved from the store by prepending the stored conversation to the new input —
//! the only store reads on this path, inherent to chaining.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use crux_llm::wire::responses::encode::EventEncoder;
use crux_llm::wire::responses::inbound;
use crux_llm::wire::responses::output::{self, Meta};
use crux_llm::wire::wire_for;
use crux_llm::{ChatResponse, ModelId, Wire};
use crux_store::{Store, StoredResponse};
use ring::rand::SecureRandom;
use serde_json::Value;

use super::{ChatCall, Encoder, admit, raw_request, serve_chat};
use crate::auth::authenticate;
use crate::error::{ApiError, Dialect};
use crate::state::AppState;

const D: Dialect = Dialect::OpenAi;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `resp_` + 48 random hex digits.
fn new_id() -> String {
    let mut bytes = [0u8; 24];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        // The system RNG does not fail on supported platforms; a clock-derived id keeps the request alive.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes[..16].copy_from_slice(&nanos.to_le_bytes());
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("resp_{hex}")
}

/// `POST /v1/responses`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(state, peer, &headers, body)
        .await
        .unwrap_or_else(|e| e.render(D))
}

/// `GET /v1/responses/{id}`: a response kept with `store: true` (only the virtual key that created it may read it).
pub async fn retrieve(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let found = async {
        let caller = authenticate(&state, &headers, peer.ip())?;
        load(&state, &id, caller.key_id()).await
    };
    match found.await {
        Ok(stored) => axum::Json(stored.response).into_response(),
        Err(e) => e.render(D),
    }
}

/// The stored response `id` as `key` may see it (a 404 otherwise, also for another key's response).
async fn load(state: &AppState, id: &str, key: Option<&str>) -> Result<StoredResponse, ApiError> {
    let missing = || ApiError::not_found(format!("Response with id '{id}' not found."));
    let store = state.persistence.store.as_ref().ok_or_else(missing)?;
    let stored = store.get_response(id).await?.ok_or_else(missing)?;
    match key {
        Some(k) if stored.virtual_key_id.as_deref() != Some(k) => Err(missing()),
        _ => Ok(stored),
    }
}

/// Keeps a translated answer after it was sent (`store: true`).
#[derive(Clone)]
struct Saver {
    store: Store,
    input: Vec<Value>,
    key: Option<String>,
}

impl Saver {
    fn save(self, response: &Value) {
        let record = StoredResponse {
            id: response["id"].as_str().unwrap_or_default().to_owned(),
            created_at: response["created_at"].as_i64().unwrap_or_default(),
            model: response["model"].as_str().unwrap_or_default().to_owned(),
            status: response["status"].as_str().unwrap_or_default().to_owned(),
            virtual_key_id: self.key,
            input: Value::Array(self.input),
            response: response.clone(),
        };
        let store = self.store;
        tokio::spawn(async move {
            if let Err(e) = store.put_response(&record).await {
                tracing::warn!(error = %e, id = %record.id, "storing a response failed");
            }
        });
    }
}

/// The hosted tool `tool_choice` demands, and a target of the route that cannot run it.
fn unrunnable<'a>(
    forced: Option<&'a str>,
    targets: &'a [ModelId],
) -> Option<(&'a str, &'a ModelId)> {
    let tool = forced?;
    let target = targets.iter().find(|t| wire_for(t) != Wire::Responses)?;
    Some((tool, target))
}

/// Hosted tools are left out of a translated request (the model simply is not offered them) and named in
/// `x-crux-dropped-tools`, so a client that sends them by default (Codex's `web_search`) works on any provider.
fn note_dropped(resp: &mut Response, hosted: &[String], passed_through: bool) {
    let served_translated = !passed_through
        || resp
            .headers()
            .get("x-crux-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.parse::<ModelId>().ok())
            .is_none_or(|t| wire_for(&t) != Wire::Responses);
    if hosted.is_empty() || !served_translated {
        return;
    }
    let mut names: Vec<&str> = Vec::new();
    for h in hosted {
        if !names.contains(&h.as_str()) {
            names.push(h);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&names.join(", ")) {
        resp.headers_mut().insert("x-crux-dropped-tools", v);
    }
}

async fn respond(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut value: Value = crate::big_body::from_json(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    let name = value
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("Missing required parameter: 'model'."))?
        .to_owned();
    let admitted = admit(&state, headers, peer, &name, D).await?;
    let key = admitted.caller.key_id().map(str::to_owned);
    let same_wire = admitted
        .route
        .targets
        .first()
        .is_some_and(|t| wire_for(t) == Wire::Responses);
    let mut raw = Some(raw_request(Wire::Responses, headers, body));
    let previous = value
        .get("previous_response_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(previous) = previous {
        // A response kept here is continued here (also on a Responses target: the upstream never saw it); an
        // unknown id goes to a Responses target as sent, whose own store may hold it.
        let stored = match load(&state, &previous, key.as_deref()).await {
            Ok(stored) => stored,
            Err(_) if same_wire => return serve(state, admitted, value, raw, key).await,
            Err(_) => {
                return Err(ApiError::bad_request(format!(
                    "Previous response with id '{previous}' not found."
                )));
            }
        };
        let mut items = stored.conversation();
        items.extend(inbound::input_items(&value));
        value["input"] = Value::Array(items);
        raw = None;
    }
    serve(state, admitted, value, raw, key).await
}

/// Translate (or pass through) and serve a request whose chained history is resolved.
async fn serve(
    state: Arc<AppState>,
    admitted: super::Admitted,
    value: Value,
    raw: Option<super::RawRequest>,
    key: Option<String>,
) -> Result<Response, ApiError> {
    let input = inbound::input_items(&value);
    let inb = inbound::to_core(value).map_err(ApiError::bad_request)?;
    if let Some((tool, target)) = unrunnable(inb.forced_hosted.as_deref(), &admitted.route.targets)
    {
        return Err(ApiError::bad_request(format!(
            "tool_choice demands tool '{tool}', which runs only on the OpenAI Responses API; {target} is served \
             over another wire (function, namespace and custom tools are translated)"
        )));
    }
    if let (Some(tool), None) = (inb.forced_hosted.as_deref(), &raw) {
        return Err(ApiError::bad_request(format!(
            "tool_choice demands tool '{tool}', which runs only on the OpenAI Responses API, and that API never \
             saw the previous response kept by this gateway"
        )));
    }
    let hosted = inb.hosted_tools;
    let passed_through = raw.is_some();
    let meta = Meta {
        id: new_id(),
        created_at: unix_now(),
        model: inb.model,
        echo: inb.echo,
        tools: inb.tools,
    };
    let saver = match (&state.persistence.store, inb.store) {
        (Some(store), true) => Some(Saver {
            store: store.clone(),
            input,
            key,
        }),
        _ => None,
    };
    let encoder = inb.stream.then(|| {
        let enc = EventEncoder::new(meta.clone());
        Encoder::Responses(Box::new(match saver.clone() {
            Some(s) => enc.on_complete(Box::new(move |v: &Value| s.save(v))),
            None => enc,
        }))
    });
    let render = move |r: &ChatResponse| {
        let v = output::response(r, &meta);
        if let Some(s) = saver {
            s.save(&v);
        }
        v
    };
    let call = ChatCall {
        admitted,
        req: inb.req,
        route: "responses",
        origin: Some(Wire::Responses),
        raw,
        encoder,
        render,
    };
    let mut resp = serve_chat(state, call).await?;
    note_dropped(&mut resp, &hosted, passed_through);
    Ok(resp)
}
