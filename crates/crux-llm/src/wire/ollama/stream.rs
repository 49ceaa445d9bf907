//! Ollama NDJSON stream → core events (in progress).
use crate::error::{Error, Result};
use crate::providers::ProviderId;
use crate::types::StreamEvent;
use crate::wire::Flow;
/// Stream state.
#[derive(Debug)]
pub struct StreamState {
    provider: ProviderId,
}
impl StreamState {
    /// New state.
    pub fn new(provider: ProviderId) -> Self {
        Self { provider }
    }
    /// One NDJSON line.
    pub fn on_line(&mut self, _line: &str, _out: &mut Vec<StreamEvent>) -> Result<Flow> {
        Err(Error::Unsupported(format!(
            "{} wire in progress",
            self.provider
        )))
    }
}
