//! Gemini `:streamGenerateContent?alt=sse` → core `StreamEvent`s.
//!
//! Every SSE event is a complete `GenerateContentResponse` holding an incremental slice; function calls arrive
//! whole. There is no sentinel: the last chunk carries `finishReason`, and the stream is complete only if one was
//! seen when the connection closes ([`StreamState::on_eof`]); otherwise it was truncated.

use super::response::{
    Piece, blocked, call_id, finish_reason, first_candidate, in_band, pieces, usage,
};
use super::types::GenerateContentResponse;
use crate::decode::SseEvent;
use crate::error::{Error, Result};
use crate::providers::ProviderId;
use crate::types::{FinishReason, StreamEvent, Usage};
pub use crate::wire::Flow;

/// Decoding state for one Gemini stream.
#[derive(Debug)]
pub struct StreamState {
    provider: ProviderId,
    started: bool,
    /// Function calls emitted so far (the next call's index).
    calls: usize,
    /// Normalized reason of the last `finishReason` (or prompt block) seen.
    finish: Option<FinishReason>,
    /// Last usage block seen (Gemini repeats it; the last one wins).
    usage: Option<Usage>,
}

impl StreamState {
    /// A fresh decoder for `provider`.
    pub fn new(provider: ProviderId) -> Self {
        Self {
            provider,
            started: false,
            calls: 0,
            finish: None,
            usage: None,
        }
    }

    /// Handle one SSE event, appending core events to `out`.
    pub fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) -> Result<Flow> {
        let data = ev.data.trim();
        if data.is_empty() {
            return Ok(Flow::Continue);
        }
        let chunk: GenerateContentResponse =
            serde_json::from_str(data).map_err(|e| Error::Decode {
                provider: self.provider,
                message: format!("stream chunk is not valid JSON ({e})"),
            })?;
        if let Some(err) = &chunk.error {
            return Err(in_band(self.provider, err));
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: chunk.response_id.clone().unwrap_or_default(),
                model: chunk.model_version.clone().unwrap_or_default(),
            });
        }
        if let Some(candidate) = first_candidate(&chunk.candidates) {
            let parts = candidate
                .content
                .as_ref()
                .map(|c| c.parts.as_slice())
                .unwrap_or_default();
            for piece in parts.iter().flat_map(pieces) {
                out.push(self.event(piece));
            }
            if let Some(raw) = candidate.finish_reason.as_deref() {
                self.finish = Some(finish_reason(Some(raw), false));
            }
        } else if blocked(&chunk) {
            self.finish = Some(FinishReason::ContentFilter);
        }
        if let Some(u) = &chunk.usage_metadata {
            self.usage = Some(usage(u));
        }
        Ok(Flow::Continue)
    }

    /// The connection closed: complete with the remembered finish reason, or fail as truncated.
    pub fn on_eof(&mut self, out: &mut Vec<StreamEvent>) -> Result<Flow> {
        let Some(reason) = self.finish.take() else {
            return Err(Error::Truncated {
                provider: self.provider,
            });
        };
        if let Some(u) = self.usage.take() {
            out.push(StreamEvent::Usage(u));
        }
        Ok(Flow::Done(match reason {
            FinishReason::Stop if self.calls > 0 => FinishReason::ToolCalls,
            other => other,
        }))
    }

    fn event(&mut self, piece: Piece) -> StreamEvent {
        match piece {
            Piece::Reasoning { text, signature } => StreamEvent::ReasoningDelta { text, signature },
            Piece::Text(text) => StreamEvent::TextDelta { text },
            Piece::Call {
                id,
                name,
                arguments,
                signature,
            } => {
                let index = self.calls;
                self.calls += 1;
                StreamEvent::ToolCallDelta {
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    id: Some(id.unwrap_or_else(|| call_id(index))),
                    name: Some(name),
                    args_fragment: arguments,
                    signature,
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
