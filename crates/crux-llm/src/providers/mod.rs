//! The provider table: one row per supported provider (wire format, endpoint, keys, auth, quirks); the rows a config
//! defines live in [`custom`].

pub(crate) mod custom;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The wire formats Crux speaks; dispatch is a `match` on this closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wire {
    /// OpenAI Chat Completions (and compatible vendors).
    OpenAi,
    /// OpenAI Responses API (reasoning model families).
    Responses,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini `generateContent`.
    Gemini,
    /// Ollama native `/api/chat` (NDJSON).
    Ollama,
    /// AWS Bedrock Converse / ConverseStream (binary event-stream framing).
    Bedrock,
}

/// How the API key is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStyle {
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// `x-api-key: KEY` (Anthropic).
    XApiKey,
    /// `x-goog-api-key: KEY` (Gemini; never in the URL).
    GoogApiKey,
    /// `api-key: KEY` (Azure OpenAI).
    ApiKey,
    /// AWS Signature Version 4 over the whole request (Bedrock); the key is `ACCESS_KEY_ID:SECRET_ACCESS_KEY` with
    /// an optional `:SESSION_TOKEN`.
    SigV4,
    /// No key needed (local Ollama).
    None,
}

/// Which field carries the output-token limit on an OpenAI-wire request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_completion_tokens` (OpenAI).
    MaxCompletionTokens,
    /// `max_tokens` (compatible vendors).
    MaxTokens,
}

/// Per-provider deviations from the base wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    /// Field used for the token limit.
    pub max_tokens_field: MaxTokensField,
    /// Seed goes in `random_seed` (Mistral).
    pub random_seed: bool,
    /// Tool-call ids must be exactly 9 alphanumerics (Mistral); foreign ids are rewritten.
    pub nine_char_tool_ids: bool,
    /// `developer` role is not accepted and is sent as `system`.
    pub no_developer_role: bool,
    /// `messages[].name` is rejected (Groq).
    pub no_message_name: bool,
    /// Send OpenRouter attribution headers.
    pub attribution_headers: bool,
    /// Usage may arrive in `x_groq.usage`.
    pub groq_usage: bool,
    /// Reasoning text arrives in `reasoning_content` / `reasoning` fields.
    pub reasoning_content: bool,
}

const OPENAI_QUIRKS: Quirks = Quirks {
    max_tokens_field: MaxTokensField::MaxCompletionTokens,
    random_seed: false,
    nine_char_tool_ids: false,
    no_developer_role: false,
    no_message_name: false,
    attribution_headers: false,
    groq_usage: false,
    reasoning_content: false,
};

pub(crate) const COMPAT_QUIRKS: Quirks = Quirks {
    max_tokens_field: MaxTokensField::MaxTokens,
    no_developer_role: true,
    ..OPENAI_QUIRKS
};

/// Identifier of a provider: one of the nine built-in rows, or one defined in the config (`[providers.NAME]` with a
/// `wire`, registered once at startup by [`crate::custom::register`]). Cheap to copy; `spec()` is an index.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderId(u16);

#[allow(non_upper_case_globals)]
impl ProviderId {
    /// OpenAI.
    pub const OpenAi: ProviderId = ProviderId(0);
    /// Anthropic.
    pub const Anthropic: ProviderId = ProviderId(1);
    /// Google Gemini.
    pub const Gemini: ProviderId = ProviderId(2);
    /// Ollama (local).
    pub const Ollama: ProviderId = ProviderId(3);
    /// OpenRouter.
    pub const OpenRouter: ProviderId = ProviderId(4);
    /// DeepSeek.
    pub const DeepSeek: ProviderId = ProviderId(5);
    /// xAI.
    pub const Xai: ProviderId = ProviderId(6);
    /// Groq.
    pub const Groq: ProviderId = ProviderId(7);
    /// Mistral.
    pub const Mistral: ProviderId = ProviderId(8);

    /// The built-in providers, in display order.
    pub const BUILTIN: [ProviderId; 9] = [
        ProviderId::OpenAi,
        ProviderId::Anthropic,
        ProviderId::Gemini,
        ProviderId::Ollama,
        ProviderId::OpenRouter,
        ProviderId::DeepSeek,
        ProviderId::Xai,
        ProviderId::Groq,
        ProviderId::Mistral,
    ];

    /// Every provider: the built-in ones, then those defined in the config, in the order they were registered.
    pub fn all() -> Vec<ProviderId> {
        Self::iter().collect()
    }

    /// [`ProviderId::all`] without collecting it (for the request path).
    pub fn iter() -> impl Iterator<Item = ProviderId> {
        Self::BUILTIN
            .into_iter()
            .chain((0..custom::count()).map(ProviderId::custom))
    }

    const fn custom_base() -> u16 {
        PROVIDERS.len() as u16
    }

