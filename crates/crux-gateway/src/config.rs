//! Typed gateway configuration (built by the CLI from TOML and the environment; the gateway never reads env).

use std::time::Duration;

use crux_llm::RouterConfig;
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
    /// Aliases, breakers and the input guard: everything the library [`crux_llm::Router`] decides.
    pub router: RouterConfig,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Serve `GET /metrics` (`[telemetry] prometheus`).
    pub prometheus: bool,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            master_key: None,
            body_limit: DEFAULT_BODY_LIMIT,
            router: RouterConfig::default(),
            shutdown_grace: Duration::from_secs(30),
            prometheus: true,
        }
    }
}
