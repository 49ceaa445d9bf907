//! Gemini embeddings (in progress).
use crate::error::{Error, Result};
use crate::providers::ProviderId;
use crate::types::{EmbedRequest, EmbedResponse};
/// Path.
pub fn path(model: &str) -> String {
    format!("/v1beta/models/{model}:batchEmbedContents")
}
/// Body.
pub fn build(_req: &EmbedRequest) -> serde_json::Value {
    serde_json::Value::Null
}
/// Decode.
pub fn decode(_p: ProviderId, _body: &[u8]) -> Result<EmbedResponse> {
    Err(Error::Unsupported("gemini wire in progress".into()))
}
