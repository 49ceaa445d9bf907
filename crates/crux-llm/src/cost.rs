//! Cost of a call in USD: reported usage × catalog prices (per million tokens).
//!
//! Usage follows OpenAI semantics (prompt tokens include cached ones; completion includes reasoning), so the
//! uncached part of the prompt is billed at the input price, the cached part at the cached-input price when the
//! model has one (else the input price), and the completion at the output price. A provider-reported cost
//! (OpenRouter's `usage.cost`) wins over the computation, since it is what the account was charged.

use crate::catalog::Prices;
use crate::model_id::ModelId;
use crate::registry::Registry;
use crate::types::Usage;

const PER_MILLION: f64 = 1_000_000.0;

/// `usage` priced with `prices`; `None` when the usage has no token counts at all. A side the provider did not
/// report counts as zero.
pub fn cost_usd(prices: &Prices, usage: &Usage) -> Option<f64> {
    if usage.prompt.is_none() && usage.completion.is_none() {
        return None;
    }
    let prompt = usage.prompt.unwrap_or(0);
    let cached = usage.cached_prompt.unwrap_or(0).min(prompt);
    let uncached = prompt - cached;
    let completion = usage.completion.unwrap_or(0);
    let cached_price = prices.cached_input.unwrap_or(prices.input);
    Some(
        (uncached as f64 * prices.input
            + cached as f64 * cached_price
            + completion as f64 * prices.output)
            / PER_MILLION,
    )
}

/// The cost of one call to `model`: the provider's own figure when it reported one, else `usage` × the registry's
/// prices for the model (exact id, then longest known prefix); `None` when neither is known.
pub fn request_cost(registry: &Registry, model: &ModelId, usage: &Usage) -> Option<f64> {
    usage
        .cost
        .or_else(|| cost_usd(&registry.prices(model)?, usage))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ProviderId;

    fn usage(prompt: u64, cached: Option<u64>, completion: u64) -> Usage {
        Usage {
            prompt: Some(prompt),
            completion: Some(completion),
            total: Some(prompt + completion),
            cached_prompt: cached,
            ..Usage::default()
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn prices_per_million() {
        let p = Prices {
            input: 2.5,
            output: 10.0,
            cached_input: Some(1.25),
        };
        let c = cost_usd(&p, &usage(1_000_000, None, 1_000_000)).unwrap_or_default();
        assert!(close(c, 12.5), "{c}");
        // 1000 prompt of which 400 cached, 500 completion.
        let c = cost_usd(&p, &usage(1_000, Some(400), 500)).unwrap_or_default();
        assert!(
            close(c, (600.0 * 2.5 + 400.0 * 1.25 + 500.0 * 10.0) / 1e6),
            "{c}"
        );
    }

    #[test]
    fn cached_tokens_fall_back_to_the_input_price() {
        let p = Prices {
            input: 3.0,
            output: 15.0,
            cached_input: None,
        };
        let with_cache = cost_usd(&p, &usage(1_000, Some(1_000), 0));
        let without = cost_usd(&p, &usage(1_000, None, 0));
        assert_eq!(with_cache, without);
        // More cached than prompt (inconsistent report) never goes negative.
        let odd = cost_usd(&p, &usage(10, Some(50), 0)).unwrap_or(-1.0);
        assert!(close(odd, 10.0 * 3.0 / 1e6));
    }

    #[test]
    fn no_counts_no_cost() {
        let p = Prices {
            input: 1.0,
            output: 1.0,
            cached_input: None,
        };
        assert_eq!(cost_usd(&p, &Usage::default()), None);
    }

    #[test]
    fn request_cost_uses_registry_prices_or_the_reported_cost() {
        let reg = Registry::new();
        let mini = ModelId::new(ProviderId::OpenAi, "gpt-4o-mini-2024-07-18");
        let c = request_cost(&reg, &mini, &usage(2_000, None, 1_000)).unwrap_or_default();
        assert!(close(c, (2_000.0 * 0.15 + 1_000.0 * 0.60) / 1e6), "{c}");
        let local = ModelId::new(ProviderId::Ollama, "llama3.2");
        assert_eq!(request_cost(&reg, &local, &usage(10, None, 10)), Some(0.0));
        let reported = Usage {
            cost: Some(0.0042),
            ..usage(10, None, 10)
        };
        let routed = ModelId::new(
            ProviderId::OpenRouter,
            "meta-llama/llama-3.1-8b-instruct:free",
        );
        assert_eq!(request_cost(&reg, &routed, &reported), Some(0.0042));
        let unknown = ModelId::new(ProviderId::Groq, "who-knows");
        assert_eq!(request_cost(&reg, &unknown, &usage(1, None, 1)), None);
    }
}
