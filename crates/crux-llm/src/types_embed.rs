//! Embedding and model-listing types (split from `types` to keep files small).

use serde::{Deserialize, Serialize};

use crate::model_id::ModelId;
use crate::usage::Usage;

/// An embeddings request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedRequest {
    /// Target model, `provider/model`.
    pub model: ModelId,
    /// Texts to embed.
    pub input: Vec<String>,
    /// Output dimensions, where the model supports shortening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
}

/// Embedding vectors in input order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedResponse {
    /// Model that answered.
    pub model: String,
    /// One vector per input.
    pub vectors: Vec<Vec<f32>>,
    /// Token usage.
    pub usage: Usage,
}

/// A model as listed by a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Provider id.
    pub provider: String,
    /// Model id without the provider prefix.
    pub id: String,
    /// Owner or display name, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// Context window, if the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
}
