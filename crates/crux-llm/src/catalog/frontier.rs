//! Catalog data for OpenAI, Anthropic and Gemini (public list prices per million tokens, standard tier).

use super::rows::{CHAT, CHAT_JSON, MULTI, REASON, STREAM, VISION, embed, m, usd};
use super::{CatalogModel, SystemMessage};

/// OpenAI. Reasoning families (o-series, gpt-5) are served on the Responses API by the client.
#[rustfmt::skip]
pub(super) static OPENAI: &[CatalogModel] = &[
    m("gpt-4o-mini", "GPT-4o mini", "gpt-4o", (128_000, 16_384), usd(0.15, 0.60, Some(0.075)), MULTI),
    m("gpt-4o", "GPT-4o", "gpt-4o", (128_000, 16_384), usd(2.50, 10.00, Some(1.25)), MULTI),
    m("gpt-4.1", "GPT-4.1", "gpt-4.1", (1_047_576, 32_768), usd(2.00, 8.00, Some(0.50)), MULTI),
    m("gpt-4.1-mini", "GPT-4.1 mini", "gpt-4.1", (1_047_576, 32_768), usd(0.40, 1.60, Some(0.10)), MULTI),
    m("gpt-4.1-nano", "GPT-4.1 nano", "gpt-4.1", (1_047_576, 32_768), usd(0.10, 0.40, Some(0.025)), MULTI),
    m("gpt-5", "GPT-5", "gpt-5", (400_000, 128_000), usd(1.25, 10.00, Some(0.125)), MULTI | REASON),
    m("gpt-5-mini", "GPT-5 mini", "gpt-5", (400_000, 128_000), usd(0.25, 2.00, Some(0.025)), MULTI | REASON),
    m("gpt-5-nano", "GPT-5 nano", "gpt-5", (400_000, 128_000), usd(0.05, 0.40, Some(0.005)), MULTI | REASON),
    m("o1", "o1", "o1", (200_000, 100_000), usd(15.00, 60.00, Some(7.50)), MULTI | REASON),
    m("o1-mini", "o1-mini", "o1", (128_000, 65_536), usd(1.10, 4.40, Some(0.55)), STREAM | REASON)
        .system(SystemMessage::None),
    m("o3", "o3", "o3", (200_000, 100_000), usd(2.00, 8.00, Some(0.50)), MULTI | REASON),
    m("o3-mini", "o3-mini", "o3", (200_000, 100_000), usd(1.10, 4.40, Some(0.55)), CHAT_JSON | REASON),
    m("o4-mini", "o4-mini", "o4", (200_000, 100_000), usd(1.10, 4.40, Some(0.275)), MULTI | REASON),
    m("gpt-4-turbo", "GPT-4 Turbo", "gpt-4", (128_000, 4_096), usd(10.00, 30.00, None), CHAT | VISION),
    m("gpt-4", "GPT-4", "gpt-4", (8_192, 8_192), usd(30.00, 60.00, None), CHAT),
    m("gpt-3.5-turbo", "GPT-3.5 Turbo", "gpt-3.5", (16_385, 4_096), usd(0.50, 1.50, None), CHAT),
    embed("text-embedding-3-small", "Text Embedding 3 Small", "text-embedding-3", 8_191, 0.02),
    embed("text-embedding-3-large", "Text Embedding 3 Large", "text-embedding-3", 8_191, 0.13),
    embed("text-embedding-ada-002", "Text Embedding Ada 002", "text-embedding-ada", 8_191, 0.10),
];

