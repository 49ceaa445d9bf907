//! Anthropic named SSE events → core `StreamEvent`s (`message_stop` terminator, `ping` ignored, `error` in-band).

use std::borrow::Cow;

use serde::Deserialize;

use super::response::{error_code, stop_reason, usage};
use super::types::{Block, BlockDelta, StreamData, WireUsage};
use crate::decode::SseEvent;
use crate::error::{Error, Result};
use crate::providers::ProviderId;
use crate::types::StreamEvent;
use crate::wire::Flow;

/// Decoding state for one Anthropic stream.
#[derive(Debug)]
pub struct StreamState {
    provider: ProviderId,
    input: Option<WireUsage>,
    stop: Option<String>,
    /// Content-block index → tool-call ordinal, for `tool_use` blocks.
    tool_blocks: Vec<(u32, u32)>,
}

impl StreamState {
    /// A fresh decoder.
    pub fn new(provider: ProviderId) -> Self {
        Self {
            provider,
            input: None,
            stop: None,
            tool_blocks: Vec::new(),
        }
    }

    fn tool_ordinal(&self, block: u32) -> Option<u32> {
        self.tool_blocks
            .iter()
            .find(|(b, _)| *b == block)
            .map(|(_, o)| *o)
    }

    /// Handle one SSE event.
    pub fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) -> Result<Flow> {
        if ev.data.trim().is_empty() {
            return Ok(Flow::Continue);
        }
        // Most frames are deltas: read them flat and borrowed; anything else (or a delta this cannot read) goes the
        // general way, which also gives the error.
        if ev.event.as_deref() == Some("content_block_delta")
            && let Ok(d) = serde_json::from_str::<DeltaEvent<'_>>(&ev.data)
            && let Some(flow) = self.on_delta(d, out)
        {
            return Ok(flow);
        }
        let data: StreamData = serde_json::from_str(&ev.data).map_err(|e| Error::Decode {
            provider: self.provider,
            message: format!("stream event is not valid JSON ({e})"),
        })?;
        match data {
            StreamData::MessageStart { message } => {
                out.push(StreamEvent::Start {
                    id: message.id,
                    model: message.model,
                });
                self.input = Some(message.usage);
            }
            StreamData::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                Block::ToolUse { id, name, .. } => {
                    let ordinal = u32::try_from(self.tool_blocks.len()).unwrap_or(u32::MAX);
                    self.tool_blocks.push((index, ordinal));
                    out.push(StreamEvent::ToolCallDelta {
                        index: ordinal,
                        id: Some(id),
                        name: Some(name),
                        args_fragment: String::new(),
                        signature: None,
                    });
                }
                Block::Text { text, .. } if !text.is_empty() => {
                    out.push(StreamEvent::TextDelta { text })
                }
                Block::Thinking { thinking, .. } if !thinking.is_empty() => {
                    out.push(StreamEvent::ReasoningDelta {
                        text: thinking,
                        signature: None,
                    })
                }
                _ => {}
            },
            StreamData::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } => {
                    if !text.is_empty() {
                        out.push(StreamEvent::TextDelta { text });
                    }
                }
                BlockDelta::InputJsonDelta { partial_json } => {
                    if let Some(ordinal) = self.tool_ordinal(index)
                        && !partial_json.is_empty()
                    {
                        out.push(StreamEvent::ToolCallDelta {
                            index: ordinal,
                            id: None,
                            name: None,
                            args_fragment: partial_json,
                            signature: None,
                        });
                    }
                }
                BlockDelta::ThinkingDelta { thinking } => out.push(StreamEvent::ReasoningDelta {
                    text: thinking,
                    signature: None,
                }),
                BlockDelta::SignatureDelta { signature } => out.push(StreamEvent::ReasoningDelta {
                    text: String::new(),
                    signature: Some(signature),
                }),
                BlockDelta::Unknown => {}
            },
            StreamData::MessageDelta { delta, usage: u } => {
                if delta.stop_reason.is_some() {
                    self.stop = delta.stop_reason;
                }
                out.push(StreamEvent::Usage(usage(&u, self.input.as_ref())));
            }
            StreamData::MessageStop => return Ok(Flow::Done(stop_reason(self.stop.as_deref()))),
            StreamData::Error { error } => {
                let (code, message) = error_code(&error);
                return Err(Error::InBand {
                    provider: self.provider,
                    code,
                    message,
                });
            }
            StreamData::ContentBlockStop { .. } | StreamData::Ping | StreamData::Unknown => {}
        }
        Ok(Flow::Continue)
    }
}

impl StreamState {
    /// A `content_block_delta` read flat; `None` when it is not one the general reading would accept the same way.
    fn on_delta(&mut self, d: DeltaEvent<'_>, out: &mut Vec<StreamEvent>) -> Option<Flow> {
        if d.kind != "content_block_delta" {
            return None;
        }
        let FlatDelta {
            kind,
            text,
            partial_json,
            thinking,
            signature,
        } = d.delta;
        match kind.as_ref() {
            "text_delta" => {
                let text = text?;
                if !text.is_empty() {
                    out.push(StreamEvent::TextDelta {
                        text: text.into_owned(),
                    });
                }
            }
            "input_json_delta" => {
                let json = partial_json?;
                if let Some(ordinal) = self.tool_ordinal(d.index)
                    && !json.is_empty()
                {
                    out.push(StreamEvent::ToolCallDelta {
                        index: ordinal,
                        id: None,
                        name: None,
                        args_fragment: json.into_owned(),
                        signature: None,
                    });
                }
            }
            "thinking_delta" => out.push(StreamEvent::ReasoningDelta {
                text: thinking?.into_owned(),
                signature: None,
            }),
            "signature_delta" => out.push(StreamEvent::ReasoningDelta {
                text: String::new(),
                signature: Some(signature?.into_owned()),
            }),
            _ => {}
        }
        Some(Flow::Continue)
    }
}

/// `content_block_delta` as read on the hot path (the general type is [`StreamData::ContentBlockDelta`]): the
/// delta's fields side by side instead of a tagged enum, which serde would buffer before choosing its variant.
#[derive(Deserialize)]
struct DeltaEvent<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    index: u32,
    #[serde(borrow)]
    delta: FlatDelta<'a>,
}

#[derive(Deserialize)]
struct FlatDelta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "crate::wire::borrowed::opt_text")]
    text: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::wire::borrowed::opt_text")]
    partial_json: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::wire::borrowed::opt_text")]
    thinking: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::wire::borrowed::opt_text")]
    signature: Option<Cow<'a, str>>,
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
