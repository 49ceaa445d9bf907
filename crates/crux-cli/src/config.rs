//! Builds typed library configuration from the environment (the only crate that reads env and files).

use crux_llm::{ProviderConfig, ProviderId};
use secrecy::SecretString;

/// Where configuration values come from; `std::env::var` in the binary, a map in tests.
pub trait Env {
    /// The value of `name`, if set and non-empty.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

/// Provider settings for one provider from `*_API_KEY` (first of the listed names) and `*_BASE_URL`.
pub fn provider_config(env: &impl Env, provider: ProviderId) -> ProviderConfig {
    let spec = provider.spec();
    ProviderConfig {
        base_url: env
            .get(spec.base_url_env)
            .map(|u| normalize_base_url(provider, &u)),
        api_key: crux_llm::custom::env_key(spec, |name| env.get(name))
            .map(|(key, _)| SecretString::from(key)),
        ..ProviderConfig::default()
    }
}

/// Whether colour is switched off by `NO_COLOR` (any non-empty value, as <https://no-color.org> says).
pub fn no_color(env: &impl Env) -> bool {
    env.get("NO_COLOR").is_some()
}

/// `OLLAMA_HOST` may be given without a scheme (`127.0.0.1:11434`), as Ollama itself accepts.
fn normalize_base_url(provider: ProviderId, url: &str) -> String {
    let url = url.trim();
    if provider == ProviderId::Ollama && !url.contains("://") {
        format!("http://{url}")
    } else {
        url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    impl Env for HashMap<&'static str, &'static str> {
        fn get(&self, name: &str) -> Option<String> {
            HashMap::get(self, name).map(|v| (*v).to_owned())
        }
    }

    #[test]
    fn google_alias_and_base_urls() {
        let env = HashMap::from([
            ("GOOGLE_API_KEY", "g-key"),
            ("OLLAMA_HOST", "127.0.0.1:11434"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1"),
        ]);
        let g = provider_config(&env, ProviderId::Gemini);
        assert_eq!(g.api_key.unwrap().expose_secret(), "g-key");
        let o = provider_config(&env, ProviderId::Ollama);
        assert_eq!(o.base_url.as_deref(), Some("http://127.0.0.1:11434"));
        let oa = provider_config(&env, ProviderId::OpenAi);
        assert_eq!(oa.base_url.as_deref(), Some("http://127.0.0.1:9999/v1"));
        assert!(oa.api_key.is_none());
    }

    #[test]
    fn gemini_key_wins_over_alias() {
        let env = HashMap::from([("GOOGLE_API_KEY", "alias"), ("GEMINI_API_KEY", "main")]);
        let g = provider_config(&env, ProviderId::Gemini);
        assert_eq!(g.api_key.unwrap().expose_secret(), "main");
    }
}
