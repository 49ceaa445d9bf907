//! `[guard]` in `crux.toml`: the input guard's default rule, plus per-provider and per-model rules, turned into
//! the library's [`GuardConfig`] (the routes' `context = …` rules are added by `settings::gateway`).

use std::collections::BTreeMap;

use crux_llm::ProviderId;
use crux_llm::context::{ContextStrategy, GuardAction, GuardConfig, GuardRule};
use serde::Deserialize;

use crate::exit::Failure;

/// `[guard]`: the default rule's keys, plus `[guard.providers.ID]` and `[guard.models."provider/model"]` rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardSection {
    /// `false` lets every input through (no counting at all).
    pub enabled: Option<bool>,
    /// A cap on input tokens besides the context window.
    pub max_input_tokens: Option<u64>,
    /// A context window to use instead of the registry's.
    pub limit: Option<u64>,
    /// Tokens kept for the answer when a request sets no `max_tokens`.
    pub reserve: Option<u64>,
    /// `refuse` (413, the default) or `prune`.
    pub action: Option<GuardAction>,
    /// `oldest-first` (default), `sliding-window` or `summarize`.
    pub strategy: Option<ContextStrategy>,
    /// Messages `sliding-window` keeps (default 20).
    pub keep_last: Option<usize>,
    /// The model `summarize` asks (`provider/model` or an alias).
    pub summarizer: Option<String>,
    /// Per-provider rules.
    #[serde(default)]
    pub providers: BTreeMap<String, GuardRule>,
    /// Per-model rules, keyed `provider/model`.
    #[serde(default)]
    pub models: BTreeMap<String, GuardRule>,
}

/// The `[guard]` section as the library's guard configuration (routes' `context` rules are added by the caller).
pub fn guard(g: &GuardSection) -> Result<GuardConfig, Failure> {
    let mut providers = BTreeMap::new();
    for (name, rule) in &g.providers {
        let p: ProviderId = name
            .parse()
            .map_err(|e| Failure::usage(format!("config [guard.providers.{name}]: {e}")))?;
        providers.insert(p, rule.clone());
    }
    if g.action == Some(GuardAction::Prune)
        && g.strategy == Some(ContextStrategy::Summarize)
        && g.summarizer.is_none()
    {
        return Err(Failure::usage(
            "config [guard]: strategy = \"summarize\" needs summarizer = \"provider/model\"",
        ));
    }
    Ok(GuardConfig {
        default: GuardRule {
            enabled: g.enabled,
            max_input_tokens: g.max_input_tokens,
            limit: g.limit,
            reserve: g.reserve,
            action: g.action,
            strategy: g.strategy,
            keep_last: g.keep_last,
            summarizer: g.summarizer.clone(),
        },
        providers,
        routes: BTreeMap::new(),
        models: g.models.clone(),
    })
}
