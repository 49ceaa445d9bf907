//! Providers of your own: a `[providers.NAME]` section with a `wire` becomes a row of the provider table and a
//! catalog of its listed models, registered once at startup. From then on `NAME/model` resolves like any built-in
//! provider (routes, the registry, `crux models`, both dialects), through the same wire code.

use std::sync::Mutex;

use crate::catalog::{
    self, Capabilities, CatalogModel, Prices, ProviderCatalog, SystemMessage, ToolFormat,
};
use crate::providers::{self, AuthStyle, ProviderId, ProviderSpec, Quirks, Wire};

/// A provider defined in the config.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomProvider {
    /// Its id in model names (`NAME/model`): lowercase letters, digits, `-` and `_`.
    pub name: String,
    /// Shown in listings (default: the name).
    pub display_name: Option<String>,
    /// The wire it speaks.
    pub wire: Wire,
    /// How the key is sent (default: the wire's own way).
    pub auth: Option<AuthStyle>,
    /// The environment variable holding its key. Given, a key is required; absent, `NAME_API_KEY` (or a vault key
    /// named like the provider) is sent when set and the provider works without one.
    pub api_key_env: Option<String>,
    /// Its endpoint (OpenAI-wire URLs include the version path, e.g. `http://127.0.0.1:8000/v1`).
    pub base_url: String,
    /// Model used when only the provider is named (default: the first listed model).
    pub default_model: Option<String>,
    /// The models it serves, as far as the config says.
    pub models: Vec<CustomModel>,
    /// Azure OpenAI: the `api-version` of its deployment URLs (the OpenAI wire; model ids are deployment names).
    pub api_version: Option<String>,
    /// Another key (or endpoint) for a provider that exists: this provider is a copy of that one — its wire, auth,
    /// quirks and catalog with its prices — under its own name and key (`[providers.openai-org2] from = "openai"`).
    pub from: Option<ProviderId>,
    /// AWS Bedrock: the region requests are signed for (the wire `bedrock`; its endpoint defaults to
    /// `https://bedrock-runtime.{region}.amazonaws.com`).
    pub region: Option<String>,
}

/// The AWS region a Bedrock provider uses when the config names none.
pub const DEFAULT_AWS_REGION: &str = "us-east-1";

/// The Bedrock Runtime endpoint of `region`.
pub fn bedrock_endpoint(region: &str) -> String {
    format!("https://bedrock-runtime.{region}.amazonaws.com")
}

/// The environment variables holding AWS credentials, in the order of the `SigV4` key
/// (`ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`).
pub const AWS_KEY_ENV: [&str; 3] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// A provider's key from the environment, and the variable it came from: the first of `spec.key_env` that is set,
/// or for SigV4 with the standard AWS variables `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]` (both of the
/// first two needed).
pub fn env_key(
    spec: &ProviderSpec,
    env: impl Fn(&str) -> Option<String>,
) -> Option<(String, &'static str)> {
    let get = |name: &str| {
        env(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if spec.key_env == AWS_KEY_ENV {
        let [id, secret, token] = AWS_KEY_ENV.map(get);
        let key = match token {
            Some(t) => format!("{}:{}:{t}", id?, secret?),
            None => format!("{}:{}", id?, secret?),
        };
        return Some((key, AWS_KEY_ENV[0]));
    }
    spec.key_env
        .iter()
        .find_map(|name| get(name).map(|v| (v, *name)))
}

/// A model a config provider lists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomModel {
    /// The provider's model id.
    pub id: String,
    /// Context window in tokens, when known.
    pub context_window: Option<u64>,
    /// Largest output in tokens (default: the context window).
    pub max_output_tokens: Option<u64>,
    /// Prices per million tokens, when known (unknown prices log no cost).
    pub prices: Option<Prices>,
    /// Tool calling (default true).
    pub tools: Option<bool>,
    /// Image input (default false).
    pub vision: Option<bool>,
    /// JSON-schema output (default false).
    pub json_schema: Option<bool>,
    /// A reasoning model (default false).
    pub reasoning: Option<bool>,
    /// An embeddings model (default false).
    pub embeddings: Option<bool>,
}

/// Why a config provider cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The name is not usable as an id.
    #[error(
        "'{0}' is not a usable provider id (lowercase letters, digits, '-' and '_', starting with a letter)"
    )]
    BadName(String),
    /// A different provider of that name was registered earlier in this process.
    #[error("provider '{0}' is already defined differently in this process")]
    Conflict(String),
    /// Every slot is taken.
    #[error(
        "at most {} providers can be defined in the config",
        providers::custom::MAX
    )]
    Full,
}

static REGISTER: Mutex<Vec<CustomProvider>> = Mutex::new(Vec::new());

