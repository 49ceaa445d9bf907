//! `[providers.NAME]`: a built-in provider's endpoint, timeouts and headers, or — with a `wire` — a provider of your
//! own (vLLM, llama.cpp, LM Studio, TGI, Together, a company proxy), registered with the library before anything
//! reads a model name, so `NAME/model` works everywhere a built-in provider does.

use std::collections::BTreeMap;

use crux_llm::catalog::Prices;
use crux_llm::custom::{CustomModel, CustomProvider};
use crux_llm::providers::{AuthStyle, Wire};
use crux_llm::{ProviderId, Timeouts};
use serde::Deserialize;

use crate::config::{Env, ProcessEnv};
use crate::exit::Failure;

/// `[providers.ID]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSection {
    /// Endpoint.
    pub base_url: Option<String>,
    /// Model used when only the provider is named.
    pub default_model: Option<String>,
    /// Per-phase timeouts in milliseconds.
    pub timeout_ms: Option<TimeoutSection>,
    /// Extra headers sent on every request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A provider of your own: the wire it speaks (`openai`, `anthropic`, `gemini`, `ollama`, `responses`,
    /// `azure`: Azure OpenAI deployments, or `bedrock`: AWS Bedrock's Converse API, SigV4-signed).
    pub wire: Option<String>,
    /// Another key for a provider that exists: a copy of it (wire, auth, catalog and prices) under this section's
    /// name, with its own `api_key_env` (or vault key) and optionally its own `base_url`.
    pub from: Option<String>,
    /// `wire = "azure"`: the `api-version` of the deployment URLs (default 2024-10-21).
    pub api_version: Option<String>,
    /// `wire = "bedrock"`: the AWS region (default `AWS_REGION`, `AWS_DEFAULT_REGION`, then us-east-1); the endpoint
    /// defaults to `https://bedrock-runtime.{region}.amazonaws.com`.
    pub region: Option<String>,
    /// Its key's environment variable (given: a key is required; absent: `NAME_API_KEY` or a vault key named like
    /// the provider is sent when set).
    pub api_key_env: Option<String>,
    /// How its key is sent: `bearer`, `x-api-key`, `x-goog-api-key`, `api-key`, `sigv4` or `none` (default: the
    /// wire's way; `api-key` for Azure, `bearer` there for Entra ID tokens; `sigv4` for Bedrock, `bearer` there for
    /// Bedrock API keys).
    pub auth: Option<String>,
    /// Shown in listings.
    pub display_name: Option<String>,
    /// Its models: ids, or tables with `id`, `context`, `max_output`, prices and capabilities.
    #[serde(default)]
    pub models: Vec<ModelSection>,
}

/// `timeout_ms = { connect, first_byte, idle, total }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutSection {
    /// Connect.
    pub connect: Option<u64>,
    /// First byte.
    pub first_byte: Option<u64>,
    /// Gap between stream chunks.
    pub idle: Option<u64>,
    /// Whole call.
    pub total: Option<u64>,
}

impl TimeoutSection {
    /// The timeouts, defaults where the section is silent.
    pub fn timeouts(&self) -> Timeouts {
        let d = Timeouts::default();
        let ms = |v: Option<u64>, default| v.map_or(default, std::time::Duration::from_millis);
        Timeouts {
            connect: ms(self.connect, d.connect),
            first_byte: ms(self.first_byte, d.first_byte),
            idle: ms(self.idle, d.idle),
            total: ms(self.total, d.total),
        }
    }
}

/// One entry of `models`: an id, or a table.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ModelSection {
    /// Just the id.
    Id(String),
    /// The id with what is known about it.
    Full(ModelTable),
}

/// A model table: `{ id = "qwen2.5-7b", context = 32768, input_price = 0.1, output_price = 0.2, tools = true }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelTable {
    /// The provider's model id.
    pub id: String,
    /// Context window in tokens.
    pub context: Option<u64>,
    /// Largest output in tokens (default: the context window).
    pub max_output: Option<u64>,
    /// USD per million input tokens.
    pub input_price: Option<f64>,
    /// USD per million output tokens.
    pub output_price: Option<f64>,
    /// USD per million cached input tokens.
    pub cached_input_price: Option<f64>,
    /// Tool calling (default true).
    pub tools: Option<bool>,
    /// Image input.
    pub vision: Option<bool>,
    /// JSON-schema output.
    pub json_schema: Option<bool>,
    /// A reasoning model.
    pub reasoning: Option<bool>,
    /// An embeddings model.
    pub embeddings: Option<bool>,
}

/// The Azure OpenAI `api-version` used when a section names none (the GA version of the v1 data plane's predecessor).
const DEFAULT_AZURE_API_VERSION: &str = "2024-10-21";

