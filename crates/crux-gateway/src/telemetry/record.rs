//! The finalize record: what accounting reports about a served model request, read by the access line and the spans.

use std::time::Duration;

/// What accounting reports about a served model request.
#[derive(Debug, Clone, Default)]
pub struct Finalize {
    /// Route label (`chat_completions`, `messages`, `api_chat`, …).
    pub route: &'static str,
    /// `chat` or `embeddings` (`gen_ai.operation.name`).
    pub operation: &'static str,
    /// The model name the caller asked for.
    pub model: String,
    /// The provider that served (or last failed).
    pub provider: Option<&'static str>,
    /// The `provider/model` that served (or last failed).
    pub target: Option<String>,
    /// The error code when it failed.
    pub error_code: Option<&'static str>,
    /// Wall time in the gateway.
    pub latency: Duration,
    /// Time waiting on the upstream.
    pub upstream: Option<Duration>,
    /// Time to first token.
    pub ttft: Option<Duration>,
    /// Prompt tokens.
    pub prompt_tokens: Option<u64>,
    /// Completion tokens.
    pub completion_tokens: Option<u64>,
    /// Cost in USD.
    pub cost_usd: Option<f64>,
    /// Targets skipped before the one that served.
    pub fallbacks: u32,
    /// Upstream retries.
    pub retries: usize,
    /// Streamed answer.
    pub streamed: bool,
}
