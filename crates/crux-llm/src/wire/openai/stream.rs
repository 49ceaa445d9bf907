//! OpenAI-family SSE stream → core `StreamEvent`s (tool-call deltas by index, usage anywhere, `[DONE]` terminator).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use super::response::{finish_reason, usage};
use super::types::{ToolCallChunk, WireUsage, XGroq};
use crate::error::{Error, ErrorBody, ErrorCode};
use crate::providers::ProviderId;
use crate::scrub::scrub;
use crate::types::StreamEvent;
pub use crate::wire::Flow;

/// Decoding state for one OpenAI-wire stream.
#[derive(Debug)]
pub struct StreamState {
    provider: ProviderId,
    started: bool,
    finish: Option<String>,
    /// Tool-call slots in arrival order: (wire index, id).
    calls: Vec<(Option<u32>, Option<String>)>,
}

impl StreamState {
    /// A fresh decoder for `provider`.
    pub fn new(provider: ProviderId) -> Self {
        Self {
            provider,
            started: false,
            finish: None,
            calls: Vec::new(),
        }
    }

    /// Handle the `data` of one SSE event, appending core events to `out`.
    pub fn on_data(&mut self, data: &str, out: &mut Vec<StreamEvent>) -> Result<Flow, Error> {
        let data = data.trim();
        if data == "[DONE]" {
            let reason = finish_reason(self.finish.as_deref(), !self.calls.is_empty());
            return Ok(Flow::Done(reason));
        }
        if data.is_empty() {
            return Ok(Flow::Continue);
        }
        let chunk: ChunkIn<'_> = serde_json::from_str(data).map_err(|e| Error::Decode {
            provider: self.provider,
            message: format!("stream chunk is not valid JSON ({e})"),
        })?;
        if let Some(err) = chunk.error.as_ref() {
            return Err(self.in_band(err));
        }
        if let Some(err) = chunk.x_groq.as_ref().and_then(|x| x.error.as_ref()) {
            return Err(self.in_band(err));
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: chunk.id.into_owned(),
                model: chunk.model.into_owned(),
            });
        }
        if let Some(choice) = chunk.choices.into_iter().find(|c| c.index == 0) {
            let d = choice.delta;
            if let Some(r) = d
                .reasoning_content
                .or(d.reasoning)
                .filter(|r| !r.is_empty())
            {
                out.push(StreamEvent::ReasoningDelta {
                    text: r.into_owned(),
                    signature: None,
                });
            }
            for text in [d.content, d.refusal].into_iter().flatten() {
                if !text.is_empty() {
                    out.push(StreamEvent::TextDelta {
                        text: text.into_owned(),
                    });
                }
            }
            for call in d.tool_calls.unwrap_or_default() {
                out.push(self.tool_delta(call));
            }
            if let Some(reason) = choice.finish_reason {
                if reason == "error" {
                    return Err(Error::InBand {
                        provider: self.provider,
                        code: ErrorCode::ServerError,
                        message: "the provider ended the stream with finish_reason \"error\""
                            .into(),
                    });
                }
                self.finish = Some(reason.into_owned());
            }
        }
        let groq_usage = chunk.x_groq.and_then(|x| x.usage);
        if let Some(u) = chunk.usage.or(groq_usage) {
            out.push(StreamEvent::Usage(usage(u)));
        }
        Ok(Flow::Continue)
    }

    /// Slot of a fragment: by wire index, else by id, else a new call in arrival order.
    fn tool_delta(&mut self, call: ToolCallChunk) -> StreamEvent {
        let named = call
            .function
            .as_ref()
            .is_some_and(|f| f.name.as_deref().is_some_and(|n| !n.is_empty()));
        let found = match (call.index, call.id.as_deref()) {
            (Some(i), _) => self.calls.iter().position(|(idx, _)| *idx == Some(i)),
            (None, Some(id)) => self
                .calls
                .iter()
                .position(|(_, known)| known.as_deref() == Some(id)),
            (None, None) if named => None,
            (None, None) => self.calls.len().checked_sub(1),
        };
        let (slot, first) = match found {
            Some(slot) => (slot, false),
            None => {
                self.calls.push((call.index, call.id.clone()));
                (self.calls.len() - 1, true)
            }
        };
        let function = call.function.unwrap_or_default();
        StreamEvent::ToolCallDelta {
            index: u32::try_from(slot).unwrap_or(u32::MAX),
            id: if first { call.id } else { None },
            name: function.name.filter(|n| !n.is_empty()),
            args_fragment: function.arguments.unwrap_or_default(),
            signature: None,
        }
    }

    fn in_band(&self, err: &Value) -> Error {
        let parsed = ErrorBody::parse(&serde_json::json!({ "error": err }).to_string());
        let code = parsed
            .codes
            .iter()
            .find_map(|c| c.parse::<u16>().ok())
            .map(ErrorCode::from_status)
            .unwrap_or_else(|| parsed.classify(500).0);
        Error::InBand {
            provider: self.provider,
            code,
            message: scrub(parsed.message.as_deref().unwrap_or("mid-stream error"), &[]),
        }
    }
}

/// A `chat.completion.chunk` as read (the wire type is [`super::types::ChatCompletionChunk`]): strings are borrowed
/// from the frame where they need no unescaping, and what the decoder does not use (`object`, `created`, `role`,
/// `system_fingerprint`, …) is skipped instead of copied. Defaults and nulls are those of the wire type.
#[derive(Deserialize)]
struct ChunkIn<'a> {
    #[serde(default, borrow)]
    id: Cow<'a, str>,
    #[serde(default, borrow)]
    model: Cow<'a, str>,
    #[serde(default, borrow)]
    choices: Vec<ChoiceIn<'a>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    x_groq: Option<XGroq>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct ChoiceIn<'a> {
    #[serde(default)]
    index: u32,
    #[serde(default, borrow)]
    delta: DeltaIn<'a>,
    #[serde(default, borrow, deserialize_with = "crate::wire::borrowed::opt_text")]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Default, Deserialize)]
struct DeltaIn<'a> {
    #[serde(default, borrow, deserialize_with = "crate::wire::borrowed::opt_text")]
    content: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::wire::borrowed::opt_text")]
    refusal: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::wire::borrowed::opt_text")]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::wire::borrowed::opt_text")]
    reasoning: Option<Cow<'a, str>>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallChunk>>,
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
