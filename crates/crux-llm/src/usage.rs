//! `Usage`: token counts a provider reported (a leaf both the chat and embedding types use).

use serde::{Deserialize, Serialize};

/// Token usage as reported by the provider (OpenAI semantics: prompt includes cached, completion includes reasoning).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens, cached included.
    pub prompt: Option<u64>,
    /// Output tokens, reasoning included.
    pub completion: Option<u64>,
    /// Total tokens.
    pub total: Option<u64>,
    /// Input tokens served from the provider's cache.
    pub cached_prompt: Option<u64>,
    /// Reasoning tokens within `completion`.
    pub reasoning: Option<u64>,
    /// Cost the provider itself reported for the call (OpenRouter credits, USD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
}

impl Usage {
    /// Prompt plus completion tokens, what per-minute token limits count (the provider's total when it gave one).
    pub fn tokens(&self) -> u64 {
        self.total
            .unwrap_or_else(|| self.prompt.unwrap_or(0) + self.completion.unwrap_or(0))
    }

    /// True when the provider reported no numbers at all.
    pub fn is_empty(&self) -> bool {
        *self == Usage::default()
    }
}