fn wire(name: &str, s: &str) -> Result<Wire, Failure> {
    Ok(match s {
        "openai" => Wire::OpenAi,
        "anthropic" => Wire::Anthropic,
        "gemini" => Wire::Gemini,
        "ollama" => Wire::Ollama,
        "responses" => Wire::Responses,
        "azure" => Wire::OpenAi,
        "bedrock" => Wire::Bedrock,
        other => {
            return Err(Failure::usage(format!(
                "config [providers.{name}]: unknown wire '{other}' (one of: openai, anthropic, gemini, ollama, responses, azure, bedrock)"
            )));
        }
    })
}

fn auth(name: &str, s: &str) -> Result<AuthStyle, Failure> {
    Ok(match s {
        "bearer" => AuthStyle::Bearer,
        "x-api-key" => AuthStyle::XApiKey,
        "x-goog-api-key" => AuthStyle::GoogApiKey,
        "api-key" => AuthStyle::ApiKey,
        "sigv4" => AuthStyle::SigV4,
        "none" => AuthStyle::None,
        other => {
            return Err(Failure::usage(format!(
                "config [providers.{name}]: unknown auth '{other}' (one of: bearer, x-api-key, x-goog-api-key, api-key, sigv4, none)"
            )));
        }
    })
}

fn model(name: &str, m: &ModelSection) -> Result<CustomModel, Failure> {
    let t = match m {
        ModelSection::Id(id) => {
            return Ok(CustomModel {
                id: id.clone(),
                ..CustomModel::default()
            });
        }
        ModelSection::Full(t) => t,
    };
    let prices = match (t.input_price, t.output_price) {
        (None, None) => None,
        (Some(input), Some(output)) if input >= 0.0 && output >= 0.0 => Some(Prices {
            input,
            output,
            cached_input: t.cached_input_price,
        }),
        _ => {
            return Err(Failure::usage(format!(
                "config [providers.{name}] model '{}': give both input_price and output_price (USD per million tokens, ≥ 0)",
                t.id
            )));
        }
    };
    Ok(CustomModel {
        id: t.id.clone(),
        context_window: t.context.filter(|&n| n > 0),
        max_output_tokens: t.max_output.filter(|&n| n > 0),
        prices,
        tools: t.tools,
        vision: t.vision,
        json_schema: t.json_schema,
        reasoning: t.reasoning,
        embeddings: t.embeddings,
    })
}

/// The provider a section with a `wire` defines.
fn definition(name: &str, s: &ProviderSection, wire_name: &str) -> Result<CustomProvider, Failure> {
    let wire = wire(name, wire_name)?;
    let bedrock = wire == Wire::Bedrock;
    if s.region.is_some() && !bedrock {
        return Err(Failure::usage(format!(
            "config [providers.{name}]: region is only for wire = \"bedrock\""
        )));
    }
    let region = bedrock.then(|| {
        s.region
            .clone()
            .or_else(|| {
                ["AWS_REGION", "AWS_DEFAULT_REGION"]
                    .iter()
                    .find_map(|v| ProcessEnv.get(v))
            })
            .unwrap_or_else(|| crux_llm::custom::DEFAULT_AWS_REGION.to_owned())
    });
    let base_url = match (&s.base_url, wire) {
        (Some(u), _) => u.trim().to_owned(),
        (None, Wire::Ollama) => "http://127.0.0.1:11434".to_owned(),
        (None, Wire::Bedrock) => {
            crux_llm::custom::bedrock_endpoint(region.as_deref().unwrap_or_default())
        }
        (None, _) => {
            return Err(Failure::usage(format!(
                "config [providers.{name}]: a provider of your own needs base_url (e.g. \"http://127.0.0.1:8000/v1\")"
            )));
        }
    };
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(Failure::usage(format!(
            "config [providers.{name}]: base_url must start with http:// or https://"
        )));
    }
    let azure = wire_name == "azure";
    if s.api_version.is_some() && !azure {
        return Err(Failure::usage(format!(
            "config [providers.{name}]: api_version is only for wire = \"azure\""
        )));
    }
    Ok(CustomProvider {
        api_version: azure.then(|| {
            s.api_version
                .clone()
                .unwrap_or_else(|| DEFAULT_AZURE_API_VERSION.to_owned())
        }),
        region,
        from: None,
        name: name.to_owned(),
        display_name: s.display_name.clone(),
        wire,
        auth: s.auth.as_deref().map(|a| auth(name, a)).transpose()?,
        api_key_env: s.api_key_env.clone(),
        base_url,
        default_model: s.default_model.clone(),
        models: models(name, s)?,
    })
}

/// The section's `models`, checked.
fn models(name: &str, s: &ProviderSection) -> Result<Vec<CustomModel>, Failure> {
    s.models.iter().map(|m| model(name, m)).collect()
}