fn valid_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The wire's defaults for a provider of that wire: auth, quirks, IDE tool format and system style.
fn wire_defaults(wire: Wire) -> (AuthStyle, Quirks, ToolFormat, SystemMessage) {
    let compat = providers::COMPAT_QUIRKS;
    match wire {
        Wire::OpenAi => (
            AuthStyle::Bearer,
            compat,
            ToolFormat::OpenAi,
            SystemMessage::SystemRole,
        ),
        Wire::Responses => (
            AuthStyle::Bearer,
            ProviderId::OpenAi.spec().quirks,
            ToolFormat::OpenAi,
            SystemMessage::DeveloperRole,
        ),
        Wire::Anthropic => (
            AuthStyle::XApiKey,
            compat,
            ToolFormat::Anthropic,
            SystemMessage::Separated,
        ),
        Wire::Gemini => (
            AuthStyle::GoogApiKey,
            compat,
            ToolFormat::Gemini,
            SystemMessage::Separated,
        ),
        Wire::Ollama => (
            AuthStyle::None,
            compat,
            ToolFormat::OpenAi,
            SystemMessage::SystemRole,
        ),
        Wire::Bedrock => (
            AuthStyle::SigV4,
            compat,
            ToolFormat::Anthropic,
            SystemMessage::Separated,
        ),
    }
}

fn env_name(name: &str, suffix: &str) -> String {
    format!("{}_{suffix}", name.to_ascii_uppercase().replace('-', "_"))
}

fn model(m: &CustomModel) -> CatalogModel {
    let context = m.context_window.unwrap_or(0);
    CatalogModel {
        id: leak(m.id.clone()),
        aliases: &[],
        name: leak(m.id.clone()),
        family: "",
        context_window: context,
        max_output_tokens: m.max_output_tokens.unwrap_or(context),
        prices: m.prices,
        capabilities: Capabilities {
            streaming: true,
            tools: m.tools.unwrap_or(true),
            vision: m.vision.unwrap_or(false),
            json_schema: m.json_schema.unwrap_or(false),
            reasoning: m.reasoning.unwrap_or(false),
            embeddings: m.embeddings.unwrap_or(false),
        },
        system_message: None,
        fim: false,
    }
}

