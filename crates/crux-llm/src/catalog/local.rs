//! Catalog data for Ollama: local models, so every price is 0 and the output cap is the context window.

use super::CatalogModel;
use super::rows::{CHAT_JSON, JSON, REASON, STREAM, VISION, embed, m, usd};

/// A local chat model: free, output bounded only by the context window.
const fn local(
    id: &'static str,
    name: &'static str,
    family: &'static str,
    context: u64,
    bits: u8,
) -> CatalogModel {
    m(
        id,
        name,
        family,
        (context, context),
        usd(0.0, 0.0, None),
        bits,
    )
}

/// Ollama library models (ids without a tag mean `:latest`; sized tags resolve by prefix, e.g. `qwen3:8b`).
#[rustfmt::skip]
pub(super) static OLLAMA: &[CatalogModel] = &[
    local("llama3.2", "Llama 3.2", "llama", 131_072, CHAT_JSON),
    local("llama3.1", "Llama 3.1", "llama", 131_072, CHAT_JSON),
    local("llama3.3", "Llama 3.3", "llama", 131_072, CHAT_JSON),
    local("qwen2.5-coder", "Qwen2.5 Coder", "qwen2.5", 32_768, CHAT_JSON).with_fim(),
    local("qwen3", "Qwen3", "qwen3", 40_960, CHAT_JSON | REASON),
    local("deepseek-r1", "DeepSeek-R1", "deepseek-r1", 131_072, STREAM | JSON | REASON),
    local("gpt-oss", "gpt-oss", "gpt-oss", 131_072, CHAT_JSON | REASON),
    local("gemma3", "Gemma 3", "gemma", 131_072, STREAM | JSON | VISION),
    local("mistral", "Mistral 7B", "mistral", 32_768, CHAT_JSON),
    local("devstral", "Devstral", "mistral", 131_072, CHAT_JSON),
    local("phi4", "Phi-4", "phi", 16_384, STREAM | JSON),
    local("llava", "LLaVA", "llava", 4_096, STREAM | JSON | VISION),
    embed("nomic-embed-text", "Nomic Embed Text", "nomic-bert", 8_192, 0.0),
    embed("mxbai-embed-large", "mxbai-embed-large", "bert", 512, 0.0),
];
