//! Settings, resolved once in `main` and handed to every command: the TOML config file (`--config`, else
//! `CRUX_CONFIG`, else `./crux.toml`) overlaid with the environment, and provider keys from env then the vault.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crux_gateway::GatewayConfig;
use crux_llm::breaker::BreakerConfig;

pub use crate::guard_config::GuardSection;
use crate::guard_config::guard;
pub use crate::provider_config::{ProviderSection, TimeoutSection};
pub use crate::route_config::RouteSection;
use crux_llm::{Client, ProviderConfig, ProviderId, RetryPolicy};
use secrecy::SecretString;
use serde::Deserialize;

use crate::config::{Env, ProcessEnv, provider_config};
use crate::exit::Failure;

/// Default gateway listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4000";

/// The whole file; every key optional, unknown keys rejected (typos should not pass silently).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Gateway listen address.
    pub listen: Option<String>,
    /// Store URL.
    pub database_url: Option<String>,
    /// Largest request body in bytes.
    pub max_body_bytes: Option<usize>,
    /// Keep chat logs and metric points this long (`30d`, `12h`); pruned in the background by `crux serve`.
    pub retention: Option<String>,
    /// Per-provider settings.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderSection>,
    /// Aliases with ordered fallback targets.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteSection>,
    /// Retries and breakers.
    #[serde(default)]
    pub resilience: ResilienceSection,
    /// Exporters.
    #[serde(default)]
    pub telemetry: TelemetrySection,
    /// Connection limits of the gateway's HTTP server.
    #[serde(default)]
    pub server: ServerSection,
    /// The input guard: limits and what to do with inputs that do not fit.
    #[serde(default)]
    pub guard: GuardSection,
    /// The response cache (off unless present).
    pub cache: Option<CacheSection>,
    /// Several instances: limits shared through Redis.
    #[serde(default)]
    pub scale: ScaleSection,
}

/// `[scale]`: state shared by every instance.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleSection {
    /// `redis://HOST:PORT/DB`: exact requests-per-minute limits across instances.
    pub redis_url: Option<String>,
}

/// `[cache]`: answers kept for repeated identical requests.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSection {
    /// How long an answer is reused (`10m`, `1h`; default 10 minutes).
    pub ttl: Option<String>,
    /// Answers kept in memory at most (default 10 000).
    pub max_entries: Option<u64>,
    /// `redis://HOST:PORT/DB`: a cache shared by every instance.
    pub url: Option<String>,
    /// Share answers across virtual keys (default false: each key has its own).
    pub shared: Option<bool>,
}

/// `[server]`: slow or too many clients are cut off before they can starve others.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Time to receive a request's line and headers (default 10 000).
    pub header_timeout_ms: Option<u64>,
    /// Time to receive a request's body once its headers arrived (default 30 000; 408 after).
    pub body_timeout_ms: Option<u64>,
    /// An idle kept-alive connection is closed after this long (default 60 000).
    pub idle_timeout_ms: Option<u64>,
    /// Client connections served at once; more are refused with 503 (default 4096).
    pub max_connections: Option<usize>,
    /// Largest request head in bytes; larger is refused with 431 (default 65 536).
    pub max_header_bytes: Option<usize>,
    /// Bytes of large (≥ 1 MiB) request bodies read and served at once (default 67 108 864, never less than
    /// `max_body_bytes`); beyond it requests wait, then get 503 with `retry-after`.
    pub large_body_budget_bytes: Option<usize>,
    /// Browser origins allowed by CORS (default the local dev server, `http://localhost:5173` and
    /// `http://127.0.0.1:5173`); `[]` turns CORS off.
    pub cors_origins: Option<Vec<String>>,
    /// Mark the web console's session cookie `Secure` (default false; set it when the gateway is reached over TLS,
    /// e.g. behind a TLS-terminating proxy).
    pub console_secure_cookie: Option<bool>,
}

