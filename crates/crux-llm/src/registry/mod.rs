//! The model registry: the built-in catalog merged with the model lists fetched from providers and with observed
//! capabilities, held in memory. Reads never touch the network; [`refresh`] is the only call that does, and its
//! result is handed to [`Registry::apply_refresh`], which keeps the last good snapshot when a refresh fails.
//!
//! Persistence is someone else's job: [`Snapshot`] and [`Observation`] are plain data in and out, so a store can
//! save them and feed them back at startup ([`Registry::set_snapshot`], [`Registry::observe`]).
//!
//! Merge rules: catalog metadata wins for ids it knows (fetched context lengths only fill gaps); fetched models the
//! catalog does not know appear with unknown prices and capabilities; an observation (e.g. a model rejected tools)
//! overrides the catalog in both directions, so an observed `false` wins over a catalog `true`. Limit lookups try
//! the exact id (or alias), then the longest known id that is a prefix of it at a separator — never the first
//! substring, which sent `gpt-4o-2024-08-06` to `gpt-4`'s 8k window in the original.

mod merge;
pub mod rejection;
mod validate;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::stream::{FuturesUnordered, Stream};
use serde::{Deserialize, Serialize};

pub use self::validate::{Problem, Severity};
use crate::catalog::{self, Capability, IdeProfile, Prices};
use crate::client::Client;
use crate::error::{ErrorCode, Result};
use crate::model_id::ModelId;
use crate::providers::ProviderId;
use crate::types::ModelInfo;

/// `Snapshot::source` of a list fetched from the provider's API.
pub const SOURCE_API: &str = "api";

/// One provider's model list as fetched from its API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The provider.
    pub provider: ProviderId,
    /// The models it listed.
    pub models: Vec<ModelInfo>,
    /// When it was fetched, in milliseconds since the Unix epoch.
    pub fetched_at: u64,
    /// How it was obtained ([`SOURCE_API`], or whatever a store recorded, e.g. `legacy-import`).
    pub source: String,
}

/// A capability seen in practice (e.g. a model answered "tools are not supported").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The provider.
    pub provider: ProviderId,
    /// The model id as it was requested.
    pub model: String,
    /// What was observed.
    pub capability: Capability,
    /// Whether it worked.
    pub value: bool,
}

/// An observed capability value next to what the catalog says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ObservedValue {
    /// What was observed (this is the value in [`ModelEntry::capabilities`]).
    pub value: bool,
    /// The catalog's value, if the catalog has one.
    pub catalog: Option<bool>,
}

/// Why the last refresh of a provider failed (the previous snapshot, if any, is still in use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshFailure {
    /// The provider.
    pub provider: ProviderId,
    /// When it failed, in milliseconds since the Unix epoch.
    pub at: u64,
    /// Error class.
    pub code: ErrorCode,
    /// The error, as it would be shown to a user.
    pub message: String,
}

/// One model as the registry knows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelEntry {
    /// The provider.
    pub provider: ProviderId,
    /// The provider's model id.
    pub id: String,
    /// Other ids for the same model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Display name (the id when only the provider's list knows the model).
    pub name: String,
    /// Family, when known.
    pub family: Option<String>,
    /// Context window in tokens, when known.
    pub context_window: Option<u64>,
    /// Largest output in tokens, when known.
    pub max_output_tokens: Option<u64>,
    /// Prices per million tokens, when known.
    pub prices: Option<Prices>,
    /// Known capability values (catalog, overridden by observations); absent = unknown.
    pub capabilities: BTreeMap<Capability, bool>,
    /// Capabilities whose value comes from an observation, with the catalog's value beside it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub observed: BTreeMap<Capability, ObservedValue>,
    /// IDE capability keys (`tool_format`, `system_message`, `fim`, `tools_supported`, `max_tool_calls_per_turn`).
    pub ide: IdeProfile,
    /// Whether the built-in catalog knows the model.
    pub in_catalog: bool,
    /// Whether the provider's last fetched list has it (`None` when no list was ever fetched).
    pub listed: Option<bool>,
}

impl ModelEntry {
    /// The model as a `provider/model` id.
    pub fn model_id(&self) -> ModelId {
        ModelId::new(self.provider, self.id.clone())
    }

    /// Whether `id` names this model (id or alias, Ollama's `:latest` implied).
    pub fn answers_to(&self, id: &str) -> bool {
        let id = catalog::canonical_id(self.provider, id);
        self.id == id || self.aliases.iter().any(|a| a == id)
    }

    /// The known value of `cap`, if any.
    pub fn capability(&self, cap: Capability) -> Option<bool> {
        self.capabilities.get(&cap).copied()
    }
}

