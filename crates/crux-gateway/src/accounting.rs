//! Accounting for one finished request, done exactly once per request: the virtual key's spend, the chat log
//! (through the write queue) and the metric series. Handlers fill an [`Outcome`]; [`record`] does the rest.

use std::time::Duration;

use crux_llm::{ErrorCode, ModelId, ProviderId, Usage};
use crux_store::{ChatLog, LogStatus, Record};

use crate::state::AppState;
use crate::telemetry::labels;

/// Account for one finished request: spend, chat log, metrics.
pub fn record(state: &AppState, o: &Outcome) {
    let cost = o.target.as_ref().and_then(|t| state.cost(t, &o.usage));
    spend(state, o, cost);
    if let Some(log) = &state.persistence.log {
        log.try_enqueue(Record::ChatLog(Box::new(chat_log(o, cost))));
    }
    metrics(state, o);
}

/// Add the request's cost to its virtual key (in memory now, in the store through the queue).
fn spend(state: &AppState, o: &Outcome, cost: Option<f64>) {
    let (Some(key), Some(usd)) = (&o.key_id, cost) else {
        return;
    };
    state.limiter.add_spend(key, usd);
    if let Some(log) = &state.persistence.log {
        log.try_enqueue(Record::Spend {
            virtual_key_id: key.clone(),
            usd,
        });
    }
}

/// The metric series of one request (one lock for all of them).
fn metrics(state: &AppState, o: &Outcome) {
    let Some(mut m) = state.metrics.batch() else {
        return;
    };
    let (provider, model) = o
        .target
        .as_ref()
        .map_or(("none", o.model_name.as_str()), |t| {
            (t.provider.as_str(), t.model.as_str())
        });
    let status = if o.error.is_none() { "ok" } else { "error" };
    m.add(
        "crux_requests_total",
        labels(&[
            ("provider", provider),
            ("model", model),
            ("route", o.route),
            ("status", status),
        ]),
        1.0,
    );
    m.observe(
        "crux_request_duration_seconds",
        labels(&[("route", o.route)]),
        o.latency,
    );
    let by_provider = labels(&[("provider", provider)]);
    if let Some(up) = o.upstream {
        if !o.streamed {
            m.observe(
                "crux_gateway_overhead_seconds",
                String::new(),
                o.latency.saturating_sub(up),
            );
        }
        m.observe("crux_upstream_duration_seconds", by_provider.clone(), up);
    }
    if let Some(ttft) = o.ttft {
        m.observe("crux_time_to_first_token_seconds", by_provider, ttft);
    }
    for (kind, n) in [
        ("prompt", o.usage.prompt),
        ("completion", o.usage.completion),
        ("cached", o.usage.cached_prompt),
    ] {
        if let Some(n) = n.filter(|n| *n > 0) {
            #[allow(clippy::cast_precision_loss)]
            m.add("crux_tokens_total", labels(&[("kind", kind)]), n as f64);
        }
    }
    for (p, cause) in &o.retries {
        m.add(
            "crux_retries_total",
            labels(&[("provider", p.as_str()), ("reason", cause.as_str())]),
            1.0,
        );
    }
    if o.fallbacks > 0 {
        m.add(
            "crux_fallbacks_total",
            String::new(),
            f64::from(o.fallbacks),
        );
    }
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
    /// Virtual key id.
    pub key_id: Option<String>,
    /// Last user message (for the chat log).
    pub request_text: String,
    /// Answer text (for the chat log).
    pub response_text: String,
    /// Client session headers (`x-claude-code-session-id`, Codex's `session_id`/window/turn ids), as sent.
    pub session: Vec<(&'static str, String)>,
    /// Messages the input guard pruned before sending.
    pub pruned: usize,
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
            key_id: None,
            request_text: String::new(),
            response_text: String::new(),
            session: Vec::new(),
            pruned: 0,
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
    log.virtual_key_id.clone_from(&o.key_id);
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
    {
        let mut meta = serde_json::json!({"requested_model": o.model_name, "fallbacks": o.fallbacks,
            "streamed": o.streamed});
        if o.pruned > 0 {
            meta["pruned_messages"] = o.pruned.into();
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
