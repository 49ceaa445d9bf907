//! What every chat dialect shares: admission (auth, name resolution, the caller's limits), one [`ChatCall`] served
//! through the library router, and the accounting of its outcome — exactly once, also when the client leaves.

pub mod anthropic;
mod cached;
pub mod models;
pub mod openai;
pub mod responses;
pub mod stream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;
pub use crux_llm::client::RawRequest;
use crux_llm::{
    CallOptions, ChatRequest, ChatResponse, Error, ModelId, ProviderId, ResolveError, Route,
    RouteFailure, Wire,
};

use crate::accounting::{self, Outcome};
use crate::auth::{Caller, authenticate};
use crate::error::{ApiError, Dialect};
use crate::state::AppState;
pub use stream::Encoder;

/// An authenticated, resolved and admitted request.
#[derive(Debug)]
pub struct Admitted {
    /// Who called.
    pub caller: Caller,
    /// The resolved name and its targets.
    pub route: Route,
    /// When the request arrived.
    pub started: Instant,
    /// The client's session headers.
    pub session: Vec<(&'static str, String)>,
    /// What its `Cache-Control` allows the response cache (`None`: no cache configured).
    pub cache: Option<crate::cache::Policy>,
}

impl Admitted {
    /// The first target (routes always have at least one).
    pub fn first(&self) -> Result<ModelId, ApiError> {
        self.route
            .targets
            .first()
            .cloned()
            .ok_or_else(|| ApiError::not_found("the route has no targets"))
    }
}

/// The provider a bare model name falls back to on each dialect's routes.
fn native_provider(dialect: Dialect) -> Option<ProviderId> {
    match dialect {
        Dialect::OpenAi => Some(ProviderId::OpenAi),
        Dialect::Anthropic => Some(ProviderId::Anthropic),
        Dialect::Native => None,
    }
}

impl From<ResolveError> for ApiError {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::Unknown { .. } => ApiError::not_found(e.to_string()),
            ResolveError::Empty | ResolveError::NeedsProvider(_) => {
                ApiError::bad_request(e.to_string())
            }
        }
    }
}

/// Whether a virtual key with `allowed` models may use `target` of `route`: an allowed alias grants its targets;
/// otherwise the target itself must be listed.
fn permitted(allowed: &[String], route: &Route, target: &ModelId) -> bool {
    let listed = |name: &str| allowed.iter().any(|a| a == name);
    (route.alias && listed(&route.name)) || listed(&target.to_string())
}

/// A key's requests- and tokens-per-minute limits and its budget: exact across instances through Redis
/// (`[scale]`), else (or while Redis is away) the local windows synced from the store.
async fn key_limits(state: &AppState, key: &crate::keys::CachedKey) -> Result<(), ApiError> {
    use crate::limits_shared::{Limit, SharedLimits, Verdict};
    if let Some(shared) = state
        .shared_limits
        .as_ref()
        .filter(|_| SharedLimits::applies(key))
    {
        let why = match shared.admit(key).await {
            Verdict::Admitted => return Ok(()),
            Verdict::Unavailable => None,
            Verdict::Limited(limit, retry_after) => Some((limit, retry_after)),
        };
        if let Some((limit, retry_after)) = why {
            let what = match limit {
                Limit::Rpm => format!(
                    "exceeded its limit of {} requests per minute",
                    key.rpm.unwrap_or(0)
                ),
                Limit::Tpm => format!(
                    "used its limit of {} tokens per minute",
                    key.tpm.unwrap_or(0)
                ),
                Limit::Budget => format!(
                    "has spent its budget of ${:.2}",
                    key.budget_usd.unwrap_or(0.0)
                ),
            };
            return Err(ApiError::rate_limited(
                format!("key '{}' {what} (across instances)", key.name),
                retry_after,
            ));
        }
    }
    state.limiter.local(key)
}