/// The registry: catalog + last good snapshot per provider + observations, merged into [`ModelEntry`]s.
#[derive(Debug, Clone)]
pub struct Registry {
    snapshots: BTreeMap<ProviderId, Snapshot>,
    failures: BTreeMap<ProviderId, RefreshFailure>,
    observed: BTreeMap<(ProviderId, String), BTreeMap<Capability, bool>>,
    entries: Vec<Vec<ModelEntry>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// A registry holding the built-in catalog only.
    pub fn new() -> Self {
        let mut r = Self {
            snapshots: BTreeMap::new(),
            failures: BTreeMap::new(),
            observed: BTreeMap::new(),
            entries: vec![Vec::new(); ProviderId::all().len()],
        };
        for p in ProviderId::all() {
            r.rebuild(p);
        }
        r
    }

    fn rebuild(&mut self, p: ProviderId) {
        if self.entries.len() <= p.index() {
            self.entries.resize(p.index() + 1, Vec::new());
        }
        self.entries[p.index()] = merge::entries(p, self.snapshots.get(&p), &self.observed);
    }

    /// Use `snapshot` as the provider's model list (e.g. one loaded from a store), replacing the previous one.
    pub fn set_snapshot(&mut self, snapshot: Snapshot) {
        let p = snapshot.provider;
        self.failures.remove(&p);
        self.snapshots.insert(p, snapshot);
        self.rebuild(p);
    }

    /// Record the outcome of [`refresh`]: a snapshot replaces the previous one (returns its model count); an error
    /// keeps the previous snapshot and is remembered (see [`Registry::last_failure`]) and returned.
    pub fn apply_refresh(
        &mut self,
        provider: ProviderId,
        outcome: Result<Snapshot>,
    ) -> Result<usize, RefreshFailure> {
        match outcome {
            Ok(snapshot) => {
                let n = snapshot.models.len();
                self.set_snapshot(Snapshot {
                    provider,
                    ..snapshot
                });
                Ok(n)
            }
            Err(e) => {
                let failure = RefreshFailure {
                    provider,
                    at: now_ms(),
                    code: e.code(),
                    message: e.to_string(),
                };
                self.failures.insert(provider, failure.clone());
                Err(failure)
            }
        }
    }

    /// Record an observed capability; it overrides the catalog for that model id.
    pub fn observe(&mut self, obs: Observation) {
        let model = catalog::canonical_id(obs.provider, &obs.model).to_owned();
        self.observed
            .entry((obs.provider, model))
            .or_default()
            .insert(obs.capability, obs.value);
        self.rebuild(obs.provider);
    }

    /// Forget every observation of `model` (its id or, for a catalog model, any of its aliases); returns how many
    /// capability values were dropped.
    pub fn forget(&mut self, model: &ModelId) -> usize {
        let wanted = catalog::canonical_id(model.provider, &model.model).to_owned();
        let names: Vec<String> = match self.get(model) {
            Some(e) => std::iter::once(e.id.clone())
                .chain(e.aliases.clone())
                .collect(),
            None => vec![wanted],
        };
        let mut dropped = 0;
        for name in names {
            if let Some(caps) = self.observed.remove(&(model.provider, name)) {
                dropped += caps.len();
            }
        }
        self.rebuild(model.provider);
        dropped
    }

    /// Every recorded observation (for persistence).
    pub fn observations(&self) -> Vec<Observation> {
        self.observed
            .iter()
            .flat_map(|((provider, model), caps)| {
                caps.iter().map(|(capability, value)| Observation {
                    provider: *provider,
                    model: model.clone(),
                    capability: *capability,
                    value: *value,
                })
            })
            .collect()
    }

    /// The provider's last good snapshot.
    pub fn snapshot(&self, provider: ProviderId) -> Option<&Snapshot> {
        self.snapshots.get(&provider)
    }

    /// Why the provider's last refresh failed, unless a later one succeeded.
    pub fn last_failure(&self, provider: ProviderId) -> Option<&RefreshFailure> {
        self.failures.get(&provider)
    }

    /// The provider's models: catalog models first (catalog order), then models only its list has (list order).
    pub fn models(&self, provider: ProviderId) -> &[ModelEntry] {
        self.entries
            .get(provider.index())
            .map_or(&[][..], Vec::as_slice)
    }

    /// The model answering exactly to `model` (id or alias).
    pub fn get(&self, model: &ModelId) -> Option<&ModelEntry> {
        self.models(model.provider)
            .iter()
            .find(|e| e.answers_to(&model.model))
    }

