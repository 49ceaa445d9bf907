//! Gemini stream → core events (in progress).
use crate::decode::SseEvent;
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
    /// One SSE event.
    pub fn on_event(&mut self, _ev: &SseEvent, _out: &mut Vec<StreamEvent>) -> Result<Flow> {
        Err(Error::Unsupported(format!(
            "{} wire in progress",
            self.provider
        )))
    }
    /// End of body.
    pub fn on_eof(&mut self, _out: &mut Vec<StreamEvent>) -> Result<Flow> {
        Err(Error::Unsupported(format!(
            "{} wire in progress",
            self.provider
        )))
    }
}
