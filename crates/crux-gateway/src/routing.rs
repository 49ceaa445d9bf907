//! Model-name resolution and execution over ordered targets: circuit breakers, fallback, and the stream peek
//! (failures before the first content event fall back; after it, the stream is committed).

use std::borrow::Cow;
use std::time::{Duration, Instant};

use crux_llm::breaker::Admission;
use crux_llm::{
    ChatRequest, ChatResponse, ChatStream, Error, ErrorCode, ModelId, ProviderId, StreamEvent, Wire,
};
use futures_util::StreamExt;

use crate::error::{ApiError, Dialect};
use crate::state::AppState;

/// Resolve the name a caller sent into the targets to try, in order.
pub fn resolve(state: &AppState, name: &str, dialect: Dialect) -> Result<Vec<ModelId>, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("'model' is required"));
    }
    if let Some(targets) = state.config.routes.get(name) {
        return Ok(targets.clone());
    }
    if let Some((first, rest)) = name.split_once('/') {
        return match first.parse::<ProviderId>() {
            Ok(p) if !rest.trim().is_empty() => Ok(vec![ModelId::new(p, rest)]),
            _ => Err(ApiError::not_found(format!(
                "unknown model '{name}': use PROVIDER/MODEL with a provider of {}{}",
                ProviderId::list(),
                aliases_hint(state)
            ))),
        };
    }
    let offering = state
        .registry
        .read()
        .map(|r| r.providers_offering(name))
        .unwrap_or_default();
    if let [only] = offering.as_slice() {
        return Ok(vec![ModelId::new(*only, name)]);
    }
    let native = match dialect {
        Dialect::OpenAi => ProviderId::OpenAi,
        Dialect::Anthropic => ProviderId::Anthropic,
        Dialect::Native => {
            return Err(ApiError::bad_request(format!(
                "model '{name}' needs a provider"
            )));
        }
    };
    Ok(vec![ModelId::new(native, name)])
}

fn aliases_hint(state: &AppState) -> String {
    if state.config.routes.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = state.config.routes.keys().map(String::as_str).collect();
        format!(", or an alias: {}", names.join(", "))
    }
}

/// The request as sent to `target`: provider-specific passthrough fields only survive within one wire family.
fn for_target<'a>(
    req: &'a ChatRequest,
    target: &ModelId,
    dialect: Dialect,
) -> Cow<'a, ChatRequest> {
    let same_family = matches!(
        (dialect, target.provider.spec().wire),
        (Dialect::OpenAi, Wire::OpenAi | Wire::Responses)
            | (Dialect::Anthropic, Wire::Anthropic)
            | (Dialect::Native, _)
    );
    // The common case (first target, nothing to strip) sends the request as parsed: no copy on the hot path.
    if req.model == *target && (same_family || req.extra.is_empty()) {
        return Cow::Borrowed(req);
    }
    let mut r = req.clone();
    r.model = target.clone();
    if !same_family {
        r.extra.clear();
    }
    Cow::Owned(r)
}

/// Failures that say something about the upstream's health (they feed the breaker).
fn is_upstream_failure(e: &Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::Transient
            | ErrorCode::ServerError
            | ErrorCode::Timeout
            | ErrorCode::Unavailable
            | ErrorCode::Overloaded
            | ErrorCode::RateLimit
            | ErrorCode::Unknown
    )
}

/// Failures another target might not have: everything except a bad request or a cancelled call.
fn should_fall_back(e: &Error) -> bool {
    !matches!(
        e.code(),
        ErrorCode::Validation | ErrorCode::TooLarge | ErrorCode::Cancelled | ErrorCode::Unsupported
    ) || matches!(e.root(), Error::Config(_))
}

