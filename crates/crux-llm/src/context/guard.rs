//! Input-guard settings (`[guard]` in `crux.toml`): per level — default, provider, route (alias), model — whether
//! the guard runs, the limit (the registry's context window or a number), the tokens reserved for the answer, and
//! what to do with an input that does not fit: refuse (413) or prune with a named strategy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model_id::ModelId;
use crate::providers::ProviderId;

/// What the guard does with an input that does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuardAction {
    /// Answer `too_large` (413) before going upstream (the default).
    Refuse,
    /// Shorten the conversation with the rule's strategy, then send it.
    Prune,
}

/// How a conversation is shortened (`context = "…"` on a route, `strategy = "…"` in `[guard]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContextStrategy {
    /// Drop the oldest turns until it fits (system messages and tool call/result pairs stay whole).
    OldestFirst,
    /// Keep at most the last `keep_last` messages, then drop further oldest turns if needed.
    SlidingWindow,
    /// Ask the configured summarizer model to condense the oldest turns into one system message (cached per
    /// conversation prefix); falls back to oldest-first when the summarizer fails.
    Summarize,
}

/// One level of input-guard settings; unset fields defer to the level below (model → route → provider → default).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardRule {
    /// Whether the guard runs (default: yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// A cap on input tokens, checked in addition to the context window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_tokens: Option<u64>,
    /// The context window to use instead of the registry's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Tokens reserved for the answer when the request sets no `max_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve: Option<u64>,
    /// Refuse (default) or prune.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<GuardAction>,
    /// The pruning strategy (default oldest-first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<ContextStrategy>,
    /// Messages kept by `sliding-window` (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_last: Option<usize>,
    /// The model that writes summaries for `summarize` (`provider/model` or an alias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summarizer: Option<String>,
}

/// Input-guard configuration: a default rule, then per-provider, per-route and per-model (`provider/model`)
/// overrides.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GuardConfig {
    /// Applies to every request.
    #[serde(default)]
    pub default: GuardRule,
    /// Per provider.
    #[serde(default)]
    pub providers: BTreeMap<ProviderId, GuardRule>,
    /// Per route (alias) name.
    #[serde(default)]
    pub routes: BTreeMap<String, GuardRule>,
    /// Per model, keyed `provider/model` (exact id).
    #[serde(default)]
    pub models: BTreeMap<String, GuardRule>,
}

impl GuardConfig {
    /// This configuration with `routes` as its per-route rules.
    pub fn with_routes(mut self, routes: BTreeMap<String, GuardRule>) -> Self {
        self.routes = routes;
        self
    }

    /// The rule in force for `model`, each field taken from the most specific level that sets it.
    pub fn rule_for(&self, model: &ModelId) -> GuardRule {
        self.rule_for_route(None, model)
    }

    /// The rule for `model` reached through the route `route` (an alias name), most specific level first.
    pub fn rule_for_route(&self, route: Option<&str>, model: &ModelId) -> GuardRule {
        let levels: Vec<&GuardRule> = [
            // Most configs name no model: no name is formatted for them.
            (!self.models.is_empty())
                .then(|| self.models.get(&model.to_string()))
                .flatten(),
            route.and_then(|r| self.routes.get(r)),
            self.providers.get(&model.provider),
            Some(&self.default),
        ]
        .into_iter()
        .flatten()
        .collect();
        GuardRule {
            enabled: levels.iter().find_map(|r| r.enabled),
            max_input_tokens: levels.iter().find_map(|r| r.max_input_tokens),
            limit: levels.iter().find_map(|r| r.limit),
            reserve: levels.iter().find_map(|r| r.reserve),
            action: levels.iter().find_map(|r| r.action),
            strategy: levels.iter().find_map(|r| r.strategy),
            keep_last: levels.iter().find_map(|r| r.keep_last),
            summarizer: levels.iter().find_map(|r| r.summarizer.clone()),
        }
    }
}
