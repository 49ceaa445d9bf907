//! Shared gateway state: the library router, persistence, the key cache, limits and metrics.

use std::sync::Arc;
use std::time::Instant;

use crux_llm::breaker::Clock;
use crux_llm::{Client, ModelId, ProviderId, Router, Usage};

use crux_store::{QueueSender, Store, VaultKey};

pub use crate::body_budget::LargeBodies;
use crate::config::GatewayConfig;
use crate::keys::KeyCache;
use crate::limits::Limiter;
use crate::telemetry::Telemetry;

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
    /// Resolution, breakers, guard, fallback and the provider client (swapped when provider keys change).
    pub router: Router,
    /// Store, write queue and vault.
    pub persistence: Persistence,
    /// Configuration.
    pub config: GatewayConfig,
    /// The metrics recorder and exporters (`/metrics`, push, StatsD, OTLP).
    pub telemetry: Telemetry,
    /// Virtual keys.
    pub keys: KeyCache,
    /// Per-key limits.
    pub limiter: Limiter,
    /// The byte budget of large request bodies in flight.
    pub large_bodies: LargeBodies,
    /// When the gateway started.
    pub started: Instant,
    /// Web console sessions.
    pub ui_sessions: crate::ui::Sessions,
    /// The response cache, when `[cache]` is configured.
    pub cache: Option<crate::cache::ResponseCache>,
    /// Exact cross-instance limits, when `[scale] redis_url` is configured.
    pub shared_limits: Option<Arc<crate::limits_shared::SharedLimits>>,
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
        let telemetry = Telemetry::start(config.prometheus, &config.telemetry);
        let large_bodies = LargeBodies::new(config.large_body_budget, config.body_limit);
        let cache = config.cache.clone().and_then(|c| {
            crate::cache::ResponseCache::new(c)
                .map_err(|e| tracing::error!(error = %e, "response cache off"))
                .ok()
        });
        let shared_limits = config.scale_redis_url.as_deref().and_then(|url| {
            crate::limits_shared::SharedLimits::new(url)
                .map(Arc::new)
                .map_err(|e| tracing::error!(error = %e, "cross-instance limits off"))
                .ok()
        });
        let state = Arc::new(Self {
            cache,
            shared_limits,
            router: Router::with_clock(client, config.router.clone(), clock),
            persistence,
            config,
            telemetry,
            keys: KeyCache::default(),
            limiter: Limiter::default(),
            large_bodies,
            started: Instant::now(),
            ui_sessions: crate::ui::Sessions::default(),
        });
        if let Some(store) = &state.persistence.store {
            state
                .router
                .set_observer(crate::sync::persist_observations(store.clone()));
        }
        let weak = Arc::downgrade(&state);
        state.telemetry.set_live(Box::new(move || {
            if let Some(s) = weak.upgrade() {
                s.refresh_live_metrics();
            }
        }));
        state
    }

    /// Read the live values into the registry: breaker states, the write queue, exporter failures.
    pub fn refresh_live_metrics(&self) {
        use crate::telemetry::catalog;
        use metrics::Label;
        let t = &self.telemetry;
        for (key, s) in self.router.breakers().snapshot() {
            t.set(
                catalog::BREAKER,
                vec![Label::new("target", key)],
                f64::from(s.gauge()),
            );
        }
        if let Some(log) = &self.persistence.log {
            let stats = log.stats();
            #[allow(clippy::cast_precision_loss)]
            t.set(catalog::QUEUE_DEPTH, Vec::new(), stats.queued as f64);
            t.absolute(catalog::DROPPED, Vec::new(), stats.dropped);
            t.absolute(catalog::FAILED_ROWS, Vec::new(), stats.failed);
        }
        let redis = [
            ("limits", self.shared_limits.as_ref().map(|l| l.is_up())),
            ("cache", self.cache.as_ref().and_then(|c| c.redis_up())),
        ];
        for (what, up) in redis {
            if let Some(up) = up {
                t.set(
                    catalog::REDIS_UP,
                    vec![Label::new("use", what)],
                    if up { 1.0 } else { 0.0 },
                );
            }
        }
        t.note_exporter_failures();
    }

    /// The current provider client (a cheap clone sharing the connection pool).
    pub fn client(&self) -> Client {
        self.router.client()
    }

    /// Replace the provider client (after a provider key changed).
    pub fn set_client(&self, client: Client) {
        self.router.set_client(client);
    }

    /// Cost of a finished request from registry prices (or the provider's own figure).
    pub fn cost(&self, target: &ModelId, usage: &Usage) -> Option<f64> {
        let registry = self.router.registry().read().ok()?;
        crux_llm::request_cost(&registry, target, usage)
    }
}