    /// The id of the `i`-th provider defined in the config.
    pub(crate) fn custom(i: usize) -> ProviderId {
        ProviderId(Self::custom_base() + u16::try_from(i).unwrap_or(u16::MAX))
    }

    /// Its position in [`ProviderId::all`] (for per-provider tables).
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// Whether the config defined it (not one of the built-in rows).
    pub fn is_custom(self) -> bool {
        self.0 >= Self::custom_base()
    }

    /// The provider's table row.
    pub fn spec(self) -> &'static ProviderSpec {
        PROVIDERS
            .get(self.index())
            .or_else(|| custom::spec(self.index() - PROVIDERS.len()))
            .unwrap_or(&PROVIDERS[0])
    }

    /// The lowercase id used in model names (`openai`, `xai`, ...).
    pub fn as_str(self) -> &'static str {
        self.spec().id
    }

    /// Comma-separated list of every provider id, for error messages.
    pub fn list() -> String {
        Self::all()
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Debug for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProviderId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProviderId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Error for a provider name that is not in the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider '{0}' (known providers: {list})", list = ProviderId::list())]
pub struct UnknownProvider(pub String);

impl FromStr for ProviderId {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProviderId::BUILTIN
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .or_else(|| custom::find(s).map(ProviderId::custom))
            .ok_or_else(|| UnknownProvider(s.to_owned()))
    }
}

/// One row of the provider table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderSpec {
    /// The provider.
    pub provider: ProviderId,
    /// Lowercase id.
    pub id: &'static str,
    /// Human-readable name.
    pub display_name: &'static str,
    /// Wire format spoken.
    pub wire: Wire,
    /// Public endpoint (OpenAI-wire URLs include the version path; others are host roots).
    pub default_base_url: &'static str,
    /// Environment variable naming the base URL override.
    pub base_url_env: &'static str,
    /// Environment variables holding the key, first wins.
    pub key_env: &'static [&'static str],
    /// How the key is sent.
    pub auth: AuthStyle,
    /// Deviations from the wire format.
    pub quirks: Quirks,
    /// Whether a request may go out without a key (local servers; a config provider without `api_key_env`).
    pub key_optional: bool,
    /// Azure OpenAI: the `api-version` of its deployment URLs (`/openai/deployments/{model}/…?api-version=…`, the
    /// model id being the deployment's name).
    pub api_version: Option<&'static str>,
    /// AWS Bedrock: the region its requests are signed for (`us-east-1`).
    pub region: Option<&'static str>,
}

impl ProviderSpec {
    /// The path of a call to `endpoint` (`chat/completions`, `embeddings`) for `model`: Azure's deployment URL, or
    /// the wire's own `/{endpoint}`.
    pub fn openai_path(&self, endpoint: &str, model: &str) -> String {
        match self.api_version {
            Some(v) => format!("/openai/deployments/{model}/{endpoint}?api-version={v}"),
            None => format!("/{endpoint}"),
        }
    }
}

impl ProviderSpec {
    /// Whether this provider can be used without an API key.
    pub fn key_optional(&self) -> bool {
        self.key_optional || self.auth == AuthStyle::None
    }
}

