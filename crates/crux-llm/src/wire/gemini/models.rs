//! Gemini model listing (in progress).
use crate::error::{Error, Result};
use crate::providers::ProviderId;
use crate::types::ModelInfo;
/// Path.
pub fn path(_page: Option<&str>) -> String {
    "/v1beta/models".into()
}
/// Decode.
pub fn decode(_p: ProviderId, _body: &[u8]) -> Result<(Vec<ModelInfo>, Option<String>)> {
    Err(Error::Unsupported("gemini wire in progress".into()))
}
