//! Typed gateway configuration (built by the CLI from TOML and the environment; the gateway never reads env).

use std::collections::BTreeMap;
use std::time::Duration;

use crux_llm::ModelId;
use crux_llm::breaker::BreakerConfig;
use crux_llm::context::GuardConfig;
use secrecy::SecretString;

/// Default request body limit: 32 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Everything the gateway needs to know besides the provider client.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Admin key, also a valid client key. Without it only loopback clients are served and admin routes close.
    pub master_key: Option<SecretString>,
    /// Largest accepted request body, in bytes (413 above).
    pub body_limit: usize,
    /// Aliases: name → targets tried in order.
    pub routes: BTreeMap<String, Vec<ModelId>>,
    /// Circuit breaker settings.
    pub breaker: BreakerConfig,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Serve `GET /metrics` (`[telemetry] prometheus`).
    pub prometheus: bool,
    /// Input guard: requests that cannot fit a target's context are refused (`too_large`) before going upstream.
    pub guard: GuardConfig,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            master_key: None,
            body_limit: DEFAULT_BODY_LIMIT,
            routes: BTreeMap::new(),
            breaker: BreakerConfig::default(),
            shutdown_grace: Duration::from_secs(30),
            guard: GuardConfig::default(),
            prometheus: true,
        }
    }
}