/// The nine built-in providers, indexed by [`ProviderId::index`].
pub static PROVIDERS: [ProviderSpec; 9] = [
    ProviderSpec {
        provider: ProviderId::OpenAi,
        id: "openai",
        display_name: "OpenAI",
        wire: Wire::OpenAi,
        default_base_url: "https://api.openai.com/v1",
        base_url_env: "OPENAI_BASE_URL",
        key_env: &["OPENAI_API_KEY"],
        auth: AuthStyle::Bearer,
        quirks: OPENAI_QUIRKS,
        key_optional: false,
        api_version: None,
        region: None,
    },
    ProviderSpec {
        provider: ProviderId::Anthropic,
        id: "anthropic",
        display_name: "Anthropic",
        wire: Wire::Anthropic,
        default_base_url: "https://api.anthropic.com",
        base_url_env: "ANTHROPIC_BASE_URL",
        key_env: &["ANTHROPIC_API_KEY"],
        auth: AuthStyle::XApiKey,
        quirks: COMPAT_QUIRKS,
        key_optional: false,
        api_version: None,
        region: None,
    },
    ProviderSpec {
        provider: ProviderId::Gemini,
        id: "gemini",
        display_name: "Google Gemini",
        wire: Wire::Gemini,
        default_base_url: "https://generativelanguage.googleapis.com",
        base_url_env: "GEMINI_BASE_URL",
        key_env: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        auth: AuthStyle::GoogApiKey,
        quirks: COMPAT_QUIRKS,
        key_optional: false,
        api_version: None,
        region: None,
    },
    ProviderSpec {
        provider: ProviderId::Ollama,
        id: "ollama",
        display_name: "Ollama",
        wire: Wire::Ollama,
        default_base_url: "http://127.0.0.1:11434",
        base_url_env: "OLLAMA_HOST",
        key_env: &[],
        auth: AuthStyle::None,
        quirks: COMPAT_QUIRKS,
        key_optional: false,
        api_version: None,
        region: None,
    },
    ProviderSpec {
        provider: ProviderId::OpenRouter,
        id: "openrouter",
        display_name: "OpenRouter",
        wire: Wire::OpenAi,
        default_base_url: "https://openrouter.ai/api/v1",
        base_url_env: "OPENROUTER_BASE_URL",
        key_env: &["OPENROUTER_API_KEY"],
        auth: AuthStyle::Bearer,
        quirks: Quirks {
            attribution_headers: true,
            reasoning_content: true,
            no_developer_role: false,
            ..COMPAT_QUIRKS
        },
        key_optional: false,
        api_version: None,
        region: None,
    },
    ProviderSpec {
        provider: ProviderId::DeepSeek,
        id: "deepseek",
        display_name: "DeepSeek",
        wire: Wire::OpenAi,
        default_base_url: "https://api.deepseek.com/v1",
        base_url_env: "DEEPSEEK_BASE_URL",
        key_env: &["DEEPSEEK_API_KEY"],
        auth: AuthStyle::Bearer,
        quirks: Quirks {
            reasoning_content: true,
            ..COMPAT_QUIRKS
        },
        key_optional: false,
        api_version: None,
        region: None,
    },
    ProviderSpec {
        provider: ProviderId::Xai,
        id: "xai",
        display_name: "xAI",
        wire: Wire::OpenAi,
        default_base_url: "https://api.x.ai/v1",
        base_url_env: "XAI_BASE_URL",
        key_env: &["XAI_API_KEY"],
        auth: AuthStyle::Bearer,
        quirks: Quirks {
            reasoning_content: true,
            ..COMPAT_QUIRKS
        },
        key_optional: false,
        api_version: None,
        region: None,
    },
    ProviderSpec {
        provider: ProviderId::Groq,
        id: "groq",
        display_name: "Groq",
        wire: Wire::OpenAi,
        default_base_url: "https://api.groq.com/openai/v1",
        base_url_env: "GROQ_BASE_URL",
        key_env: &["GROQ_API_KEY"],
        auth: AuthStyle::Bearer,
        quirks: Quirks {
            no_message_name: true,
            groq_usage: true,
            reasoning_content: true,
            ..COMPAT_QUIRKS
        },
        key_optional: false,
        api_version: None,
        region: None,
    },
    ProviderSpec {
        provider: ProviderId::Mistral,
        id: "mistral",
        display_name: "Mistral",
        wire: Wire::OpenAi,
        default_base_url: "https://api.mistral.ai/v1",
        base_url_env: "MISTRAL_BASE_URL",
        key_env: &["MISTRAL_API_KEY"],
        auth: AuthStyle::Bearer,
        quirks: Quirks {
            random_seed: true,
            nine_char_tool_ids: true,
            ..COMPAT_QUIRKS
        },
        key_optional: false,
        api_version: None,
        region: None,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_id() {
        for p in ProviderId::BUILTIN {
            assert_eq!(p.spec().provider, p);
            assert_eq!(p.as_str().parse::<ProviderId>(), Ok(p));
        }
    }

    #[test]
    fn azure_deployments_are_paths_with_the_api_version() {
        let azure = ProviderSpec {
            api_version: Some("2024-10-21"),
            ..*ProviderId::OpenAi.spec()
        };
        assert_eq!(
            azure.openai_path("chat/completions", "my-gpt"),
            "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(
            ProviderId::OpenAi.spec().openai_path("embeddings", "m"),
            "/embeddings"
        );
    }

    #[test]
    fn gemini_accepts_google_alias() {
        assert_eq!(
            ProviderId::Gemini.spec().key_env,
            &["GEMINI_API_KEY", "GOOGLE_API_KEY"]
        );
    }

    #[test]
    fn unknown_provider_lists_known_ones() {
        let err = "nope".parse::<ProviderId>().unwrap_err();
        assert!(err.to_string().contains("openai, anthropic, gemini"));
    }

    #[test]
    fn openai_compatible_vendors_are_rows_not_code() {
        let compat = [
            ProviderId::OpenRouter,
            ProviderId::DeepSeek,
            ProviderId::Xai,
            ProviderId::Groq,
            ProviderId::Mistral,
        ];
        for p in compat {
            assert_eq!(p.spec().wire, Wire::OpenAi);
            assert_eq!(p.spec().quirks.max_tokens_field, MaxTokensField::MaxTokens);
        }
        assert!(ProviderId::Mistral.spec().quirks.nine_char_tool_ids);
    }
}