/// `[resilience]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResilienceSection {
    /// Retries on retryable failures.
    pub max_retries: Option<u32>,
    /// Breaker settings.
    pub breaker: Option<BreakerConfig>,
}

pub use crate::telemetry_config::TelemetrySection;

/// The settings every command starts from.
#[derive(Debug, Default)]
pub struct Settings {
    /// The config file read, if any.
    pub path: Option<PathBuf>,
    /// Its contents (defaults without a file).
    pub file: FileConfig,
}

impl Settings {
    /// Read the config named by `flag`, `CRUX_CONFIG` or `./crux.toml` (absent → defaults).
    pub fn load(flag: Option<&Path>) -> Result<Settings, Failure> {
        let path = config_path(flag, &ProcessEnv);
        let file = load(path.as_deref())?;
        Ok(Settings { path, file })
    }

    /// The store URL: `flag`, then `CRUX_DATABASE_URL`, then the file, then the default SQLite file.
    pub fn database_url(&self, flag: Option<&str>) -> Result<String, Failure> {
        crate::store_config::database_url(flag, self.file.database_url.as_deref(), &ProcessEnv)
    }

    /// The provider client from the file and the environment (keys from the environment only).
    pub fn client(&self) -> Result<Client, Failure> {
        client(&self.file, &ProcessEnv)
    }

    /// The gateway settings (aliases, breakers, guard, limits).
    pub fn gateway(&self) -> Result<GatewayConfig, Failure> {
        gateway(&self.file, &ProcessEnv)
    }

    /// The client with keys for `providers` that the environment lacks taken from the vault; the store is opened
    /// only when some key must come from it. A vault key that cannot be read costs that provider its key (with a
    /// warning naming the fix), not the command.
    pub async fn keyed_client(&self, providers: &[ProviderId]) -> Result<Client, Failure> {
        let client = self.client()?;
        let missing: Vec<ProviderId> = providers
            .iter()
            .copied()
            .filter(|p| !client.has_key(*p))
            .collect();
        if missing.is_empty() {
            return Ok(client);
        }
        let url = self.database_url(None)?;
        let Ok(store) = crate::store_config::open_store(&url).await else {
            return Ok(client);
        };
        let keys = crate::store_config::resolve_keys(&store, &missing, &ProcessEnv).await?;
        Ok(keys.apply(client))
    }
}

/// Which file to read: `--config`, else `CRUX_CONFIG`, else `./crux.toml` when present.
pub fn config_path(flag: Option<&Path>, env: &impl Env) -> Option<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| env.get("CRUX_CONFIG").map(PathBuf::from))
        .or_else(|| {
            Path::new("crux.toml")
                .exists()
                .then(|| PathBuf::from("crux.toml"))
        })
}

/// Read and parse the config file (absent → defaults).
pub fn load(path: Option<&Path>) -> Result<FileConfig, Failure> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read config {}: {e}", path.display())))?;
    let file: FileConfig = toml::from_str(&text).map_err(|e| {
        let msg = e.to_string().replace('\n', " ");
        Failure::usage(format!("invalid config {}: {}", path.display(), msg.trim()))
    })?;
    crate::provider_config::register(&file.providers)?;
    Ok(file)
}

/// The provider client: file settings, with the environment winning for keys and endpoints.
pub fn client(file: &FileConfig, env: &impl Env) -> Result<Client, Failure> {
    crate::provider_config::register(&file.providers)?;
    let mut builder = Client::builder();
    if let Some(n) = file.resilience.max_retries {
        builder = builder.retry(RetryPolicy {
            max_retries: n,
            ..RetryPolicy::default()
        });
    }
    for p in ProviderId::all() {
        let section = file.providers.get(p.as_str());
        let mut cfg: ProviderConfig = provider_config(env, p);
        if cfg.base_url.is_none() {
            cfg.base_url = section.and_then(|s| s.base_url.clone());
        }
        cfg.timeouts = section
            .and_then(|s| s.timeout_ms.as_ref())
            .map(TimeoutSection::timeouts);
        if let Some(s) = section {
            cfg.headers = s.headers.clone().into_iter().collect();
        }
        builder = builder.provider(p, cfg);
    }
    builder.build().map_err(|e| Failure::usage(e.to_string()))
}

