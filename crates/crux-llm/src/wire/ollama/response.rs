//! Ollama response → core (in progress).
use crate::error::{Error, Result};
use crate::providers::ProviderId;
use crate::wire::Decoded;
/// Decode a body.
pub fn decode(_p: ProviderId, _body: &[u8]) -> Result<Decoded> {
    Err(Error::Unsupported("ollama wire in progress".into()))
}