/// The input guard for one target. Exact counting runs only when the text could possibly exceed the budget (a token
/// is at least one byte), so ordinary requests pay nothing; the BPE tables (tens of MB) load on a blocking thread the
/// first time a large prompt needs them, which keeps an idle gateway's memory small.
async fn guard(state: &AppState, req: &ChatRequest) -> Result<(), Error> {
    let rule = state.config.guard.rule_for(&req.model);
    if rule.enabled == Some(false) {
        return Ok(());
    }
    let bytes: usize = req
        .messages
        .iter()
        .flat_map(|m| &m.content)
        .map(|p| match p {
            crux_llm::Part::Text { text }
            | crux_llm::Part::Reasoning { text, .. }
            | crux_llm::Part::Refusal { text } => text.len(),
            crux_llm::Part::Image { .. } => 4096,
        })
        .sum::<usize>()
        + 16 * req.messages.len();
    let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
    let limit = state
        .registry
        .read()
        .ok()
        .and_then(|r| r.context_limit(&req.model))
        .unwrap_or(u64::MAX);
    let reserve = u64::from(req.max_tokens.unwrap_or(0));
    if bytes.saturating_add(reserve) <= limit && bytes <= rule.max_input_tokens.unwrap_or(u64::MAX)
    {
        return Ok(());
    }
    if !crux_llm::context::tokens::is_loaded(&req.model.model) {
        let model = req.model.model.clone();
        let _ =
            tokio::task::spawn_blocking(move || crux_llm::context::tokens::preload(&model)).await;
    }
    let Ok(registry) = state.registry.read() else {
        return Ok(());
    };
    crux_llm::context::check_input(req, &registry, &state.config.guard).map(|_| ())
}

fn breaker_open(target: &ModelId) -> Error {
    Error::InBand {
        provider: target.provider,
        code: ErrorCode::Unavailable,
        message: format!("circuit breaker open for {target}: failing fast"),
    }
}

/// A served non-streamed answer.
#[derive(Debug)]
pub struct Served {
    /// The answer.
    pub response: ChatResponse,
    /// Who served it.
    pub target: ModelId,
    /// Targets skipped.
    pub fallbacks: u32,
    /// Time spent waiting on the serving upstream.
    pub upstream: Duration,
}

/// A failure after trying every target.
#[derive(Debug)]
pub struct Failed {
    /// The last error.
    pub error: Error,
    /// The last target tried.
    pub target: Option<ModelId>,
    /// Targets skipped.
    pub fallbacks: u32,
}

/// Send a non-streamed request, falling back through `targets`.
pub async fn chat(
    state: &AppState,
    targets: &[ModelId],
    req: &ChatRequest,
    dialect: Dialect,
) -> Result<Served, Failed> {
    let mut last: Option<(Error, ModelId)> = None;
    for (i, target) in targets.iter().enumerate() {
        let key = target.to_string();
        if state.breakers.admit(&key) == Admission::Rejected {
            last = Some((breaker_open(target), target.clone()));
            continue;
        }
        let started = Instant::now();
        let prepared = for_target(req, target, dialect);
        if let Err(e) = guard(state, &prepared).await {
            last = Some((e, target.clone()));
            continue;
        }
        match state.client().chat(&prepared).await {
            Ok(response) => {
                state.breakers.record(&key, true);
                return Ok(Served {
                    response,
                    target: target.clone(),
                    fallbacks: count(i),
                    upstream: started.elapsed(),
                });
            }
            Err(e) => {
                state.breakers.record(&key, !is_upstream_failure(&e));
                let fall_back = should_fall_back(&e);
                last = Some((e, target.clone()));
                if !fall_back {
                    break;
                }
            }
        }
    }
    Err(failed(last, targets.len()))
}

