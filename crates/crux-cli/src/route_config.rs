//! `[routes.NAME]`: an alias over targets — tried in order, or deployments balanced by a `strategy` (`weighted`,
//! `least-busy`, `latency`) with weights and a cooldown — and the alias's context strategy.

use std::collections::BTreeMap;
use std::time::Duration;

use crux_llm::context::{ContextStrategy, GuardAction, GuardRule};
use crux_llm::router::balance::{Balance, DEFAULT_COOLDOWN, Quota, Strategy};
use crux_llm::{ModelId, RouterConfig};
use serde::Deserialize;

use crate::exit::Failure;

/// `[routes.ALIAS]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// Targets: `provider/model` strings or `{ model = "provider/model", weight = 3 }` deployments.
    pub targets: Vec<TargetSection>,
    /// How the first target is picked: `ordered` (default), `weighted`, `least-busy` or `latency`.
    pub strategy: Option<Strategy>,
    /// How long a deployment that failed (or answered 429 without `retry-after`) is tried last (default 5000).
    pub cooldown_ms: Option<u64>,
    /// Prune inputs that do not fit instead of refusing them: `oldest-first`, `sliding-window` or `summarize`.
    pub context: Option<ContextStrategy>,
    /// The summarizer for `context = "summarize"` (default: the route's first target).
    pub summarizer: Option<String>,
}

/// One target of a route.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum TargetSection {
    /// `"provider/model"`.
    Name(String),
    /// A deployment with its weight.
    Deployment(DeploymentSection),
}

/// `{ model = "provider/model", weight = 3, rpm = 500, tpm = 200000 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentSection {
    /// `provider/model`.
    pub model: String,
    /// Share of first tries under `weighted` (default 1).
    pub weight: Option<u32>,
    /// Its own requests per clock minute: once used, it is tried after the others until the minute ends.
    pub rpm: Option<u32>,
    /// Its own tokens (prompt plus completion) per clock minute, likewise.
    pub tpm: Option<u32>,
}

impl TargetSection {
    /// The `provider/model` name.
    pub fn name(&self) -> &str {
        match self {
            TargetSection::Name(n) => n,
            TargetSection::Deployment(d) => &d.model,
        }
    }

    fn weight(&self) -> u32 {
        match self {
            TargetSection::Name(_) => 1,
            TargetSection::Deployment(d) => d.weight.unwrap_or(1),
        }
    }

    fn quota(&self) -> Quota {
        match self {
            TargetSection::Name(_) => Quota::default(),
            TargetSection::Deployment(d) => Quota {
                rpm: d.rpm,
                tpm: d.tpm,
            },
        }
    }
}

impl RouteSection {
    /// The targets' `provider/model` names, in order.
    pub fn target_names(&self) -> Vec<String> {
        self.targets.iter().map(|t| t.name().to_owned()).collect()
    }
}

