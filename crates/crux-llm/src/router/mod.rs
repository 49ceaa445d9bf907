//! `Router`: every decision about where a request goes — resolving the caller's name (alias → `provider/model` →
//! catalog owner → the route's native provider), the input guard, circuit breakers, ordered fallback and the stream
//! peek — so the gateway, `crux chat` and the shell route alike. It reports [`Routed`] (who served, fallbacks,
//! retries, upstream time) or a [`RouteFailure`] listing every attempt.

mod adapt;
pub mod balance;
mod guard;
mod run;
mod summary;

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;

use tokio::sync::Semaphore;

pub use self::adapt::Observer;
pub use self::run::Peeked;
use crate::breaker::{BreakerConfig, Breakers, Clock};
use crate::client::Client;
use crate::context::GuardConfig;
use crate::error::{Error, ErrorCode};
use crate::model_id::ModelId;
use crate::providers::{ProviderId, Wire};
use crate::registry::Registry;

/// What a router is built from.
#[derive(Debug, Clone, Default)]
pub struct RouterConfig {
    /// Aliases: name → targets tried in order.
    pub routes: BTreeMap<String, Vec<ModelId>>,
    /// Aliases whose targets are deployments balanced by a strategy (the others fall back in order).
    pub balance: BTreeMap<String, balance::Balance>,
    /// Circuit-breaker settings (per provider/model).
    pub breaker: BreakerConfig,
    /// Input-guard settings.
    pub guard: GuardConfig,
}

/// Resolves names and runs requests over ordered targets with breakers, guard and fallback.
#[derive(Debug)]
pub struct Router {
    client: RwLock<Client>,
    routes: BTreeMap<String, Vec<ModelId>>,
    balancer: balance::Balancer,
    guard: GuardConfig,
    breakers: Breakers,
    registry: RwLock<Registry>,
    /// Bounds exact token counting (CPU and memory heavy for huge prompts) to a few blocking threads.
    counting: Semaphore,
    /// `summarize` results by dropped-prefix hash.
    summaries: std::sync::Mutex<std::collections::HashMap<u64, String>>,
    /// Told about each observed capability (the gateway persists them).
    observer: adapt::ObserverSlot,
}

/// A caller's model name resolved to the targets to try, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The name as the caller sent it (trimmed).
    pub name: String,
    /// Targets, tried in order (at least one).
    pub targets: Vec<ModelId>,
    /// Whether `name` is a configured alias.
    pub alias: bool,
}

/// Why a name could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No name at all.
    #[error("'model' is required")]
    Empty,
    /// `x/y` where `x` is neither a provider nor an alias.
    #[error("unknown model '{name}': use PROVIDER/MODEL with a provider of {providers}{aliases}")]
    Unknown {
        /// The name sent.
        name: String,
        /// The providers, comma-separated.
        providers: String,
        /// `, or an alias: a, b` when aliases exist.
        aliases: String,
    },
    /// A bare name where no native provider applies (the native `/api` route, the CLI).
    #[error("model '{0}' needs a provider: write PROVIDER/MODEL")]
    NeedsProvider(String),
}

impl ResolveError {
    /// The error code: `not_found` for an unknown name, `validation` otherwise.
    pub fn code(&self) -> ErrorCode {
        match self {
            ResolveError::Unknown { .. } => ErrorCode::NotFound,
            ResolveError::Empty | ResolveError::NeedsProvider(_) => ErrorCode::Validation,
        }
    }
}

/// A served request and how it was routed.
#[derive(Debug)]
pub struct Routed<T> {
    /// The answer (a response, or a committed stream).
    pub value: T,
    /// Who served it.
    pub target: ModelId,
    /// Targets tried before the one that served.
    pub fallbacks: u32,
    /// Retries made on the way, with the provider and the failure that caused each.
    pub retries: Vec<(ProviderId, ErrorCode)>,
    /// Time waiting on the serving upstream: from each send to its response head plus reading the body (for a
    /// stream: everything until it committed, the first content's decoding included).
    pub upstream: Duration,
    /// The overhead the serving upstream reported about itself (`x-crux-overhead-ms`, when it is a Crux gateway).
    pub reported_overhead: Option<Duration>,
    /// A non-streamed same-wire answer: the upstream's body as received (forward it instead of re-encoding).
    pub raw: Option<bytes::Bytes>,
    /// Messages the input guard pruned (or summarized) from the conversation before sending; 0 when none.
    pub pruned: usize,
}

/// One target tried.
#[derive(Debug)]
pub struct Attempt {
    /// The target.
    pub target: ModelId,
    /// Why it did not serve.
    pub error: Error,
}

/// Every target failed (or none could be tried).
#[derive(Debug)]
pub struct RouteFailure {
    /// Each attempt in order; never empty.
    pub attempts: Vec<Attempt>,
    /// Retries made on the way.
    pub retries: Vec<(ProviderId, ErrorCode)>,
}

impl RouteFailure {
    /// The error of the last attempt (what the caller is told).
    pub fn error(&self) -> &Error {
        &self.last().error
    }

