//! Core → Ollama request (in progress).
use crate::error::{Error, Result};
use crate::providers::ProviderSpec;
use crate::types::ChatRequest;
/// Build the body.
pub fn build(_spec: &ProviderSpec, _req: &ChatRequest, _stream: bool) -> Result<serde_json::Value> {
    Err(Error::Unsupported("ollama wire in progress".into()))
}
