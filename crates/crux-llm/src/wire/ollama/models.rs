//! Ollama model listing (in progress).
use crate::error::{Error, Result};
use crate::providers::ProviderId;
use crate::types::ModelInfo;
/// Decode.
pub fn decode(_p: ProviderId, _body: &[u8]) -> Result<Vec<ModelInfo>> {
    Err(Error::Unsupported("ollama wire in progress".into()))
}
