//! Ollama NDJSON stream (`/api/chat`, streaming) → core `StreamEvent`s; the `done: true` object is the terminator.

use super::response::{fragments, in_band, tool_call, usage};
use super::types::ChatChunk;
use crate::error::{Error, Result};
use crate::providers::ProviderId;
use crate::types::StreamEvent;
pub use crate::wire::Flow;
use crate::wire::openai::response::finish_reason;

/// Decoding state for one Ollama stream.
#[derive(Debug)]
pub struct StreamState {
    provider: ProviderId,
    started: bool,
    /// Tool calls emitted so far (the next call's index).
    calls: usize,
}

impl StreamState {
    /// A fresh decoder for `provider`.
    pub fn new(provider: ProviderId) -> Self {
        Self {
            provider,
            started: false,
            calls: 0,
        }
    }

    /// Handle one NDJSON line, appending core events to `out`.
    pub fn on_line(&mut self, line: &str, out: &mut Vec<StreamEvent>) -> Result<Flow> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(Flow::Continue);
        }
        let chunk: ChatChunk = serde_json::from_str(line).map_err(|e| Error::Decode {
            provider: self.provider,
            message: format!("stream line is not valid JSON ({e})"),
        })?;
        if let Some(err) = &chunk.error {
            return Err(in_band(self.provider, err));
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: chunk.created_at.clone(),
                model: chunk.model.clone(),
            });
        }
        if let Some(m) = &chunk.message {
            let (thinking, text) = fragments(m);
            if let Some(text) = thinking {
                out.push(StreamEvent::ReasoningDelta {
                    text: text.to_owned(),
                    signature: None,
                });
            }
            if let Some(text) = text {
                out.push(StreamEvent::TextDelta {
                    text: text.to_owned(),
                });
            }
            for call in m.tool_calls.as_deref().unwrap_or_default() {
                let index = self.calls;
                self.calls += 1;
                let c = tool_call(index, call);
                out.push(StreamEvent::ToolCallDelta {
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    id: Some(c.id),
                    name: Some(c.name),
                    args_fragment: c.arguments,
                    signature: None,
                });
            }
        }
        if !chunk.done {
            return Ok(Flow::Continue);
        }
        out.push(StreamEvent::Usage(usage(&chunk)));
        Ok(Flow::Done(finish_reason(
            chunk.done_reason.as_deref(),
            self.calls > 0,
        )))
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