/// The provider a section with `from` defines: a copy of `parent` under `name`.
fn copy_of(name: &str, s: &ProviderSection, parent: &str) -> Result<CustomProvider, Failure> {
    let bad = |why: String| Failure::usage(format!("config [providers.{name}]: {why}"));
    if s.wire.is_some() || s.api_version.is_some() || s.region.is_some() {
        return Err(bad(
            "a provider with `from` takes its wire, api_version and region from the provider it copies".into(),
        ));
    }
    let from: ProviderId = parent.parse().map_err(|e| bad(format!("from: {e}")))?;
    let spec = from.spec();
    Ok(CustomProvider {
        name: name.to_owned(),
        display_name: s.display_name.clone(),
        wire: spec.wire,
        auth: s.auth.as_deref().map(|a| auth(name, a)).transpose()?,
        api_key_env: s.api_key_env.clone(),
        base_url: s
            .base_url
            .as_deref()
            .unwrap_or(spec.default_base_url)
            .trim()
            .to_owned(),
        default_model: s.default_model.clone(),
        models: models(name, s)?,
        api_version: None,
        region: None,
        from: Some(from),
    })
}

/// Register the sections that define providers of their own; refuse unknown names without a `wire`, and custom-only
/// keys on built-in providers.
pub fn register(sections: &BTreeMap<String, ProviderSection>) -> Result<(), Failure> {
    for (name, s) in sections {
        let builtin = ProviderId::BUILTIN.iter().any(|p| p.as_str() == name);
        if let Some(parent) = s.from.as_deref().filter(|_| !builtin) {
            let def = copy_of(name, s, parent)?;
            crux_llm::custom::register(&def)
                .map_err(|e| Failure::usage(format!("config [providers.{name}]: {e}")))?;
            continue;
        }
        match (&s.wire, builtin) {
            (Some(_), true) => {
                return Err(Failure::usage(format!(
                    "config [providers.{name}]: `wire` is only for providers of your own; {name} is built in"
                )));
            }
            (None, true)
                if s.api_key_env.is_some()
                    || s.auth.is_some()
                    || s.api_version.is_some()
                    || s.region.is_some()
                    || s.from.is_some()
                    || !s.models.is_empty() =>
            {
                return Err(Failure::usage(format!(
                    "config [providers.{name}]: api_key_env, auth, api_version, region, from and models are only for providers of your own"
                )));
            }
            (None, true) => {}
            (None, false) => {
                return Err(Failure::usage(format!(
                    "config [providers.{name}]: unknown provider '{name}' (built in: {}); to add a provider of your \
                     own, set wire = \"openai\" (or anthropic, gemini, ollama, responses, azure, bedrock) and base_url, \
                     or from = \"openai\" for another key of a provider that exists",
                    ProviderId::BUILTIN.map(|p| p.as_str()).join(", ")
                )));
            }
            (Some(w), false) => {
                let def = definition(name, s, w)?;
                crux_llm::custom::register(&def)
                    .map_err(|e| Failure::usage(format!("config [providers.{name}]: {e}")))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections(text: &str) -> BTreeMap<String, ProviderSection> {
        #[derive(Deserialize)]
        struct F {
            providers: BTreeMap<String, ProviderSection>,
        }
        toml::from_str::<F>(text).unwrap().providers
    }

    #[test]
    fn a_section_with_a_wire_registers_a_provider_with_its_models() {
        let s = sections(
            r#"
[providers.cfg-vllm]
wire = "openai"
base_url = "http://127.0.0.1:8000/v1"
models = ["small", { id = "qwen2.5-7b", context = 32768, input_price = 0.1, output_price = 0.2 }]
"#,
        );
        register(&s).unwrap();
        let id: ProviderId = "cfg-vllm".parse().unwrap();
        assert_eq!(id.spec().wire, Wire::OpenAi);
        let cat = crux_llm::catalog::provider(id);
        assert_eq!(cat.default_model, "small");
        let q = cat.model("qwen2.5-7b").unwrap();
        assert_eq!(q.context_window, 32_768);
        assert_eq!(q.prices.map(|p| p.output), Some(0.2));
        assert!(cat.model("small").unwrap().prices.is_none());
    }

    #[test]
    fn unknown_names_wires_and_misplaced_keys_say_what_to_do() {
        for (text, needle) in [
            (
                "[providers.vllm]\nbase_url = \"http://x\"",
                "set wire = \"openai\"",
            ),
            (
                "[providers.v2]\nwire = \"grpc\"\nbase_url = \"http://x\"",
                "unknown wire 'grpc'",
            ),
            ("[providers.v3]\nwire = \"openai\"", "needs base_url"),
            ("[providers.openai]\nwire = \"openai\"", "built in"),
            (
                "[providers.openai]\napi_key_env = \"K\"",
                "only for providers of your own",
            ),
            (
                "[providers.v4]\nwire = \"openai\"\nbase_url = \"http://x\"\nauth = \"magic\"",
                "unknown auth",
            ),
            (
                "[providers.v5]\nwire = \"openai\"\nbase_url = \"http://x\"\nmodels = [{ id = \"m\", input_price = 1.0 }]",
                "both input_price and output_price",
            ),
        ] {
            let e = register(&sections(text)).unwrap_err().message;
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
