//! Context windows: token counting, whether a request fits its model, pruning, and the input guard that rejects an
//! oversized request with `too_large` before it goes upstream.
//!
//! Limits come from the [`Registry`] (exact id, then longest known prefix). The request's `max_tokens` is reserved
//! for the answer: a request fits when `input + max_tokens ≤ context window`. Token counts are exact for
//! OpenAI-family models and an estimate for the rest (see [`tokens`]).

mod guard;
mod prune;
pub mod tokens;

use serde::Serialize;

pub use self::guard::{ContextStrategy, GuardAction, GuardConfig, GuardRule};
pub use self::prune::{PruneStrategy, Pruned, prune};
pub use self::tokens::{Tokenizer, warm_up};
use crate::error::{Error, Result};
use crate::model_id::ModelId;
use crate::registry::Registry;
use crate::types::{ChatRequest, Message, ResponseFormat};

/// Tokens of `messages` for `model`, reply priming included.
pub fn count_tokens(model: &ModelId, messages: &[Message]) -> u64 {
    let tk = Tokenizer::for_model(&model.model);
    tokens::REPLY_PRIMING
        + messages
            .iter()
            .map(|m| tokens::message_tokens(tk, m))
            .sum::<u64>()
}

/// Tokens the request sends besides its messages: tool definitions and the JSON schema of the output format.
pub fn overhead_tokens(req: &ChatRequest) -> u64 {
    let tk = Tokenizer::for_model(&req.model.model);
    let tools = if req.tools.is_empty() {
        0
    } else {
        serde_json::to_string(&req.tools).map_or(0, |s| tk.count(&s))
    };
    let schema = match &req.response_format {
        ResponseFormat::JsonSchema { schema, .. } => tk.count(&schema.to_string()),
        ResponseFormat::Text | ResponseFormat::JsonObject => 0,
    };
    tools + schema
}

/// All input tokens of a request: messages, tools and output schema.
pub fn count_request(req: &ChatRequest) -> u64 {
    count_tokens(&req.model, &req.messages) + overhead_tokens(req)
}

/// A request measured against its model's context window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// Input tokens (messages, tools, schema).
    pub input_tokens: u64,
    /// Tokens reserved for the answer (the request's `max_tokens`, else 0).
    pub reserved_output: u64,
    /// The model's context window, when the registry knows it.
    pub context_limit: Option<u64>,
}

impl Budget {
    /// Input plus reserved output.
    pub fn needed(&self) -> u64 {
        self.input_tokens.saturating_add(self.reserved_output)
    }

    /// Whether the request fits (an unknown limit is not held against it).
    pub fn fits(&self) -> bool {
        self.context_limit
            .is_none_or(|limit| self.needed() <= limit)
    }
}

/// Measure `req` against its model's context window.
pub fn budget(req: &ChatRequest, registry: &Registry) -> Budget {
    Budget {
        input_tokens: count_request(req),
        reserved_output: req.max_tokens.map_or(0, u64::from),
        context_limit: registry.context_limit(&req.model),
    }
}

/// Whether `req` fits its model's context window with its `max_tokens` reserved.
pub fn fits(req: &ChatRequest, registry: &Registry) -> bool {
    budget(req, registry).fits()
}

/// Prune `req`'s messages so the request fits its model's window; `None` when the registry knows no limit.
pub fn prune_request(
    req: &ChatRequest,
    registry: &Registry,
    strategy: PruneStrategy,
) -> Option<Pruned> {
    let limit = registry.context_limit(&req.model)?;
    let fixed = overhead_tokens(req) + req.max_tokens.map_or(0, u64::from);
    Some(prune(
        &req.model,
        &req.messages,
        limit.saturating_sub(fixed),
        strategy,
    ))
}

/// The input guard: reject `req` with [`Error::TooLarge`] (code `too_large`) when it cannot fit its model's
/// context window with `max_tokens` reserved, or exceeds a configured `max_input_tokens`. Returns the measurement
/// when it passes (or when the guard is disabled for this model).
pub fn check_input(req: &ChatRequest, registry: &Registry, guard: &GuardConfig) -> Result<Budget> {
    let b = budget(req, registry);
    let rule = guard.rule_for(&req.model);
    if rule.enabled == Some(false) {
        return Ok(b);
    }
    let too_large = |tokens, limit| Error::TooLarge {
        model: req.model.to_string(),
        tokens,
        limit,
    };
    if let Some(max) = rule.max_input_tokens.filter(|max| b.input_tokens > *max) {
        return Err(too_large(b.input_tokens, max));
    }
    match b.context_limit {
        Some(limit) if b.needed() > limit => Err(too_large(b.needed(), limit)),
        _ => Ok(b),
    }
}

#[cfg(test)]
mod tests;
