//! Ollama embeddings (in progress).
use crate::error::{Error, Result};
use crate::providers::ProviderId;
use crate::types::{EmbedRequest, EmbedResponse};
/// Body.
pub fn build(_req: &EmbedRequest) -> serde_json::Value {
    serde_json::Value::Null
}
/// Decode.
pub fn decode(_p: ProviderId, _body: &[u8]) -> Result<EmbedResponse> {
    Err(Error::Unsupported("ollama wire in progress".into()))
}