fn count(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

fn failed(last: Option<(Error, ModelId)>, tried: usize) -> Failed {
    match last {
        Some((error, target)) => Failed {
            error,
            target: Some(target),
            fallbacks: count(tried.saturating_sub(1)),
        },
        None => Failed {
            error: Error::Config("no route targets".into()),
            target: None,
            fallbacks: 0,
        },
    }
}

/// A stream that produced its first content (or finished) and is now committed to one target.
#[derive(Debug)]
pub struct Peeked {
    /// Events read while peeking, to send first.
    pub buffered: Vec<Result<StreamEvent, Error>>,
    /// The rest of the stream.
    pub stream: ChatStream,
    /// Who serves it.
    pub target: ModelId,
    /// Targets skipped.
    pub fallbacks: u32,
}

fn is_commit_point(ev: &StreamEvent) -> bool {
    matches!(
        ev,
        StreamEvent::TextDelta { .. }
            | StreamEvent::ReasoningDelta { .. }
            | StreamEvent::ToolCallDelta { .. }
            | StreamEvent::Finish { .. }
    )
}

/// Open a stream, falling back through `targets` until one yields content.
pub async fn open_stream(
    state: &AppState,
    targets: &[ModelId],
    req: &ChatRequest,
    dialect: Dialect,
) -> Result<Peeked, Failed> {
    let mut last: Option<(Error, ModelId)> = None;
    'targets: for (i, target) in targets.iter().enumerate() {
        let key = target.to_string();
        if state.breakers.admit(&key) == Admission::Rejected {
            last = Some((breaker_open(target), target.clone()));
            continue;
        }
        let prepared = for_target(req, target, dialect);
        if let Err(e) = guard(state, &prepared).await {
            last = Some((e, target.clone()));
            continue;
        }
        let mut stream = state.client().chat_stream(&prepared);
        let mut buffered = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(ev) => {
                    let commit = is_commit_point(&ev);
                    buffered.push(Ok(ev));
                    if commit {
                        state.breakers.record(&key, true);
                        return Ok(Peeked {
                            buffered,
                            stream,
                            target: target.clone(),
                            fallbacks: count(i),
                        });
                    }
                }
                Err(e) => {
                    state.breakers.record(&key, !is_upstream_failure(&e));
                    let fall_back = should_fall_back(&e);
                    last = Some((e, target.clone()));
                    if fall_back {
                        continue 'targets;
                    }
                    break 'targets;
                }
            }
        }
    }
    Err(failed(last, targets.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GatewayConfig;

    fn state(routes: &[(&str, &[&str])]) -> std::sync::Arc<AppState> {
        let mut config = GatewayConfig::default();
        for (alias, targets) in routes {
            config.routes.insert(
                (*alias).into(),
                targets.iter().map(|t| t.parse().unwrap()).collect(),
            );
        }
        AppState::new(crux_llm::Client::builder().build().unwrap(), config)
    }

    #[test]
    fn resolution_order() {
        let s = state(&[(
            "smart",
            &["openai/gpt-4o", "anthropic/claude-3-5-sonnet-latest"],
        )]);
        assert_eq!(resolve(&s, "smart", Dialect::OpenAi).unwrap().len(), 2);
        assert_eq!(
            resolve(&s, "groq/llama-3.3-70b-versatile", Dialect::Anthropic).unwrap()[0].provider,
            ProviderId::Groq
        );
        let or = resolve(
            &s,
            "openrouter/meta-llama/llama-3.1-8b-instruct",
            Dialect::OpenAi,
        )
        .unwrap();
        assert_eq!(or[0].model, "meta-llama/llama-3.1-8b-instruct");
        assert_eq!(
            resolve(&s, "claude-sonnet-4-5", Dialect::Anthropic).unwrap()[0].provider,
            ProviderId::Anthropic
        );
        assert_eq!(
            resolve(&s, "gpt-4o-mini", Dialect::OpenAi).unwrap()[0].provider,
            ProviderId::OpenAi
        );
        let e = resolve(&s, "nope/model", Dialect::OpenAi).unwrap_err();
        assert_eq!(e.status, 404);
        assert!(
            e.message.contains("mistral") && e.message.contains("smart"),
            "{}",
            e.message
        );
    }

    #[test]
    fn extra_fields_stay_within_a_wire_family() {
        let mut req = ChatRequest::new("openai/gpt-4o".parse().unwrap(), vec![]);
        req.extra
            .insert("parallel_tool_calls".into(), serde_json::json!(false));
        let anthropic: ModelId = "anthropic/claude".parse().unwrap();
        assert!(
            for_target(&req, &anthropic, Dialect::OpenAi)
                .extra
                .is_empty()
        );
        let groq: ModelId = "groq/llama".parse().unwrap();
        assert_eq!(for_target(&req, &groq, Dialect::OpenAi).extra.len(), 1);
    }
}
