//! The built-in model catalog: every provider's known models with limits, prices, capabilities and the capability
//! keys the original service exposed to its IDE client, compiled into the binary (no parsing, nothing to fail).
//!
//! Data rules (enforced by tests):
//! - Prices are USD per million tokens, exactly as the provider publishes them. They are positive, except where zero
//!   is the truth: Ollama runs locally (every Ollama price is 0), and embedding models produce no output tokens
//!   (their output price and `max_output_tokens` are 0).
//! - Context windows are positive. When a provider publishes no separate output cap (Ollama, xAI, Mistral),
//!   `max_output_tokens` equals the context window.
//! - Every provider's `default_model` is one of its models (by id or alias), and ids are unique per provider.
//!
//! The catalog is the fallback knowledge; [`crate::registry::Registry`] merges it with what providers list and with
//! observed capabilities.

pub(crate) mod custom;
mod frontier;
mod hosted;
mod local;
mod rows;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model_id::ModelId;
use crate::providers::ProviderId;

/// Default of the IDE key `max_tool_calls_per_turn` for models that support tools (the original's Void profile).
pub const MAX_TOOL_CALLS_PER_TURN: u32 = 8;

/// A boolean model capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Streamed answers.
    Streaming,
    /// Function / tool calling.
    Tools,
    /// Image input.
    Vision,
    /// Output constrained to a JSON schema.
    JsonSchema,
    /// A reasoning ("thinking") model.
    Reasoning,
    /// An embeddings model.
    Embeddings,
    /// Accepts a `system` (instructions) role. Not tracked by the catalog: only observations set it.
    SystemRole,
    /// Reports usage in a streamed answer when asked (`stream_options.include_usage`). Observations only.
    StreamUsage,
}

impl Capability {
    /// Every capability, in display order.
    pub const ALL: [Capability; 8] = [
        Capability::Streaming,
        Capability::Tools,
        Capability::Vision,
        Capability::JsonSchema,
        Capability::Reasoning,
        Capability::Embeddings,
        Capability::SystemRole,
        Capability::StreamUsage,
    ];

    /// The capabilities the catalog rows record (the others are known only from observations).
    pub const CATALOG: [Capability; 6] = [
        Capability::Streaming,
        Capability::Tools,
        Capability::Vision,
        Capability::JsonSchema,
        Capability::Reasoning,
        Capability::Embeddings,
    ];

    /// The stable snake_case name (also the key stored for observations).
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Streaming => "streaming",
            Capability::Tools => "tools",
            Capability::Vision => "vision",
            Capability::JsonSchema => "json_schema",
            Capability::Reasoning => "reasoning",
            Capability::Embeddings => "embeddings",
            Capability::SystemRole => "system_role",
            Capability::StreamUsage => "stream_usage",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A capability name that is not one of [`Capability::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown capability '{0}' (known: streaming, tools, vision, json_schema, reasoning, embeddings, system_role, stream_usage)"
)]
pub struct UnknownCapability(pub String);

impl FromStr for Capability {
    type Err = UnknownCapability;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Capability::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCapability(s.to_owned()))
    }
}

/// The capabilities of a catalog model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// Streamed answers.
    pub streaming: bool,
    /// Tool calling.
    pub tools: bool,
    /// Image input.
    pub vision: bool,
    /// JSON-schema output.
    pub json_schema: bool,
    /// Reasoning model.
    pub reasoning: bool,
    /// Embeddings model.
    pub embeddings: bool,
}

impl Capabilities {
    /// Whether `cap` is supported (`false` for what the catalog does not track: see [`Capability::CATALOG`]).
    pub fn get(&self, cap: Capability) -> bool {
        match cap {
            Capability::SystemRole | Capability::StreamUsage => false,
            Capability::Streaming => self.streaming,
            Capability::Tools => self.tools,
            Capability::Vision => self.vision,
            Capability::JsonSchema => self.json_schema,
            Capability::Reasoning => self.reasoning,
            Capability::Embeddings => self.embeddings,
        }
    }

    /// The supported capabilities, in display order.
    pub fn supported(&self) -> Vec<Capability> {
        Capability::CATALOG
            .into_iter()
            .filter(|c| self.get(*c))
            .collect()
    }
}

/// Prices in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    /// Input (prompt) tokens.
    pub input: f64,
    /// Output (completion) tokens, reasoning included.
    pub output: f64,
    /// Input tokens read from the provider's prompt cache; `None` when the provider has no discounted cache price.
    pub cached_input: Option<f64>,
}

/// How the IDE client should format tools for this model (IDE key `tool_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolFormat {
    /// OpenAI function tools.
    #[serde(rename = "openai")]
    OpenAi,
    /// Anthropic tool use.
    Anthropic,
    /// Gemini function declarations.
    Gemini,
    /// No tools.
    None,
}

/// How the model takes system instructions (IDE key `system_message`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SystemMessage {
    /// A `developer` role message.
    DeveloperRole,
    /// A `system` role message.
    SystemRole,
    /// A separate system field.
    Separated,
    /// No system instructions.
    None,
}

/// The capability keys the original service exposed to its IDE client (Void), byte-compatible names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdeProfile {
    /// `tool_format`.
    pub tool_format: ToolFormat,
    /// `system_message`.
    pub system_message: SystemMessage,
    /// `fim`: fill-in-the-middle completion.
    pub fim: bool,
    /// `tools_supported`.
    pub tools_supported: bool,
    /// `max_tool_calls_per_turn` (0 when tools are not supported).
    pub max_tool_calls_per_turn: u32,
}

