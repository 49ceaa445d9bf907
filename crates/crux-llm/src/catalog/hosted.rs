//! Catalog data for the OpenAI-wire hosts: OpenRouter, DeepSeek, xAI, Groq and Mistral.

use super::rows::{CHAT, CHAT_JSON, MULTI, REASON, STREAM, VISION, embed, m, usd};
use super::{CatalogModel, Prices};

/// A model whose provider publishes no separate output cap: output is bounded by the context window.
const fn open_cap(
    id: &'static str,
    name: &'static str,
    family: &'static str,
    context: u64,
    prices: Prices,
    bits: u8,
) -> CatalogModel {
    m(id, name, family, (context, context), prices, bits)
}

/// OpenRouter (its own per-model prices; `usage.cost` reported by OpenRouter wins over these when present).
#[rustfmt::skip]
pub(super) static OPENROUTER: &[CatalogModel] = &[
    m("meta-llama/llama-3.1-8b-instruct", "Llama 3.1 8B Instruct", "llama", (131_072, 16_384), usd(0.02, 0.03, None), CHAT),
    m("meta-llama/llama-3.3-70b-instruct", "Llama 3.3 70B Instruct", "llama", (131_072, 16_384), usd(0.13, 0.40, None), CHAT),
    m("openai/gpt-4o", "OpenAI GPT-4o", "gpt-4o", (128_000, 16_384), usd(2.50, 10.00, Some(1.25)), MULTI),
    m("openai/gpt-4o-mini", "OpenAI GPT-4o mini", "gpt-4o", (128_000, 16_384), usd(0.15, 0.60, Some(0.075)), MULTI),
    m("openai/gpt-5", "OpenAI GPT-5", "gpt-5", (400_000, 128_000), usd(1.25, 10.00, Some(0.125)), MULTI | REASON),
    m("anthropic/claude-3.5-haiku", "Anthropic Claude 3.5 Haiku", "claude-3-5", (200_000, 8_192), usd(0.80, 4.00, Some(0.08)), CHAT | VISION),
    m("anthropic/claude-sonnet-4", "Anthropic Claude Sonnet 4", "claude-4", (200_000, 64_000), usd(3.00, 15.00, Some(0.30)), CHAT | VISION | REASON),
    m("google/gemini-2.0-flash-001", "Google Gemini 2.0 Flash", "gemini-2.0", (1_048_576, 8_192), usd(0.10, 0.40, Some(0.025)), MULTI),
    m("google/gemini-2.5-pro", "Google Gemini 2.5 Pro", "gemini-2.5", (1_048_576, 65_536), usd(1.25, 10.00, Some(0.31)), MULTI | REASON),
    m("deepseek/deepseek-chat-v3-0324", "DeepSeek V3 0324", "deepseek-v3", (163_840, 16_384), usd(0.27, 1.10, None), CHAT),
    m("deepseek/deepseek-r1", "DeepSeek R1", "deepseek-r1", (163_840, 32_768), usd(0.55, 2.19, None), STREAM | REASON),
    m("mistralai/mistral-small-3.1-24b-instruct", "Mistral Small 3.1 24B", "mistral-small", (131_072, 16_384), usd(0.10, 0.30, None), CHAT | VISION),
    m("qwen/qwen-2.5-72b-instruct", "Qwen2.5 72B Instruct", "qwen2.5", (32_768, 16_384), usd(0.12, 0.39, None), CHAT),
    m("x-ai/grok-3-mini", "xAI Grok 3 Mini", "grok-3", (131_072, 16_384), usd(0.30, 0.50, Some(0.075)), CHAT | REASON),
];

/// DeepSeek (V3.2 prices; cached = cache-hit price).
#[rustfmt::skip]
pub(super) static DEEPSEEK: &[CatalogModel] = &[
    m("deepseek-chat", "DeepSeek Chat", "deepseek-v3", (128_000, 8_192), usd(0.28, 0.42, Some(0.028)), CHAT),
    m("deepseek-reasoner", "DeepSeek Reasoner", "deepseek-v3", (128_000, 65_536), usd(0.28, 0.42, Some(0.028)), STREAM | REASON),
];