    /// Candidates for `model`, best first: the exact entry, then entries whose id or alias is a prefix of the
    /// requested id ending at a separator (`-`, `:`, `@`, `/`, `_`), longest first.
    pub fn candidates(&self, model: &ModelId) -> Vec<&ModelEntry> {
        let wanted = catalog::canonical_id(model.provider, &model.model);
        let mut out: Vec<&ModelEntry> = self.get(model).into_iter().collect();
        let mut prefixed: Vec<(usize, &ModelEntry)> = self
            .models(model.provider)
            .iter()
            .filter_map(|e| {
                std::iter::once(&e.id)
                    .chain(&e.aliases)
                    .filter(|k| is_boundary_prefix(k, wanted))
                    .map(String::len)
                    .max()
                    .map(|len| (len, e))
            })
            .collect();
        prefixed.sort_by_key(|p| std::cmp::Reverse(p.0));
        for (_, e) in prefixed {
            if !out.iter().any(|o| std::ptr::eq(*o, e)) {
                out.push(e);
            }
        }
        out
    }

    /// The first known value of `f` among [`Registry::candidates`] (so a listed model without limits inherits them
    /// from its catalog prefix).
    pub fn lookup<T>(&self, model: &ModelId, f: impl Fn(&ModelEntry) -> Option<T>) -> Option<T> {
        self.candidates(model).into_iter().find_map(f)
    }

    /// The model's context window.
    pub fn context_limit(&self, model: &ModelId) -> Option<u64> {
        self.lookup(model, |e| e.context_window)
    }

    /// The model's largest output.
    pub fn max_output(&self, model: &ModelId) -> Option<u64> {
        self.lookup(model, |e| e.max_output_tokens)
    }

    /// The model's prices.
    pub fn prices(&self, model: &ModelId) -> Option<Prices> {
        self.lookup(model, |e| e.prices)
    }

    /// The observation of `cap` recorded for this exact id (its canonical form). With nothing observed (the usual
    /// case) this costs no key allocation.
    fn observed_here(&self, model: &ModelId, cap: Capability) -> Option<bool> {
        if self.observed.is_empty() {
            return None;
        }
        let key = (
            model.provider,
            catalog::canonical_id(model.provider, &model.model).to_owned(),
        );
        self.observed
            .get(&key)
            .and_then(|caps| caps.get(&cap).copied())
    }

    /// The known value of `cap` for `model`: an observation of this exact id first, then the candidates.
    pub fn capability(&self, model: &ModelId, cap: Capability) -> Option<bool> {
        self.observed_here(model, cap)
            .or_else(|| self.lookup(model, |e| e.capability(cap)))
    }

    /// The observed value of `cap` for `model` (this id, or the catalog entry it names), ignoring the catalog.
    pub fn observed(&self, model: &ModelId, cap: Capability) -> Option<bool> {
        if self.observed.is_empty() {
            // Entries carry only what `observed` holds.
            return None;
        }
        self.observed_here(model, cap).or_else(|| {
            self.get(model)
                .and_then(|e| e.observed.get(&cap))
                .map(|o| o.value)
        })
    }

    /// Whether to try `cap` with `model`: yes unless it is known not to work.
    pub fn should_attempt(&self, model: &ModelId, cap: Capability) -> bool {
        self.capability(model, cap) != Some(false)
    }

    /// The providers having a model with exactly this bare id (for names sent without a provider).
    pub fn providers_offering(&self, id: &str) -> Vec<ProviderId> {
        ProviderId::iter()
            .filter(|p| self.models(*p).iter().any(|e| e.answers_to(id)))
            .collect()
    }

    /// Check configured defaults (`[providers.X] default_model`) and route targets (`[routes.NAME] targets`)
    /// against the registry. Errors are unknown models and malformed routes; warnings are models known only by
    /// prefix or missing from the provider's last fetched list.
    pub fn validate_defaults(
        &self,
        defaults: &[(ProviderId, String)],
        routes: &[(String, Vec<String>)],
    ) -> Vec<Problem> {
        validate::run(self, defaults, routes)
    }
}

/// Whether `key` is a proper prefix of `id` that ends where a new id segment starts.
fn is_boundary_prefix(key: &str, id: &str) -> bool {
    id.len() > key.len()
        && id.starts_with(key)
        && id[key.len()..].starts_with(['-', ':', '@', '/', '_'])
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Fetch the provider's model list (`Client::list_models`) as a snapshot. On error nothing is lost: hand the result
/// to [`Registry::apply_refresh`], which keeps the previous snapshot.
pub async fn refresh(client: &Client, provider: ProviderId) -> Result<Snapshot> {
    let models = client.list_models(provider).await?;
    Ok(Snapshot {
        provider,
        models,
        fetched_at: now_ms(),
        source: SOURCE_API.to_owned(),
    })
}

/// Refresh several providers concurrently, yielding each outcome as it completes (for progress display).
pub fn refresh_each(
    client: &Client,
    providers: &[ProviderId],
) -> impl Stream<Item = (ProviderId, Result<Snapshot>)> + Send + 'static {
    providers
        .iter()
        .map(|&p| {
            let client = client.clone();
            async move { (p, refresh(&client, p).await) }
        })
        .collect::<FuturesUnordered<_>>()
}

#[cfg(test)]
mod tests;