/// Register `def` as a provider and return its id. Registering the same definition again returns the same id (a
/// second `Settings` load in one process); a different one under a taken name is an error, as is a built-in name.
pub fn register(def: &CustomProvider) -> Result<ProviderId, RegisterError> {
    if !valid_name(&def.name) || ProviderId::BUILTIN.iter().any(|p| p.as_str() == def.name) {
        return Err(RegisterError::BadName(def.name.clone()));
    }
    let mut done = REGISTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(i) = done.iter().position(|d| d.name == def.name) {
        // The endpoint may differ (the client takes it from the section); the row and the catalog may not.
        let same = CustomProvider {
            base_url: done[i].base_url.clone(),
            ..def.clone()
        };
        return if done[i] == same {
            Ok(ProviderId::custom(i))
        } else {
            Err(RegisterError::Conflict(def.name.clone()))
        };
    }
    let parent = def.from.map(|p| (p.spec(), catalog::provider(p)));
    let (mut auth, mut quirks, mut tool_format, mut system_message) = wire_defaults(def.wire);
    if def.api_version.is_some() {
        auth = AuthStyle::ApiKey;
        quirks = ProviderId::OpenAi.spec().quirks;
    }
    if let Some((spec, cat)) = parent {
        (auth, quirks) = (spec.auth, spec.quirks);
        (tool_format, system_message) = (cat.tool_format, cat.system_message);
    }
    let api_version = def
        .api_version
        .clone()
        .map(leak)
        .or_else(|| parent.and_then(|(s, _)| s.api_version));
    let id = leak(def.name.clone());
    let auth = def.auth.unwrap_or(auth);
    let key_env: &'static [&'static str] = match &def.api_key_env {
        Some(env) => Box::leak(Box::new([leak(env.clone())])),
        None if auth == AuthStyle::SigV4 => &AWS_KEY_ENV,
        None => Box::leak(Box::new([leak(env_name(&def.name, "API_KEY"))])),
    };
    let region = (def.wire == Wire::Bedrock)
        .then(|| {
            leak(
                def.region
                    .clone()
                    .unwrap_or_else(|| DEFAULT_AWS_REGION.to_owned()),
            )
        })
        .or_else(|| parent.and_then(|(s, _)| s.region));
    let key_optional = match parent {
        Some((spec, _)) => def.api_key_env.is_none() && spec.key_optional(),
        None => def.api_key_env.is_none() && auth != AuthStyle::SigV4,
    };
    let i = providers::custom::push(|i| ProviderSpec {
        provider: ProviderId::custom(i),
        id,
        display_name: leak(def.display_name.clone().unwrap_or_else(|| def.name.clone())),
        wire: def.wire,
        default_base_url: leak(def.base_url.clone()),
        base_url_env: leak(env_name(&def.name, "BASE_URL")),
        key_env,
        auth,
        quirks,
        key_optional,
        api_version,
        region,
    })
    .ok_or(RegisterError::Full)?;
    let own = def.models.iter().map(model);
    let models: &'static [CatalogModel] = match parent {
        Some((_, cat)) if def.models.is_empty() => cat.models,
        Some((_, cat)) => Box::leak(cat.models.iter().copied().chain(own).collect()),
        None => Box::leak(own.collect()),
    };
    let default_model = def
        .default_model
        .clone()
        .or_else(|| parent.map(|(_, cat)| cat.default_model.to_owned()))
        .or_else(|| def.models.first().map(|m| m.id.clone()))
        .unwrap_or_default();
    catalog::custom::set(
        i,
        ProviderCatalog {
            provider: ProviderId::custom(i),
            default_model: leak(default_model),
            tool_format,
            system_message,
            models,
        },
    );
    done.push(def.clone());
    Ok(ProviderId::custom(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, wire: Wire) -> CustomProvider {
        CustomProvider {
            name: name.into(),
            display_name: None,
            wire,
            auth: None,
            api_key_env: None,
            base_url: "http://127.0.0.1:1/v1".into(),
            default_model: None,
            api_version: None,
            region: None,
            from: None,
            models: vec![CustomModel {
                id: "qwen2.5-7b".into(),
                context_window: Some(32_768),
                prices: Some(Prices {
                    input: 0.1,
                    output: 0.2,
                    cached_input: None,
                }),
                ..CustomModel::default()
            }],
        }
    }

    #[test]
    fn a_registered_provider_is_a_row_with_a_catalog_and_parses_by_name() {
        let id = register(&def("unit-vllm", Wire::OpenAi)).unwrap();
        assert!(id.is_custom());
        assert_eq!("unit-vllm".parse::<ProviderId>(), Ok(id));
        assert_eq!("UNIT-VLLM".parse::<ProviderId>(), Ok(id));
        let spec = id.spec();
        assert_eq!(
            (spec.id, spec.wire, spec.auth),
            ("unit-vllm", Wire::OpenAi, AuthStyle::Bearer)
        );
        assert_eq!(spec.key_env, &["UNIT_VLLM_API_KEY"]);
        assert_eq!(spec.base_url_env, "UNIT_VLLM_BASE_URL");
        assert!(spec.key_optional());
        let cat = catalog::provider(id);
        assert_eq!(cat.default_model, "qwen2.5-7b");
        assert_eq!(
            cat.model("qwen2.5-7b").map(|m| m.context_window),
            Some(32_768)
        );
        assert!(ProviderId::all().contains(&id));
        assert_eq!(
            serde_json::to_value(id).unwrap(),
            serde_json::json!("unit-vllm")
        );
        assert_eq!(
            serde_json::from_value::<ProviderId>(serde_json::json!("unit-vllm")).unwrap(),
            id
        );
    }

    #[test]
    fn the_same_definition_twice_is_one_provider_and_a_different_one_is_refused() {
        let a = register(&def("unit-twice", Wire::Anthropic)).unwrap();
        assert_eq!(register(&def("unit-twice", Wire::Anthropic)), Ok(a));
        assert_eq!(a.spec().auth, AuthStyle::XApiKey);
        assert!(matches!(
            register(&def("unit-twice", Wire::Gemini)),
            Err(RegisterError::Conflict(_))
        ));
    }

    #[test]
    fn built_in_and_malformed_names_are_refused() {
        for name in ["openai", "Vllm", "9lives", "a b", ""] {
            assert!(
                matches!(
                    register(&def(name, Wire::OpenAi)),
                    Err(RegisterError::BadName(_))
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn a_required_key_env_is_the_only_key_env() {
        let mut d = def("unit-keyed", Wire::OpenAi);
        d.api_key_env = Some("MY_KEY".into());
        let id = register(&d).unwrap();
        assert_eq!(id.spec().key_env, &["MY_KEY"]);
        assert!(!id.spec().key_optional());
    }

    #[test]
    fn a_copy_of_a_builtin_provider_keeps_its_wire_catalog_and_prices() {
        let mut d = def("openai-org2", Wire::OpenAi);
        d.from = Some(ProviderId::OpenAi);
        d.base_url = ProviderId::OpenAi.spec().default_base_url.into();
        d.api_key_env = Some("OPENAI_ORG2_KEY".into());
        let id = register(&d).unwrap();
        let spec = id.spec();
        assert_eq!((spec.wire, spec.auth), (Wire::OpenAi, AuthStyle::Bearer));
        assert_eq!(spec.quirks, ProviderId::OpenAi.spec().quirks);
        assert_eq!(spec.key_env, &["OPENAI_ORG2_KEY"]);
        assert!(!spec.key_optional());
        let cat = catalog::provider(id);
        assert_eq!(
            cat.default_model,
            catalog::default_model(ProviderId::OpenAi)
        );
        let mini = cat.model("gpt-4o-mini").unwrap();
        assert!(mini.prices.is_some());
    }
}