/// The gateway settings.
pub fn gateway(file: &FileConfig, env: &impl Env) -> Result<GatewayConfig, Failure> {
    crate::provider_config::register(&file.providers)?;
    let mut config = GatewayConfig {
        master_key: env.get("CRUX_MASTER_KEY").map(SecretString::from),
        ..GatewayConfig::default()
    };
    if let Some(on) = file.telemetry.prometheus {
        config.prometheus = on;
    }
    config.telemetry = crate::telemetry_config::telemetry(&file.telemetry)?;
    if let Some(on) = file.telemetry.metrics_auth {
        config.metrics_auth = on;
    }
    if let Some(limit) = file.max_body_bytes {
        config.body_limit = limit;
    }
    config.router.guard = guard(&file.guard)?.with_routes(config.router.guard.routes.clone());
    let server = &file.server;
    for (slot, ms) in [
        (&mut config.header_timeout, server.header_timeout_ms),
        (&mut config.body_timeout, server.body_timeout_ms),
        (&mut config.idle_timeout, server.idle_timeout_ms),
    ] {
        if let Some(ms) = ms {
            if ms == 0 {
                return Err(Failure::usage(
                    "config [server] timeouts must be at least 1 ms",
                ));
            }
            *slot = Duration::from_millis(ms);
        }
    }
    if let Some(n) = server.max_connections {
        config.max_connections = n.max(1);
    }
    if let Some(n) = server.max_header_bytes {
        config.max_header_bytes = n.max(1024);
    }
    if let Some(n) = server.large_body_budget_bytes {
        config.large_body_budget = n;
    }
    if let Some(origins) = &server.cors_origins {
        config.cors_origins.clone_from(origins);
    }
    if let Some(secure) = server.console_secure_cookie {
        config.console_secure_cookie = secure;
    }
    if let Some(b) = file.resilience.breaker {
        if let Some(why) = b.invalid() {
            return Err(Failure::usage(format!("config [resilience] {why}")));
        }
        config.router.breaker = b;
    }
    crate::route_config::apply(&file.routes, &mut config.router)?;
    if let Some(c) = &file.cache {
        config.cache = Some(cache(c)?);
    }
    if let Some(url) = &file.scale.redis_url {
        crux_gateway::limits_shared::SharedLimits::new(url).map_err(Failure::usage)?;
        config.scale_redis_url = Some(url.clone());
    }
    Ok(config)
}

fn cache(c: &CacheSection) -> Result<crux_gateway::cache::CacheConfig, Failure> {
    let d = crux_gateway::cache::CacheConfig::default();
    let ttl = match &c.ttl {
        Some(t) => crate::duration::parse_duration(t)
            .map_err(|e| Failure::usage(format!("config [cache] ttl: {}", e.message)))?,
        None => d.ttl,
    };
    if ttl.is_zero() {
        return Err(Failure::usage("config [cache] ttl must be longer than 0"));
    }
    let config = crux_gateway::cache::CacheConfig {
        ttl,
        max_entries: c.max_entries.unwrap_or(d.max_entries),
        redis_url: c.url.clone(),
        shared: c.shared.unwrap_or(false),
    };
    crux_gateway::cache::ResponseCache::new(config.clone()).map_err(Failure::usage)?;
    Ok(config)
}