/// Put `routes` into the router config: aliases, balanced ones with their weights, context rules.
pub fn apply(
    routes: &BTreeMap<String, RouteSection>,
    router: &mut RouterConfig,
) -> Result<(), Failure> {
    for (alias, route) in routes {
        let bad = |why: String| Failure::usage(format!("config [routes.{alias}]: {why}"));
        if route.targets.is_empty() {
            return Err(Failure::usage(format!(
                "config [routes.{alias}] needs at least one target"
            )));
        }
        let targets = route
            .targets
            .iter()
            .map(|t| t.name().parse::<ModelId>().map_err(|e| bad(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let weights: Vec<u32> = route.targets.iter().map(TargetSection::weight).collect();
        if weights.contains(&0) {
            return Err(bad("a weight must be at least 1".into()));
        }
        let strategy = route.strategy.unwrap_or_default();
        let weighted = weights.iter().any(|w| *w != 1);
        if weighted && strategy != Strategy::Weighted {
            return Err(bad(format!(
                "weights need strategy = \"weighted\" (this route is {})",
                strategy.as_str()
            )));
        }
        let quotas: Vec<Quota> = route.targets.iter().map(TargetSection::quota).collect();
        if quotas.iter().any(|q| q.rpm == Some(0) || q.tpm == Some(0)) {
            return Err(bad("a deployment's rpm and tpm must be at least 1".into()));
        }
        let limited = quotas.iter().any(|q| *q != Quota::default());
        if strategy != Strategy::Ordered || route.cooldown_ms.is_some() || limited {
            router.balance.insert(
                alias.clone(),
                Balance {
                    strategy,
                    weights,
                    cooldown: route
                        .cooldown_ms
                        .map_or(DEFAULT_COOLDOWN, Duration::from_millis),
                    quotas,
                },
            );
        }
        if let Some(strategy) = route.context {
            router.guard.routes.insert(
                alias.clone(),
                GuardRule {
                    action: Some(GuardAction::Prune),
                    strategy: Some(strategy),
                    summarizer: route
                        .summarizer
                        .clone()
                        .or_else(|| targets.first().map(ToString::to_string)),
                    ..GuardRule::default()
                },
            );
        }
        router.routes.insert(alias.clone(), targets);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(text: &str) -> Result<RouterConfig, String> {
        #[derive(Deserialize)]
        struct F {
            routes: BTreeMap<String, RouteSection>,
        }
        let f: F = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut r = RouterConfig::default();
        apply(&f.routes, &mut r).map_err(|e| e.message)?;
        Ok(r)
    }

    #[test]
    fn deployment_quotas_make_an_ordered_route_balanced() {
        let r = routes(
            r#"
[routes.capped]
targets = [{ model = "openai/gpt-4o-mini", rpm = 500, tpm = 200000 }, "groq/llama-3.3-70b-versatile"]
"#,
        );
        let b = &r.unwrap().balance["capped"];
        assert_eq!(b.strategy, Strategy::Ordered);
        assert_eq!(
            b.quotas,
            vec![
                Quota {
                    rpm: Some(500),
                    tpm: Some(200_000)
                },
                Quota::default()
            ]
        );
        let zero =
            routes("[routes.x]\ntargets = [{ model = \"openai/gpt-4o\", rpm = 0 }]\n").unwrap_err();
        assert!(zero.contains("at least 1"), "{zero}");
    }

    #[test]
    fn deployments_with_weights_become_a_balanced_alias() {
        let r = routes(
            r#"
[routes.fast]
strategy = "weighted"
cooldown_ms = 2000
targets = [{ model = "openai/gpt-4o-mini", weight = 3 }, "groq/llama-3.3-70b-versatile"]

[routes.plain]
targets = ["openai/gpt-4o", "anthropic/claude-3-5-haiku-latest"]
"#,
        )
        .unwrap();
        let b = &r.balance["fast"];
        assert_eq!(
            (b.strategy, b.weights.clone()),
            (Strategy::Weighted, vec![3, 1])
        );
        assert_eq!(b.cooldown, Duration::from_secs(2));
        assert_eq!(r.routes["fast"].len(), 2);
        assert!(
            !r.balance.contains_key("plain"),
            "an ordered route is plain fallback"
        );
    }

    #[test]
    fn bad_strategies_weights_and_targets_are_refused() {
        for (text, needle) in [
            (
                "[routes.a]\nstrategy = \"random\"\ntargets = [\"openai/x\"]",
                "unknown variant",
            ),
            (
                "[routes.a]\ntargets = [{ model = \"openai/x\", weight = 2 }]",
                "strategy = \"weighted\"",
            ),
            (
                "[routes.a]\nstrategy = \"weighted\"\ntargets = [{ model = \"openai/x\", weight = 0 }]",
                "at least 1",
            ),
            ("[routes.a]\ntargets = [\"nope/x\"]", "unknown provider"),
        ] {
            let e = routes(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
