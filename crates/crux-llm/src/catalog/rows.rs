//! Compact constructors for the catalog's data tables: one line per model.

use super::{Capabilities, CatalogModel, Prices, SystemMessage};

pub(super) const STREAM: u8 = 1;
pub(super) const TOOLS: u8 = 1 << 1;
pub(super) const VISION: u8 = 1 << 2;
pub(super) const JSON: u8 = 1 << 3;
pub(super) const REASON: u8 = 1 << 4;
pub(super) const EMBED: u8 = 1 << 5;

/// Streaming chat with tools.
pub(super) const CHAT: u8 = STREAM | TOOLS;
/// Streaming chat with tools and JSON-schema output.
pub(super) const CHAT_JSON: u8 = CHAT | JSON;
/// Chat with tools, vision and JSON-schema output.
pub(super) const MULTI: u8 = CHAT_JSON | VISION;

pub(super) const fn caps(bits: u8) -> Capabilities {
    Capabilities {
        streaming: bits & STREAM != 0,
        tools: bits & TOOLS != 0,
        vision: bits & VISION != 0,
        json_schema: bits & JSON != 0,
        reasoning: bits & REASON != 0,
        embeddings: bits & EMBED != 0,
    }
}

/// Prices per million tokens: input, output, cached input.
pub(super) const fn usd(input: f64, output: f64, cached_input: Option<f64>) -> Prices {
    Prices {
        input,
        output,
        cached_input,
    }
}

/// A model row: id, display name, family, (context window, max output), prices, capability bits.
pub(super) const fn m(
    id: &'static str,
    name: &'static str,
    family: &'static str,
    (context_window, max_output_tokens): (u64, u64),
    prices: Prices,
    bits: u8,
) -> CatalogModel {
    CatalogModel {
        id,
        aliases: &[],
        name,
        family,
        context_window,
        max_output_tokens,
        prices: Some(prices),
        capabilities: caps(bits),
        system_message: None,
        fim: false,
    }
}

/// An embeddings model row: no output tokens, input price only.
pub(super) const fn embed(
    id: &'static str,
    name: &'static str,
    family: &'static str,
    context: u64,
    input: f64,
) -> CatalogModel {
    m(id, name, family, (context, 0), usd(input, 0.0, None), EMBED)
}

/// Row modifiers.
impl CatalogModel {
    pub(super) const fn aka(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    pub(super) const fn with_fim(mut self) -> Self {
        self.fim = true;
        self
    }

    pub(super) const fn system(mut self, style: SystemMessage) -> Self {
        self.system_message = Some(style);
        self
    }
}
