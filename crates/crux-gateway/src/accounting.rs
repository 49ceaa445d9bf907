//! Accounting for one finished request, done exactly once per request: the virtual key's spend, the chat log
//! (through the write queue) and the metric series. Handlers fill an [`Outcome`]; [`record`] does the rest.

use std::time::Duration;

use crux_llm::{ErrorCode, ModelId, ProviderId, Usage};
use crux_store::{ChatLog, LogStatus, Record};

use crate::state::AppState;
use crate::telemetry::access::{self, Finalize};
use crate::telemetry::catalog;

/// Account for one finished request: spend, chat log, metrics.
pub fn record(state: &AppState, o: &Outcome) {
    // A cached answer cost nothing upstream.
    let cost = if o.cached {
        Some(0.0)
    } else {
        o.target.as_ref().and_then(|t| state.cost(t, &o.usage))
    };
    key_usage(state, o, cost);
    if let Some(log) = &state.persistence.log {
        log.try_enqueue(Record::ChatLog(Box::new(chat_log(o, cost))));
    }
    metrics(state, o, cost);
    finalize(o, cost);
}

/// Count the request's cost and tokens against its virtual key: its spend in memory now and in the store through
/// the queue, its tokens-per-minute window, and on Redis (`[scale]`) both, off the request path.
fn key_usage(state: &AppState, o: &Outcome, cost: Option<f64>) {
    let Some(key) = &o.key else {
        return;
    };
    if let Some(usd) = cost {
        state.limiter.add_spend(&key.id, usd);
        if let Some(log) = &state.persistence.log {
            log.try_enqueue(Record::Spend {
                virtual_key_id: key.id.clone(),
                usd,
            });
        }
    }
    let tokens = o.usage.tokens();
    if key.tpm.is_some() && tokens > 0 {
        state.limiter.add_tokens(&key.id, tokens);
    }
    if let Some(shared) = &state.shared_limits
        && crate::limits_shared::SharedLimits::applies(key)
    {
        let (shared, key, usd) = (
            std::sync::Arc::clone(shared),
            std::sync::Arc::clone(key),
            cost.unwrap_or(0.0),
        );
        tokio::spawn(async move { shared.record(&key, tokens, usd).await });
    }
}

/// Label value of a model: the served or resolved model, or `other` for a failure whose name the upstream did
/// not know (so a caller cannot grow the label set with made-up names).
fn model_label(o: &Outcome) -> &str {
    let unknown = matches!(
        o.error.as_ref().map(|(c, _)| *c),
        Some(ErrorCode::NotFound | ErrorCode::Validation)
    );
    match &o.target {
        Some(t) if !unknown => t.model.as_str(),
        _ => "other",
    }
}

/// The metric series of one request, into the gateway's recorder (no shared lock: the recorder shards). The
/// handles every request records are cached per series on the worker thread ([`crate::telemetry::series`]); the
/// rare ones (errors, retries, fallbacks, cache results) go through the macros.
fn metrics(state: &AppState, o: &Outcome, cost: Option<f64>) {
    let t = &state.telemetry;
    let provider = o.target.as_ref().map_or("none", |t| t.provider.as_str());
    let model = model_label(o);
    let route = o.route;
    let status = if o.error.is_none() { "ok" } else { "error" };
    let s = t.series(provider, model, route, status);
    s.requests
        .get_or_init(|| {
            t.record(|| {
                metrics::counter!(catalog::REQUESTS, "provider" => provider,
                    "model" => model.to_owned(), "route" => route, "status" => status)
            })
        })
        .increment(1);
    s.duration
        .get_or_init(|| {
            t.record(|| metrics::histogram!(catalog::REQUEST_DURATION, "route" => route))
        })
        .record(o.latency);
    // The overhead histogram is the access layer's (it sees the request from its arrival to its answer).
    if let Some(up) = o.upstream {
        s.upstream
            .get_or_init(|| {
                t.record(|| metrics::histogram!(catalog::UPSTREAM_DURATION, "provider" => provider))
            })
            .record(up);
    }
    if let Some(ttft) = o.ttft {
        s.ttft
            .get_or_init(|| t.record(|| metrics::histogram!(catalog::TTFT, "provider" => provider)))
            .record(ttft);
        if let Some(n) = o.usage.completion.filter(|n| *n > 1) {
            #[allow(clippy::cast_precision_loss)]
            let per = o.latency.saturating_sub(ttft).as_secs_f64() / (n - 1) as f64;
            s.tpot
                .get_or_init(|| {
                    t.record(|| metrics::histogram!(catalog::TPOT, "provider" => provider))
                })
                .record(per);
        }
    }
    let kinds = [
        ("prompt", o.usage.prompt),
        ("completion", o.usage.completion),
        ("cached", o.usage.cached_prompt),
    ];
    for ((kind, n), cell) in kinds.into_iter().zip(&s.tokens) {
        if let Some(n) = n.filter(|n| *n > 0) {
            cell.get_or_init(|| {
                t.record(|| {
                    metrics::counter!(catalog::TOKENS, "kind" => kind,
                        "provider" => provider, "model" => model.to_owned())
                })
            })
            .increment(n);
        }
    }
    if let Some(usd) = cost.filter(|c| *c > 0.0) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let micros = (usd * 1e6).round() as u64;
        s.cost
            .get_or_init(|| {
                t.record(|| {
                    metrics::counter!(catalog::COST, "provider" => provider,
                        "model" => model.to_owned())
                })
            })
            .increment(micros);
    }
    t.record(|| {
        if let Some((code, _)) = &o.error {
            metrics::counter!(catalog::ERRORS, "provider" => provider, "route" => route,
                "code" => code.as_str())
            .increment(1);
        }
        for (p, cause) in &o.retries {
            metrics::counter!(catalog::RETRIES, "provider" => p.as_str(), "reason" => cause.as_str())
                .increment(1);
        }
        if o.fallbacks > 0 {
            metrics::counter!(catalog::FALLBACKS).increment(u64::from(o.fallbacks));
        }
        if state.cache.is_some() && o.error.is_none() {
            let result = if o.cached { "hit" } else { "miss" };
            metrics::counter!(catalog::CACHE, "result" => result).increment(1);
        }
    });
}