/// One model of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CatalogModel {
    /// The provider's model id.
    pub id: &'static str,
    /// Other ids the provider accepts for the same model (e.g. `-latest` aliases).
    pub aliases: &'static [&'static str],
    /// Display name.
    pub name: &'static str,
    /// Model family.
    pub family: &'static str,
    /// Context window in tokens (input and output together).
    pub context_window: u64,
    /// Largest output in tokens (0 for embedding models).
    pub max_output_tokens: u64,
    /// Prices per million tokens (`None` only for a config model listed without prices).
    pub prices: Option<Prices>,
    /// Capabilities.
    pub capabilities: Capabilities,
    /// Overrides the provider's `system_message` style for this model.
    pub system_message: Option<SystemMessage>,
    /// Fill-in-the-middle support.
    pub fim: bool,
}

impl CatalogModel {
    /// Whether `id` names this model (its id or one of its aliases).
    pub fn answers_to(&self, id: &str) -> bool {
        self.id == id || self.aliases.contains(&id)
    }

    /// The IDE capability keys of this model on `provider`.
    pub fn ide(&self, provider: &ProviderCatalog) -> IdeProfile {
        let tools = self.capabilities.tools;
        IdeProfile {
            tool_format: if tools {
                provider.tool_format
            } else {
                ToolFormat::None
            },
            system_message: self.system_message.unwrap_or(provider.system_message),
            fim: self.fim,
            tools_supported: tools,
            max_tool_calls_per_turn: if tools { MAX_TOOL_CALLS_PER_TURN } else { 0 },
        }
    }
}

/// One provider's part of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProviderCatalog {
    /// The provider.
    pub provider: ProviderId,
    /// The model used when a request names none (always one of `models`).
    pub default_model: &'static str,
    /// Default IDE `tool_format` for the provider's tool-capable models.
    pub tool_format: ToolFormat,
    /// Default IDE `system_message` style.
    pub system_message: SystemMessage,
    /// The models.
    pub models: &'static [CatalogModel],
}

impl ProviderCatalog {
    /// The model answering to `id` (exact id or alias; Ollama's `:latest` tag is implied).
    pub fn model(&self, id: &str) -> Option<&'static CatalogModel> {
        let id = canonical_id(self.provider, id);
        self.models.iter().find(|m| m.answers_to(id))
    }

    /// The IDE keys for a model the catalog does not know (tools assumed, as the original's profile did).
    pub fn ide_default(&self) -> IdeProfile {
        IdeProfile {
            tool_format: self.tool_format,
            system_message: self.system_message,
            fim: false,
            tools_supported: true,
            max_tool_calls_per_turn: MAX_TOOL_CALLS_PER_TURN,
        }
    }
}