/// Authenticate, resolve the model name and apply the caller's limits.
pub async fn admit(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    model: &str,
    dialect: Dialect,
) -> Result<Admitted, ApiError> {
    // The request's clock starts when it arrived, before its body was read and parsed.
    let started = crate::telemetry::access::arrival().unwrap_or_else(Instant::now);
    let caller = authenticate(state, headers, peer.ip())?;
    let route = state.router.resolve(model, native_provider(dialect))?;
    if let Caller::Virtual(key) = &caller {
        let allowed = key.models.as_deref();
        let any = allowed.is_none_or(|a| route.targets.iter().any(|t| permitted(a, &route, t)));
        crate::limits::Limiter::model(key, &route.name, any)?;
        key_limits(state, key).await?;
    }
    Ok(Admitted {
        caller,
        route,
        started,
        session: session_headers(headers),
        cache: state
            .cache
            .as_ref()
            .map(|_| crate::cache::Policy::of(headers)),
    })
}

/// The caller's body and the headers that carry meaning, for same-wire pass-through (never the caller's auth).
pub fn raw_request(wire: Wire, headers: &HeaderMap, body: bytes::Bytes) -> RawRequest {
    let forwarded = crux_llm::wire::passthrough::FORWARDED_HEADERS
        .iter()
        .filter_map(|name| {
            let v = headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    RawRequest {
        wire,
        body,
        headers: forwarded,
    }
}

/// The target that served a request.
pub(crate) const TARGET: HeaderName = HeaderName::from_static("x-crux-target");

/// Headers that identify a client's session, first the one used as `session_id` in the chat log.
static SESSION_HEADERS: [HeaderName; 6] = [
    HeaderName::from_static("x-claude-code-session-id"),
    HeaderName::from_static("session_id"),
    HeaderName::from_static("x-session-id"),
    HeaderName::from_static("conversation_id"),
    HeaderName::from_static("x-codex-window-id"),
    HeaderName::from_static("x-codex-turn-id"),
];

/// The session headers a request carries (bounded: 200 characters each).
pub fn session_headers(headers: &HeaderMap) -> Vec<(&'static str, String)> {
    SESSION_HEADERS
        .iter()
        .filter_map(|name| {
            let v = headers.get(name)?.to_str().ok()?.trim();
            (!v.is_empty()).then(|| (name.as_str(), crate::head(v, 200).to_owned()))
        })
        .collect()
}

/// One chat request to serve: streamed through `encoder` when given, else answered as `render(response)`.
pub struct ChatCall<R> {
    /// The admitted request.
    pub admitted: Admitted,
    /// The unrouted core request.
    pub req: ChatRequest,
    /// Route label for metrics and logs.
    pub route: &'static str,
    /// The wire the request's passthrough fields came from.
    pub origin: Option<Wire>,
    /// The caller's own body and meaningful headers, for targets on the same wire (sent as is).
    pub raw: Option<RawRequest>,
    /// Streams in this encoding; `None` answers JSON.
    pub encoder: Option<Encoder>,
    /// The JSON body of a non-streamed answer.
    pub render: R,
}

/// An outcome recorded when dropped unrecorded: a non-streamed request whose client left is logged `cancelled`.
struct Pending<'a> {
    state: &'a AppState,
    outcome: Option<Outcome>,
    started: Instant,
}

impl Pending<'_> {
    fn record(&mut self, fill: impl FnOnce(&mut Outcome)) {
        if let Some(mut o) = self.outcome.take() {
            fill(&mut o);
            o.latency = self.started.elapsed();
            accounting::record(self.state, &o);
        }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.record(|o| o.error = Some((Error::Cancelled.code(), Error::Cancelled.to_string())));
    }
}

fn failure(o: &mut Outcome, f: &RouteFailure) -> ApiError {
    let err = api_error(f);
    o.target = Some(f.target().clone());
    o.fallbacks = f.fallbacks();
    o.retries.clone_from(&f.retries);
    o.error = Some((err.code, err.message.clone()));
    err
}

/// The caller-facing error of a failed route: a key's forbidden targets answer 403.
fn api_error(f: &RouteFailure) -> ApiError {
    match f.error().root() {
        Error::Forbidden(message) => ApiError::forbidden(message.clone()),
        e => ApiError::from(e),
    }
}