/// Listen address: flag, then `CRUX_LISTEN`, then the file, then the default.
pub fn listen(
    flag: Option<SocketAddr>,
    file: &FileConfig,
    env: &impl Env,
) -> Result<SocketAddr, Failure> {
    if let Some(addr) = flag {
        return Ok(addr);
    }
    let text = env
        .get("CRUX_LISTEN")
        .or_else(|| file.listen.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    text.parse().map_err(|_| {
        Failure::usage(format!(
            "invalid listen address '{text}' (expected HOST:PORT)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crux_llm::ModelId;
    use crux_llm::context::{ContextStrategy, GuardAction};

    use super::*;

    fn parse(text: &str) -> Result<FileConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn full_example_parses() {
        let file = parse(
            r#"
listen = "127.0.0.1:4000"
database_url = "sqlite://crux.db"
[providers.openai]
base_url = "https://api.openai.com/v1"
default_model = "gpt-4o-mini"
timeout_ms = { connect = 5000, first_byte = 30000, idle = 30000, total = 600000 }
[routes.smart]
targets = ["openai/gpt-4o", "anthropic/claude-3-5-sonnet-latest"]
[resilience]
max_retries = 2
breaker = { failures = 5, open_ms = 30000 }
[telemetry]
prometheus = true
statsd = "127.0.0.1:8125"
otlp = "http://127.0.0.1:4318"
[server]
header_timeout_ms = 5000
max_connections = 100
"#,
        )
        .unwrap();
        let env: HashMap<&'static str, &'static str> = HashMap::from([("CRUX_MASTER_KEY", "mk")]);
        let g = gateway(&file, &env).unwrap();
        assert_eq!(g.router.routes["smart"].len(), 2);
        assert_eq!(g.router.breaker.failures, 5);
        assert_eq!(g.header_timeout, Duration::from_secs(5));
        assert_eq!(g.max_connections, 100);
        assert!(g.master_key.is_some());
        assert_eq!(listen(None, &file, &env).unwrap().port(), 4000);
        let env: HashMap<&'static str, &'static str> =
            HashMap::from([("CRUX_LISTEN", "127.0.0.1:5000")]);
        assert_eq!(listen(None, &file, &env).unwrap().port(), 5000);
    }

    #[test]
    fn guard_section_and_route_context() {
        let file = parse(
            r#"
[guard]
enabled = true
reserve = 512
action = "prune"
strategy = "sliding-window"
keep_last = 8
[guard.providers.openai]
limit = 1000
[guard.models."anthropic/claude-3-5-haiku-latest"]
enabled = false
[routes.long]
targets = ["openai/gpt-4o-mini"]
context = "summarize"
"#,
        )
        .unwrap();
        let env: HashMap<&'static str, &'static str> = HashMap::new();
        let g = gateway(&file, &env).unwrap().router.guard;
        assert_eq!(g.default.action, Some(GuardAction::Prune));
        assert_eq!(g.providers[&ProviderId::OpenAi].limit, Some(1000));
        let route = &g.routes["long"];
        assert_eq!(route.strategy, Some(ContextStrategy::Summarize));
        assert_eq!(route.summarizer.as_deref(), Some("openai/gpt-4o-mini"));
        let model: ModelId = "openai/gpt-4o-mini".parse().unwrap();
        let rule = g.rule_for_route(Some("long"), &model);
        assert_eq!(
            (rule.limit, rule.reserve, rule.keep_last),
            (Some(1000), Some(512), Some(8))
        );
        assert!(
            parse("[guard]\nacton = \"prune\"").is_err(),
            "typos are errors"
        );
    }

    #[test]
    fn typos_and_bad_targets_are_rejected() {
        assert!(parse("listne = \"x\"").is_err());
        let file = parse("[routes.smart]\ntargets = [\"nope/model\"]").unwrap();
        let env: HashMap<&'static str, &'static str> = HashMap::new();
        assert!(gateway(&file, &env).is_err());
        let file = parse("[providers.opneai]\nbase_url = \"http://x\"").unwrap();
        assert!(client(&file, &env).is_err());
    }
}