/// Hand the outcome to the access layer (the request's log line and span).
fn finalize(o: &Outcome, cost: Option<f64>) {
    access::note(Finalize {
        route: o.route,
        operation: if o.route == "embeddings" {
            "embeddings"
        } else {
            "chat"
        },
        model: crate::head(&o.model_name, 128).to_owned(),
        provider: o.target.as_ref().map(|t| t.provider.as_str()),
        target: o.target.as_ref().map(ToString::to_string),
        error_code: o.error.as_ref().map(|(c, _)| c.as_str()),
        latency: o.latency,
        upstream: o.upstream,
        ttft: o.ttft,
        prompt_tokens: o.usage.prompt,
        completion_tokens: o.usage.completion,
        cost_usd: cost,
        fallbacks: o.fallbacks,
        retries: o.retries.len(),
        streamed: o.streamed,
    });
}

/// What happened to one request, for metrics and the chat log.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Route label (`chat_completions`, `messages`, `api_chat`, `api_chat_stream`, `embeddings`).
    pub route: &'static str,
    /// The model name the caller sent.
    pub model_name: String,
    /// The target that served (or last failed).
    pub target: Option<ModelId>,
    /// Streamed response.
    pub streamed: bool,
    /// Wall time in the gateway.
    pub latency: Duration,
    /// Time waiting on the upstream.
    pub upstream: Option<Duration>,
    /// Time to first streamed token.
    pub ttft: Option<Duration>,
    /// Usage.
    pub usage: Usage,
    /// Failure code and message, if it failed.
    pub error: Option<(ErrorCode, String)>,
    /// Targets skipped before the one that served.
    pub fallbacks: u32,
    /// Retries on the way, with the provider and the failure that caused each.
    pub retries: Vec<(ProviderId, ErrorCode)>,
    /// The virtual key, with its limits (its tokens and spend count against them).
    pub key: Option<std::sync::Arc<crate::keys::CachedKey>>,
    /// Last user message (for the chat log).
    pub request_text: String,
    /// Answer text (for the chat log).
    pub response_text: String,
    /// Client session headers (`x-claude-code-session-id`, Codex's `session_id`/window/turn ids), as sent.
    pub session: Vec<(&'static str, String)>,
    /// Messages the input guard pruned before sending.
    pub pruned: usize,
    /// Answered from the response cache.
    pub cached: bool,
}

impl Outcome {
    /// A fresh outcome for `route` and `model_name`.
    pub fn new(route: &'static str, model_name: &str) -> Self {
        Self {
            route,
            model_name: model_name.to_owned(),
            target: None,
            streamed: false,
            latency: Duration::ZERO,
            upstream: None,
            ttft: None,
            usage: Usage::default(),
            error: None,
            fallbacks: 0,
            retries: Vec::new(),
            key: None,
            request_text: String::new(),
            response_text: String::new(),
            session: Vec::new(),
            pruned: 0,
            cached: false,
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The chat-log row for an outcome (redaction, when enabled, happens in the writer task).
fn chat_log(o: &Outcome, cost: Option<f64>) -> ChatLog {
    let (provider, model) = o
        .target
        .as_ref()
        .map_or(("none".to_owned(), o.model_name.clone()), |t| {
            (t.provider.as_str().to_owned(), t.model.clone())
        });
    let status = if o.error.is_none() {
        LogStatus::Ok
    } else {
        LogStatus::Error
    };
    let mut log = ChatLog::new(provider, model, o.route, status, ms(o.latency));
    log.error_code = o.error.as_ref().map(|(c, _)| c.as_str().to_owned());
    log.ttft_ms = o.ttft.map(ms);
    log.usage = o.usage;
    log.cost_usd = cost;
    log.virtual_key_id = o.key.as_ref().map(|k| k.id.clone());
    log.request_text = (!o.request_text.is_empty()).then(|| o.request_text.clone());
    log.response_text = match &o.error {
        Some((_, message)) => Some(message.clone()),
        None => (!o.response_text.is_empty()).then(|| o.response_text.clone()),
    };
    if o.model_name != log.model
        || o.fallbacks > 0
        || o.streamed
        || !o.session.is_empty()
        || o.pruned > 0
        || o.cached
    {
        let mut meta = serde_json::json!({"requested_model": o.model_name, "fallbacks": o.fallbacks,
            "streamed": o.streamed});
        if o.pruned > 0 {
            meta["pruned_messages"] = o.pruned.into();
        }
        if o.cached {
            meta["cache"] = "hit".into();
        }
        if let Some((_, id)) = o.session.first() {
            meta["session_id"] = serde_json::Value::String(id.clone());
            meta["session"] = o
                .session
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone())))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        log.metadata = Some(meta);
    }
    log
}
