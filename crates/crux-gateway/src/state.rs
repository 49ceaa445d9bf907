//! Shared gateway state and the per-request outcome record (metrics now; the write queue takes logs).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crux_llm::breaker::{Breakers, Clock};
use crux_llm::{Client, ErrorCode, ModelId, Registry, Usage};

use crate::auth::KeyCache;
use crate::config::GatewayConfig;
use crate::limits::Limiter;
use crate::telemetry::{Metrics, labels};

/// Everything handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The provider client (one shared connection pool).
    pub client: Client,
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
    /// State with a system clock.
    pub fn new(client: Client, config: GatewayConfig) -> Arc<Self> {
        Self::with_clock(client, config, Clock::default())
    }

    /// State whose breakers use `clock` (tests use a fake clock).
    pub fn with_clock(client: Client, config: GatewayConfig, clock: Clock) -> Arc<Self> {
        Arc::new(Self {
            breakers: Breakers::new(config.breaker, clock),
            client,
            config,
            metrics: Metrics::default(),
            keys: KeyCache::default(),
            limiter: Limiter::default(),
            registry: RwLock::new(Registry::new()),
            started: Instant::now(),
        })
    }

    /// Cost of a finished request from registry prices (or the provider's own figure).
    pub fn cost(&self, target: &ModelId, usage: &Usage) -> Option<f64> {
        let registry = self.registry.read().ok()?;
        crux_llm::request_cost(&registry, target, usage)
    }

    /// Account for one finished request.
    pub fn finish(&self, o: &Outcome) {
        if let (Some(key), Some(target)) = (&o.key_id, &o.target)
            && let Some(usd) = self.cost(target, &o.usage)
        {
            self.limiter.add_spend(key, usd);
        }
        let (provider, model) = o
            .target
            .as_ref()
            .map_or(("none".to_owned(), o.model_name.clone()), |t| {
                (t.provider.as_str().to_owned(), t.model.clone())
            });
        let status = if o.error.is_none() { "ok" } else { "error" };
        self.metrics.add(
            "crux_requests_total",
            labels(&[
                ("provider", &provider),
                ("model", &model),
                ("route", o.route),
                ("status", status),
            ]),
            1.0,
        );
        self.metrics.observe(
            "crux_request_duration_seconds",
            labels(&[("route", o.route)]),
            o.latency,
        );
        if let Some(up) = o.upstream {
            self.metrics.observe(
                "crux_upstream_duration_seconds",
                labels(&[("provider", &provider)]),
                up,
            );
            if !o.streamed {
                self.metrics.observe(
                    "crux_gateway_overhead_seconds",
                    String::new(),
                    o.latency.saturating_sub(up),
                );
            }
        }
        if let Some(ttft) = o.ttft {
            self.metrics.observe(
                "crux_time_to_first_token_seconds",
                labels(&[("provider", &provider)]),
                ttft,
            );
        }
        for (kind, n) in [
            ("prompt", o.usage.prompt),
            ("completion", o.usage.completion),
            ("cached", o.usage.cached_prompt),
        ] {
            if let Some(n) = n.filter(|n| *n > 0) {
                #[allow(clippy::cast_precision_loss)]
                self.metrics
                    .add("crux_tokens_total", labels(&[("kind", kind)]), n as f64);
            }
        }
        if o.fallbacks > 0 {
            #[allow(clippy::cast_precision_loss)]
            self.metrics
                .add("crux_fallbacks_total", String::new(), o.fallbacks as f64);
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