/// xAI (no separate output cap is published).
#[rustfmt::skip]
pub(super) static XAI: &[CatalogModel] = &[
    open_cap("grok-3-mini", "Grok 3 Mini", "grok-3", 131_072, usd(0.30, 0.50, Some(0.075)), CHAT_JSON | REASON),
    open_cap("grok-3", "Grok 3", "grok-3", 131_072, usd(3.00, 15.00, Some(0.75)), CHAT_JSON),
    open_cap("grok-4-0709", "Grok 4", "grok-4", 256_000, usd(3.00, 15.00, Some(0.75)), MULTI | REASON)
        .aka(&["grok-4", "grok-4-latest"]),
    open_cap("grok-4-fast-reasoning", "Grok 4 Fast (reasoning)", "grok-4", 2_000_000, usd(0.20, 0.50, Some(0.05)), MULTI | REASON),
    open_cap("grok-4-fast-non-reasoning", "Grok 4 Fast", "grok-4", 2_000_000, usd(0.20, 0.50, Some(0.05)), MULTI),
    open_cap("grok-code-fast-1", "Grok Code Fast 1", "grok-code", 256_000, usd(0.20, 1.50, Some(0.02)), CHAT_JSON | REASON),
    open_cap("grok-2-vision-1212", "Grok 2 Vision", "grok-2", 32_768, usd(2.00, 10.00, None), MULTI),
];

/// Groq (on-demand prices).
#[rustfmt::skip]
pub(super) static GROQ: &[CatalogModel] = &[
    m("llama-3.3-70b-versatile", "Llama 3.3 70B Versatile", "llama", (131_072, 32_768), usd(0.59, 0.79, None), CHAT),
    m("llama-3.1-8b-instant", "Llama 3.1 8B Instant", "llama", (131_072, 131_072), usd(0.05, 0.08, None), CHAT),
    m("openai/gpt-oss-120b", "GPT-OSS 120B", "gpt-oss", (131_072, 65_536), usd(0.15, 0.75, Some(0.075)), CHAT_JSON | REASON),
    m("openai/gpt-oss-20b", "GPT-OSS 20B", "gpt-oss", (131_072, 65_536), usd(0.075, 0.30, Some(0.0375)), CHAT_JSON | REASON),
    m("meta-llama/llama-4-scout-17b-16e-instruct", "Llama 4 Scout", "llama-4", (131_072, 8_192), usd(0.11, 0.34, None), MULTI),
    m("meta-llama/llama-4-maverick-17b-128e-instruct", "Llama 4 Maverick", "llama-4", (131_072, 8_192), usd(0.20, 0.60, None), MULTI),
    m("qwen/qwen3-32b", "Qwen3 32B", "qwen3", (131_072, 40_960), usd(0.29, 0.59, None), CHAT | REASON),
    m("moonshotai/kimi-k2-instruct-0905", "Kimi K2 Instruct", "kimi-k2", (262_144, 16_384), usd(1.00, 3.00, Some(0.50)), CHAT_JSON),
];

/// Mistral (no separate output cap is published).
#[rustfmt::skip]
pub(super) static MISTRAL: &[CatalogModel] = &[
    open_cap("mistral-small-latest", "Mistral Small", "mistral-small", 131_072, usd(0.10, 0.30, None), MULTI),
    open_cap("mistral-medium-latest", "Mistral Medium", "mistral-medium", 131_072, usd(0.40, 2.00, None), MULTI),
    open_cap("mistral-large-latest", "Mistral Large", "mistral-large", 131_072, usd(2.00, 6.00, None), CHAT_JSON),
    open_cap("pixtral-large-latest", "Pixtral Large", "pixtral", 131_072, usd(2.00, 6.00, None), MULTI),
    open_cap("codestral-latest", "Codestral", "codestral", 256_000, usd(0.30, 0.90, None), CHAT_JSON).with_fim(),
    open_cap("devstral-small-latest", "Devstral Small", "devstral", 131_072, usd(0.10, 0.30, None), CHAT),
    open_cap("devstral-medium-latest", "Devstral Medium", "devstral", 131_072, usd(0.40, 2.00, None), CHAT),
    open_cap("magistral-medium-latest", "Magistral Medium", "magistral", 131_072, usd(2.00, 5.00, None), CHAT_JSON | REASON),
    open_cap("magistral-small-latest", "Magistral Small", "magistral", 131_072, usd(0.50, 1.50, None), CHAT_JSON | REASON),
    open_cap("ministral-8b-latest", "Ministral 8B", "ministral", 131_072, usd(0.10, 0.10, None), CHAT_JSON),
    open_cap("ministral-3b-latest", "Ministral 3B", "ministral", 131_072, usd(0.04, 0.04, None), CHAT_JSON),
    open_cap("open-mistral-nemo", "Mistral NeMo", "mistral-nemo", 131_072, usd(0.15, 0.15, None), CHAT_JSON),
    embed("mistral-embed", "Mistral Embed", "mistral-embed", 8_192, 0.10),
    embed("codestral-embed", "Codestral Embed", "codestral-embed", 8_192, 0.15),
];