    /// The last target tried.
    pub fn target(&self) -> &ModelId {
        &self.last().target
    }

    /// Targets given up on before the last one.
    pub fn fallbacks(&self) -> u32 {
        u32::try_from(self.attempts.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }

    fn last(&self) -> &Attempt {
        // `run` only builds failures with at least one attempt.
        &self.attempts[self.attempts.len() - 1]
    }
}

impl std::fmt::Display for RouteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last = self.last();
        write!(f, "{}", last.error)?;
        if self.attempts.len() > 1 {
            let tried: Vec<String> = self
                .attempts
                .iter()
                .map(|a| format!("{} ({})", a.target, a.error.code()))
                .collect();
            write!(f, " [tried {}]", tried.join(", "))?;
        }
        Ok(())
    }
}

/// How one call may be routed.
#[derive(Clone, Copy, Default)]
pub struct CallOptions<'a> {
    /// The wire the request's provider-specific `extra` fields came from; they are kept only for targets of the
    /// same wire family. `None` (the CLI, the native API) keeps them everywhere.
    pub origin: Option<Wire>,
    /// Targets this caller may use (a virtual key's allowed models); others are skipped as forbidden attempts.
    pub permit: Option<&'a (dyn Fn(&ModelId) -> bool + Sync)>,
    /// The caller's own body and headers: targets on the same wire get it as sent (same-wire pass-through).
    pub raw: Option<&'a crate::client::RawRequest>,
}

impl std::fmt::Debug for CallOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("origin", &self.origin)
            .field("permit", &self.permit.is_some())
            .field("raw", &self.raw.map(|r| r.wire))
            .finish()
    }
}

impl Router {
    /// A router over `client` with a system clock.
    pub fn new(client: Client, config: RouterConfig) -> Self {
        Self::with_clock(client, config, Clock::default())
    }

    /// A router whose breakers use `clock` (tests use a fake clock).
    pub fn with_clock(client: Client, config: RouterConfig, clock: Clock) -> Self {
        Self {
            client: RwLock::new(client),
            balancer: balance::Balancer::new(&config.routes, &config.balance, clock.clone()),
            routes: config.routes,
            guard: config.guard,
            breakers: Breakers::new(config.breaker, clock),
            registry: RwLock::new(Registry::new()),
            counting: Semaphore::new(2),
            summaries: std::sync::Mutex::default(),
            observer: adapt::ObserverSlot::default(),
        }
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
        match self.client.write() {
            Ok(mut c) => *c = client,
            Err(poisoned) => *poisoned.into_inner() = client,
        }
    }

    /// The model registry (limits, prices, capabilities; read on the request path without I/O).
    pub fn registry(&self) -> &RwLock<Registry> {
        &self.registry
    }

    /// The circuit breakers.
    pub fn breakers(&self) -> &Breakers {
        &self.breakers
    }

    /// The configured aliases.
    pub fn routes(&self) -> &BTreeMap<String, Vec<ModelId>> {
        &self.routes
    }

    /// Each balanced alias: its strategy and its deployments' live numbers (in flight, latency, cooldown).
    pub fn deployments(&self) -> Vec<(String, balance::Strategy, Vec<balance::DeploymentView>)> {
        self.balancer.views(&self.routes)
    }

    /// The input-guard settings.
    pub fn guard(&self) -> &GuardConfig {
        &self.guard
    }

    /// Resolve `name`: an alias; `provider/model`; a bare id only one provider's catalog has; else `native` (the
    /// provider of the route it came in on), or [`ResolveError::NeedsProvider`] when there is none.
    pub fn resolve(&self, name: &str, native: Option<ProviderId>) -> Result<Route, ResolveError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ResolveError::Empty);
        }
        let route = |targets: Vec<ModelId>, alias| Route {
            name: name.to_owned(),
            targets,
            alias,
        };
        if let Some(targets) = self.routes.get(name).filter(|t| !t.is_empty()) {
            let ordered = self
                .balancer
                .order(name, targets)
                .unwrap_or_else(|| targets.clone());
            return Ok(route(ordered, true));
        }
        if let Some((first, rest)) = name.split_once('/') {
            return match first.parse::<ProviderId>() {
                Ok(p) if !rest.trim().is_empty() => Ok(route(vec![ModelId::new(p, rest)], false)),
                _ => Err(ResolveError::Unknown {
                    name: name.to_owned(),
                    providers: ProviderId::list(),
                    aliases: self.aliases_hint(),
                }),
            };
        }
        let offering = self
            .registry
            .read()
            .map(|r| r.providers_offering(name))
            .unwrap_or_default();
        if let [only] = offering.as_slice() {
            return Ok(route(vec![ModelId::new(*only, name)], false));
        }
        match native {
            Some(p) => Ok(route(vec![ModelId::new(p, name)], false)),
            None => Err(ResolveError::NeedsProvider(name.to_owned())),
        }
    }

    fn aliases_hint(&self) -> String {
        if self.routes.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = self.routes.keys().map(String::as_str).collect();
            format!(", or an alias: {}", names.join(", "))
        }
    }
}

#[cfg(test)]
mod tests;
