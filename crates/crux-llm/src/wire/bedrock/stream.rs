//! ConverseStream events → core `StreamEvent`s: `messageStart`, `contentBlockStart`/`Delta`/`Stop`, `messageStop`
//! (the stop reason) and `metadata` (usage; the last event, so the terminator); exception frames are in-band errors.

use serde_json::Value;

use super::response::{WireUsage, exception_code, stop_reason, usage};
use super::{JSON_TOOL, fresh_id};
use crate::decode::eventstream::{EventMessage, MessageKind};
use crate::error::{Error, Result};
use crate::model_id::ModelId;
use crate::providers::ProviderId;
use crate::types::StreamEvent;
use crate::wire::Flow;

/// Decoding state for one ConverseStream body.
#[derive(Debug)]
pub struct StreamState {
    provider: ProviderId,
    model: String,
    stop: Option<String>,
    /// Content-block index → tool-call ordinal (`None`: the structured-output tool, whose input is text).
    tool_blocks: Vec<(u64, Option<u32>)>,
    calls: u32,
    json: bool,
}

impl StreamState {
    /// A fresh decoder for a stream of `model`.
    pub fn new(model: &ModelId) -> Self {
        Self {
            provider: model.provider,
            model: model.model.clone(),
            stop: None,
            tool_blocks: Vec::new(),
            calls: 0,
            json: false,
        }
    }

    fn block(&self, index: u64) -> Option<Option<u32>> {
        self.tool_blocks
            .iter()
            .find(|(b, _)| *b == index)
            .map(|(_, o)| *o)
    }

    /// Handle one event-stream message.
    pub fn on_message(&mut self, m: &EventMessage, out: &mut Vec<StreamEvent>) -> Result<Flow> {
        let data: Value = serde_json::from_slice(&m.payload).map_err(|e| Error::Decode {
            provider: self.provider,
            message: format!("stream event '{}' is not valid JSON ({e})", m.name),
        })?;
        if m.kind == MessageKind::Exception {
            return Err(Error::InBand {
                provider: self.provider,
                code: exception_code(&m.name),
                message: data["message"]
                    .as_str()
                    .or_else(|| data["Message"].as_str())
                    .unwrap_or(&m.name)
                    .to_owned(),
            });
        }
        let index = data["contentBlockIndex"].as_u64().unwrap_or(0);
        match m.name.as_str() {
            "messageStart" => out.push(StreamEvent::Start {
                id: fresh_id(),
                model: self.model.clone(),
            }),
            "contentBlockStart" => {
                if let Some(tool) = data["start"].get("toolUse") {
                    let name = tool["name"].as_str().unwrap_or_default();
                    if name == JSON_TOOL {
                        self.json = true;
                        self.tool_blocks.push((index, None));
                    } else {
                        let ordinal = self.calls;
                        self.calls += 1;
                        self.tool_blocks.push((index, Some(ordinal)));
                        out.push(StreamEvent::ToolCallDelta {
                            index: ordinal,
                            id: tool["toolUseId"].as_str().map(str::to_owned),
                            name: Some(name.to_owned()),
                            args_fragment: String::new(),
                            signature: None,
                        });
                    }
                }
            }
            "contentBlockDelta" => self.on_delta(index, &data["delta"], out),
            "messageStop" => {
                self.stop = data["stopReason"].as_str().map(str::to_owned);
            }
            "metadata" => {
                let u: WireUsage =
                    serde_json::from_value(data["usage"].clone()).unwrap_or_default();
                out.push(StreamEvent::Usage(usage(&u)));
                return Ok(Flow::Done(stop_reason(self.stop.as_deref(), self.json)));
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn on_delta(&mut self, index: u64, delta: &Value, out: &mut Vec<StreamEvent>) {
        if let Some(text) = delta["text"].as_str().filter(|t| !t.is_empty()) {
            out.push(StreamEvent::TextDelta {
                text: text.to_owned(),
            });
        } else if let Some(input) = delta["toolUse"]["input"].as_str().filter(|t| !t.is_empty()) {
            match self.block(index) {
                Some(Some(ordinal)) => out.push(StreamEvent::ToolCallDelta {
                    index: ordinal,
                    id: None,
                    name: None,
                    args_fragment: input.to_owned(),
                    signature: None,
                }),
                Some(None) => out.push(StreamEvent::TextDelta {
                    text: input.to_owned(),
                }),
                None => {}
            }
        } else if let Some(r) = delta.get("reasoningContent") {
            if let Some(text) = r["text"].as_str() {
                out.push(StreamEvent::ReasoningDelta {
                    text: text.to_owned(),
                    signature: None,
                });
            }
            if let Some(sig) = r["signature"].as_str() {
                out.push(StreamEvent::ReasoningDelta {
                    text: String::new(),
                    signature: Some(sig.to_owned()),
                });
            }
        }
    }
}
