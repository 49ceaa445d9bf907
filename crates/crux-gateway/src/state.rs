//! Shared gateway state and the per-request outcome record (metrics now; the write queue takes logs).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crux_llm::breaker::{Breakers, Clock};
use crux_llm::{Client, ErrorCode, ModelId, ProviderId, Registry, Usage};

use crux_store::{ChatLog, LogStatus, QueueSender, Record, Store, VaultKey};

use crate::auth::KeyCache;
use crate::config::GatewayConfig;
use crate::limits::Limiter;
use crate::telemetry::{Metrics, labels};

/// Persistence wired into the gateway (absent in tests that need none).
#[derive(Debug, Clone, Default)]
pub struct Persistence {
    /// The store (admin routes, key and registry sync, readiness).
    pub store: Option<Store>,
    /// Where chat logs, metric points and spend go (never awaited on the request path).
    pub log: Option<QueueSender>,
    /// Vault key for provider keys set through `/api/keys`.
    pub vault: Option<VaultKey>,
    /// Providers whose key came from the environment (it wins over the vault and cannot be deleted by the API).
    pub env_keys: Vec<ProviderId>,
}

/// Everything handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The provider client (one shared connection pool); swapped when provider keys change.
    client: RwLock<Client>,
    /// Store, write queue and vault.
    pub persistence: Persistence,
    /// Configuration.
    pub config: GatewayConfig,
    /// Circuit breakers per provider/model.
    pub breakers: Breakers,
    /// Metrics for `/metrics`.
    pub metrics: Metrics,
    /// Virtual keys.
    pub keys: KeyCache,
    /// Per-key limits.
    pub limiter: Limiter,
    /// Model registry (catalog + fetched snapshots); read on the request path without I/O.
    pub registry: RwLock<Registry>,
    /// When the gateway started.
    pub started: Instant,
}

impl AppState {
    /// State with a system clock and no store.
    pub fn new(client: Client, config: GatewayConfig) -> Arc<Self> {
        Self::with_clock(client, config, Clock::default())
    }

    /// State whose breakers use `clock` (tests use a fake clock).
    pub fn with_clock(client: Client, config: GatewayConfig, clock: Clock) -> Arc<Self> {
        Self::build(client, config, clock, Persistence::default())
    }

    /// State with everything.
    pub fn build(
        client: Client,
        config: GatewayConfig,
        clock: Clock,
        persistence: Persistence,
    ) -> Arc<Self> {
        Arc::new(Self {
            breakers: Breakers::new(config.breaker, clock),
            client: RwLock::new(client),
            persistence,
            config,
            metrics: Metrics::default(),
            keys: KeyCache::default(),
            limiter: Limiter::default(),
            registry: RwLock::new(Registry::new()),
            started: Instant::now(),
        })
    }

    /// The current provider client (a cheap clone sharing the connection pool).
    pub fn client(&self) -> Client {
        match self.client.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replace the provider client (after a provider key changed).
    pub fn set_client(&self, client: Client) {
        if let Ok(mut c) = self.client.write() {
            *c = client;
        }
    }

    /// Cost of a finished request from registry prices (or the provider's own figure).
    pub fn cost(&self, target: &ModelId, usage: &Usage) -> Option<f64> {
        let registry = self.registry.read().ok()?;
        crux_llm::request_cost(&registry, target, usage)
    }

    /// Account for one finished request: metrics, spend, and a chat log through the write queue.
    pub fn finish(&self, o: &Outcome) {
        let cost = o.target.as_ref().and_then(|t| self.cost(t, &o.usage));
        if let (Some(key), Some(usd)) = (&o.key_id, cost) {
            self.limiter.add_spend(key, usd);
            if let Some(log) = &self.persistence.log {
                log.try_enqueue(Record::Spend {
                    virtual_key_id: key.clone(),
                    usd,
                });
            }
        }
        if let Some(log) = &self.persistence.log {
            log.try_enqueue(Record::ChatLog(Box::new(chat_log(o, cost))));
        }
        let Some(mut m) = self.metrics.batch() else {
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
        if o.fallbacks > 0 {
            m.add(
                "crux_fallbacks_total",
                String::new(),
                f64::from(o.fallbacks),
            );
        }
        if let Some(log) = &self.persistence.log {
            let stats = log.stats();
            #[allow(clippy::cast_precision_loss)]
            {
                m.set("crux_store_queue_depth", String::new(), stats.queued as f64);
                m.set(
                    "crux_store_dropped_total",
                    String::new(),
                    stats.dropped as f64,
                );
            }
        }
    }
}

/// What happened to one request, for metrics and the chat log.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Route label (`chat_completions`, `messages`, `api_chat`, `embeddings`).
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
    /// Virtual key id.
    pub key_id: Option<String>,
    /// Last user message (for the chat log).
    pub request_text: String,
    /// Answer text (for the chat log).
    pub response_text: String,
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
            key_id: None,
            request_text: String::new(),
            response_text: String::new(),
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
    if o.model_name != log.model || o.fallbacks > 0 || o.streamed {
        log.metadata = Some(
            serde_json::json!({"requested_model": o.model_name, "fallbacks": o.fallbacks,
            "streamed": o.streamed}),
        );
    }
    log
}
