//! Core → Gemini request (in progress).
use crate::error::{Error, Result};
use crate::providers::ProviderSpec;
use crate::types::ChatRequest;
/// Path of a generate call.
pub fn path(model: &str, stream: bool) -> String {
    if stream {
        format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("/v1beta/models/{model}:generateContent")
    }
}
/// Build the body.
pub fn build(_spec: &ProviderSpec, _req: &ChatRequest) -> Result<serde_json::Value> {
    Err(Error::Unsupported("gemini wire in progress".into()))
}