/// The id a provider treats as the same model: Ollama's `name:latest` is `name`; other ids are unchanged.
pub fn canonical_id(provider: ProviderId, id: &str) -> &str {
    match provider {
        ProviderId::Ollama => id.strip_suffix(":latest").unwrap_or(id),
        _ => id,
    }
}

/// Every built-in provider's catalog, indexed by [`ProviderId::index`].
static CATALOG: [ProviderCatalog; 9] = [
    ProviderCatalog {
        provider: ProviderId::OpenAi,
        default_model: "gpt-4o-mini",
        tool_format: ToolFormat::OpenAi,
        system_message: SystemMessage::DeveloperRole,
        models: frontier::OPENAI,
    },
    ProviderCatalog {
        provider: ProviderId::Anthropic,
        default_model: "claude-3-5-haiku-latest",
        tool_format: ToolFormat::Anthropic,
        system_message: SystemMessage::Separated,
        models: frontier::ANTHROPIC,
    },
    ProviderCatalog {
        provider: ProviderId::Gemini,
        default_model: "gemini-2.0-flash",
        tool_format: ToolFormat::Gemini,
        system_message: SystemMessage::Separated,
        models: frontier::GEMINI,
    },
    ProviderCatalog {
        provider: ProviderId::Ollama,
        default_model: "llama3.2",
        tool_format: ToolFormat::OpenAi,
        system_message: SystemMessage::SystemRole,
        models: local::OLLAMA,
    },
    ProviderCatalog {
        provider: ProviderId::OpenRouter,
        default_model: "meta-llama/llama-3.1-8b-instruct",
        tool_format: ToolFormat::OpenAi,
        system_message: SystemMessage::DeveloperRole,
        models: hosted::OPENROUTER,
    },
    ProviderCatalog {
        provider: ProviderId::DeepSeek,
        default_model: "deepseek-chat",
        tool_format: ToolFormat::OpenAi,
        system_message: SystemMessage::DeveloperRole,
        models: hosted::DEEPSEEK,
    },
    ProviderCatalog {
        provider: ProviderId::Xai,
        default_model: "grok-3-mini",
        tool_format: ToolFormat::OpenAi,
        system_message: SystemMessage::DeveloperRole,
        models: hosted::XAI,
    },
    ProviderCatalog {
        provider: ProviderId::Groq,
        default_model: "llama-3.3-70b-versatile",
        tool_format: ToolFormat::OpenAi,
        system_message: SystemMessage::SystemRole,
        models: hosted::GROQ,
    },
    ProviderCatalog {
        provider: ProviderId::Mistral,
        default_model: "mistral-small-latest",
        tool_format: ToolFormat::OpenAi,
        system_message: SystemMessage::SystemRole,
        models: hosted::MISTRAL,
    },
];

/// The catalog of a config provider that lists no models.
static EMPTY: ProviderCatalog = ProviderCatalog {
    provider: ProviderId::OpenAi,
    default_model: "",
    tool_format: ToolFormat::OpenAi,
    system_message: SystemMessage::SystemRole,
    models: &[],
};

/// Every built-in provider's catalog, in [`ProviderId::BUILTIN`] order.
pub fn all() -> &'static [ProviderCatalog] {
    &CATALOG
}

/// One provider's catalog (a config provider's: the models its section lists).
pub fn provider(p: ProviderId) -> &'static ProviderCatalog {
    CATALOG
        .get(p.index())
        .or_else(|| custom::get(p.index() - CATALOG.len()))
        .unwrap_or(&EMPTY)
}

/// The provider's built-in default model id.
pub fn default_model(p: ProviderId) -> &'static str {
    provider(p).default_model
}

/// The catalog entry for `model` (exact id or alias).
pub fn find(model: &ModelId) -> Option<&'static CatalogModel> {
    provider(model.provider).model(&model.model)
}

/// The providers whose catalog has the bare model id `id` (for resolving names sent without a provider).
pub fn providers_offering(id: &str) -> Vec<ProviderId> {
    CATALOG
        .iter()
        .filter(|c| c.model(id).is_some())
        .map(|c| c.provider)
        .collect()
}

#[cfg(test)]
mod tests;