/// Anthropic. Dated ids with the aliases the API accepts; cached = cache-read price.
#[rustfmt::skip]
pub(super) static ANTHROPIC: &[CatalogModel] = &[
    m("claude-3-5-haiku-20241022", "Claude 3.5 Haiku", "claude-3-5", (200_000, 8_192), usd(0.80, 4.00, Some(0.08)), CHAT)
        .aka(&["claude-3-5-haiku-latest"]),
    m("claude-3-5-sonnet-20241022", "Claude 3.5 Sonnet", "claude-3-5", (200_000, 8_192), usd(3.00, 15.00, Some(0.30)), CHAT | VISION)
        .aka(&["claude-3-5-sonnet-latest"]),
    m("claude-3-7-sonnet-20250219", "Claude 3.7 Sonnet", "claude-3-7", (200_000, 64_000), usd(3.00, 15.00, Some(0.30)), CHAT | VISION | REASON)
        .aka(&["claude-3-7-sonnet-latest"]),
    m("claude-sonnet-4-20250514", "Claude Sonnet 4", "claude-4", (200_000, 64_000), usd(3.00, 15.00, Some(0.30)), CHAT | VISION | REASON)
        .aka(&["claude-sonnet-4-0"]),
    m("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "claude-4-5", (200_000, 64_000), usd(3.00, 15.00, Some(0.30)), MULTI | REASON)
        .aka(&["claude-sonnet-4-5"]),
    m("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "claude-4-5", (200_000, 64_000), usd(1.00, 5.00, Some(0.10)), MULTI | REASON)
        .aka(&["claude-haiku-4-5"]),
    m("claude-opus-4-20250514", "Claude Opus 4", "claude-4", (200_000, 32_000), usd(15.00, 75.00, Some(1.50)), CHAT | VISION | REASON)
        .aka(&["claude-opus-4-0"]),
    m("claude-opus-4-1-20250805", "Claude Opus 4.1", "claude-4-1", (200_000, 32_000), usd(15.00, 75.00, Some(1.50)), MULTI | REASON)
        .aka(&["claude-opus-4-1"]),
    m("claude-3-opus-20240229", "Claude 3 Opus", "claude-3", (200_000, 4_096), usd(15.00, 75.00, Some(1.50)), CHAT | VISION)
        .aka(&["claude-3-opus-latest"]),
    m("claude-3-haiku-20240307", "Claude 3 Haiku", "claude-3", (200_000, 4_096), usd(0.25, 1.25, Some(0.03)), CHAT | VISION),
];

/// Google Gemini (prices for prompts up to 200k tokens).
#[rustfmt::skip]
pub(super) static GEMINI: &[CatalogModel] = &[
    m("gemini-2.0-flash", "Gemini 2.0 Flash", "gemini-2.0", (1_048_576, 8_192), usd(0.10, 0.40, Some(0.025)), MULTI),
    m("gemini-2.0-flash-lite", "Gemini 2.0 Flash-Lite", "gemini-2.0", (1_048_576, 8_192), usd(0.075, 0.30, None), MULTI),
    m("gemini-2.5-pro", "Gemini 2.5 Pro", "gemini-2.5", (1_048_576, 65_536), usd(1.25, 10.00, Some(0.31)), MULTI | REASON),
    m("gemini-2.5-flash", "Gemini 2.5 Flash", "gemini-2.5", (1_048_576, 65_536), usd(0.30, 2.50, Some(0.075)), MULTI | REASON),
    m("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", "gemini-2.5", (1_048_576, 65_536), usd(0.10, 0.40, Some(0.025)), MULTI | REASON),
    m("gemini-1.5-pro", "Gemini 1.5 Pro", "gemini-1.5", (2_097_152, 8_192), usd(1.25, 5.00, Some(0.3125)), MULTI),
    m("gemini-1.5-flash", "Gemini 1.5 Flash", "gemini-1.5", (1_048_576, 8_192), usd(0.075, 0.30, Some(0.018_75)), MULTI),
    m("gemini-1.5-flash-8b", "Gemini 1.5 Flash-8B", "gemini-1.5", (1_048_576, 8_192), usd(0.0375, 0.15, Some(0.01)), MULTI),
    embed("gemini-embedding-001", "Gemini Embedding 001", "gemini-embedding", 2_048, 0.15),
];