/// Serve an admitted chat request through the router; the outcome is accounted exactly once.
pub async fn serve_chat<R>(state: Arc<AppState>, call: ChatCall<R>) -> Result<Response, ApiError>
where
    R: FnOnce(&ChatResponse) -> serde_json::Value,
{
    let ChatCall {
        admitted,
        mut req,
        route,
        origin,
        raw,
        encoder,
        render,
    } = call;
    let mut o = Outcome::new(route, &admitted.route.name);
    if let Caller::Virtual(k) = &admitted.caller {
        o.key = Some(std::sync::Arc::clone(k));
    }
    o.request_text = crate::big_body::logged_text(&req);
    o.session.clone_from(&admitted.session);
    let allowed = match &admitted.caller {
        Caller::Virtual(k) => k.models.clone(),
        _ => None,
    };
    let permit = |t: &ModelId| {
        allowed
            .as_deref()
            .is_none_or(|a| permitted(a, &admitted.route, t))
    };
    let opts = CallOptions {
        origin,
        permit: Some(&permit),
        raw: raw.as_ref(),
    };
    let mut pending = Pending {
        state: &state,
        outcome: Some(o),
        started: admitted.started,
    };
    let cache_key = state
        .cache
        .as_ref()
        .filter(|_| admitted.cache != Some(crate::cache::Policy::Bypass))
        .map(|c| c.key(&admitted.route.name, admitted.caller.key_id(), &mut req));
    if let (Some(cache), Some(key)) = (&state.cache, &cache_key)
        && admitted.cache == Some(crate::cache::Policy::Use)
        && let Some(hit) = cache.get(key).await
    {
        return Ok(cached::answer(
            &state,
            hit,
            pending.outcome.take(),
            encoder,
            render,
            admitted.started,
        ));
    }
    if let Some(encoder) = encoder {
        return match state.router.stream(&admitted.route, req, opts).await {
            Ok(routed) => {
                let mut o = pending
                    .outcome
                    .take()
                    .unwrap_or_else(|| Outcome::new(route, ""));
                drop(pending);
                o.pruned = routed.pruned;
                let pruned = routed.pruned;
                let mut resp = stream::response(
                    Arc::clone(&state),
                    routed,
                    encoder,
                    o,
                    admitted.started,
                    cache_key,
                );
                pruned_header(&mut resp, pruned);
                if admitted.cache.is_some() {
                    cached::miss_header(&mut resp);
                }
                Ok(resp)
            }
            Err(f) => {
                let mut err = None;
                pending.record(|o| err = Some(failure(o, &f)));
                Err(err.unwrap_or_else(|| api_error(&f)))
            }
        };
    }
    match state.router.chat(&admitted.route, req, opts).await {
        Ok(served) => {
            let mut resp = match &served.raw {
                Some(bytes) => bytes_response(bytes.clone(), &served.target),
                None => json_response(&render(&served.value), &served.target),
            };
            pruned_header(&mut resp, served.pruned);
            if admitted.cache.is_some() {
                cached::miss_header(&mut resp);
            }
            pending.record(|o| {
                o.target = Some(served.target.clone());
                o.fallbacks = served.fallbacks;
                o.retries = served.retries;
                o.upstream = Some(served.upstream);
                o.usage = served.value.usage;
                o.pruned = served.pruned;
                o.response_text = served.value.text();
            });
            // The answer moves into the cache once it is logged (no copy).
            if let (Some(cache), Some(key)) = (&state.cache, cache_key)
                && served.value.finish != crux_llm::FinishReason::Error
            {
                cache.put(
                    key,
                    crate::cache::Cached {
                        target: served.target,
                        response: served.value,
                    },
                );
            }
            Ok(resp)
        }
        Err(f) => {
            let mut err = None;
            pending.record(|o| err = Some(failure(o, &f)));
            Err(err.unwrap_or_else(|| api_error(&f)))
        }
    }
}

/// `x-crux-pruned: N` when the input guard pruned N messages to make the request fit.
fn pruned_header(resp: &mut Response, pruned: usize) {
    if pruned > 0
        && let Ok(v) = HeaderValue::from_str(&pruned.to_string())
    {
        resp.headers_mut().insert("x-crux-pruned", v);
    }
}

/// A JSON response with the serving target in a header.
pub fn json_response(body: &impl serde::Serialize, target: &ModelId) -> Response {
    bytes_response(serde_json::to_vec(body).unwrap_or_default().into(), target)
}

/// JSON bytes (the upstream's own, when passed through) with the serving target in a header.
pub fn bytes_response(bytes: bytes::Bytes, target: &ModelId) -> Response {
    let mut resp = Response::new(Body::from(bytes));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&target.to_string()) {
        resp.headers_mut().insert(TARGET, v);
    }
    resp
}
