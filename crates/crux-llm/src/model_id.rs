//! `ModelId`: a `provider/model` name (OpenRouter model ids keep their inner slash).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::providers::{ProviderId, UnknownProvider};

/// A fully qualified model name: provider plus the provider's own model id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelId {
    /// The provider.
    pub provider: ProviderId,
    /// The model id as the provider knows it (may itself contain `/`).
    pub model: String,
}

/// Why a model name could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelIdError {
    /// No `/` separating provider and model.
    #[error("model '{0}' must be written PROVIDER/MODEL (providers: {list})", list = ProviderId::list())]
    MissingProvider(String),
    /// The part before the first `/` is not a provider.
    #[error(transparent)]
    UnknownProvider(#[from] UnknownProvider),
    /// Nothing after the `/`.
    #[error("model '{0}' has an empty model name after the provider")]
    EmptyModel(String),
}

impl ModelId {
    /// Build from parts.
    pub fn new(provider: ProviderId, model: impl Into<String>) -> Self {
        Self {
            provider,
            model: model.into(),
        }
    }
}

impl FromStr for ModelId {
    type Err = ModelIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (provider, model) = s
            .split_once('/')
            .ok_or_else(|| ModelIdError::MissingProvider(s.to_owned()))?;
        let provider: ProviderId = provider.parse()?;
        if model.trim().is_empty() {
            return Err(ModelIdError::EmptyModel(s.to_owned()));
        }
        Ok(Self::new(provider, model))
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

impl Serialize for ModelId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ModelId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_simple_ids() {
        let id: ModelId = "openai/gpt-4o-mini".parse().unwrap();
        assert_eq!(id.provider, ProviderId::OpenAi);
        assert_eq!(id.model, "gpt-4o-mini");
        assert_eq!(id.to_string(), "openai/gpt-4o-mini");
    }

    #[test]
    fn openrouter_keeps_inner_slash() {
        let id: ModelId = "openrouter/meta-llama/llama-3.1-8b-instruct"
            .parse()
            .unwrap();
        assert_eq!(id.provider, ProviderId::OpenRouter);
        assert_eq!(id.model, "meta-llama/llama-3.1-8b-instruct");
        assert_eq!(
            id.to_string(),
            "openrouter/meta-llama/llama-3.1-8b-instruct"
        );
    }

    #[test]
    fn rejects_bad_names() {
        assert!(matches!(
            "gpt-4o".parse::<ModelId>(),
            Err(ModelIdError::MissingProvider(_))
        ));
        assert!(matches!(
            "foo/bar".parse::<ModelId>(),
            Err(ModelIdError::UnknownProvider(_))
        ));
        assert!(matches!(
            "openai/".parse::<ModelId>(),
            Err(ModelIdError::EmptyModel(_))
        ));
        let msg = "foo/bar".parse::<ModelId>().unwrap_err().to_string();
        assert!(msg.contains("mistral"), "{msg}");
    }

    #[test]
    fn serde_round_trip() {
        let id: ModelId = serde_json::from_str("\"groq/llama-3.3-70b-versatile\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"groq/llama-3.3-70b-versatile\""
        );
    }
}
