//! Typed gateway configuration (built by the CLI from TOML and the environment; the gateway never reads env).

use std::time::Duration;

use crux_llm::RouterConfig;
use secrecy::SecretString;

/// Default request body limit: 32 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Default budget of large request bodies in flight: 64 MiB (two bodies at the default limit).
pub const DEFAULT_LARGE_BODY_BUDGET: usize = 64 * 1024 * 1024;

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
    /// The other exporters of `[telemetry]`: push gateway, StatsD, OTLP metrics.
    pub telemetry: crate::telemetry::TelemetryConfig,
    /// `GET /metrics` needs the master key (loopback only without one); `false` opens it to any peer
    /// (`[telemetry] metrics_auth`, see [`crate::auth::metrics_access`]).
    pub metrics_auth: bool,
    /// A connection must deliver a complete request line and headers within this time of opening (or of
    /// the first byte of a later keep-alive request), or it is closed without an answer.
    pub header_timeout: Duration,
    /// A request's body must arrive in full within this time of its headers, or the request is answered
    /// `408` (`code: "timeout"`, in the caller's dialect) and the connection closed. Only the read of the
    /// request body is bounded; responses (streams included) may last as long as they need.
    pub body_timeout: Duration,
    /// A kept-alive connection with no request in flight and no new bytes is closed after this long.
    pub idle_timeout: Duration,
    /// Most client connections served at once; beyond it new connections are refused at once with a
    /// `503` JSON answer and `Connection: close` (see [`crate::serve`]).
    pub max_connections: usize,
    /// Largest request line plus headers, in bytes; a larger head is answered `431` and the connection closed.
    pub max_header_bytes: usize,
    /// Bytes of large (≥ 1 MiB) request bodies read and served at once; more wait, then get `503` (see
    /// [`crate::state::LargeBodies`]). Never less than `body_limit`.
    pub large_body_budget: usize,
    /// Browser origins allowed to call the gateway (CORS, credentials allowed); empty disables CORS.
    pub cors_origins: Vec<String>,
    /// Mark the console's session cookie `Secure` (set it when clients reach the gateway over TLS).
    pub console_secure_cookie: bool,
    /// The response cache (`[cache]`); `None`: off.
    pub cache: Option<crate::cache::CacheConfig>,
    /// `[scale] redis_url`: exact requests-per-minute limits shared by every instance.
    pub scale_redis_url: Option<String>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            master_key: None,
            body_limit: DEFAULT_BODY_LIMIT,
            router: RouterConfig::default(),
            shutdown_grace: Duration::from_secs(30),
            prometheus: true,
            telemetry: crate::telemetry::TelemetryConfig::default(),
            metrics_auth: true,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
            max_header_bytes: 64 * 1024,
            large_body_budget: DEFAULT_LARGE_BODY_BUDGET,
            cors_origins: vec![
                "http://localhost:5173".to_owned(),
                "http://127.0.0.1:5173".to_owned(),
            ],
            console_secure_cookie: false,
            cache: None,
            scale_redis_url: None,
        }
    }
}
