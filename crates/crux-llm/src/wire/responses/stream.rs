//! Responses API named SSE events → core `StreamEvent`s (terminal `response.completed` / `incomplete` / `failed`).

use serde_json::Value;

use super::response::{failure, finish, usage};
use crate::decode::SseEvent;
use crate::error::{Error, Result};
use crate::providers::ProviderId;
use crate::types::StreamEvent;
use crate::wire::Flow;

/// Decoding state for one Responses stream.
#[derive(Debug)]
pub struct StreamState {
    provider: ProviderId,
    started: bool,
    /// Output index → tool-call ordinal for `function_call` items.
    calls: Vec<(u64, u32)>,
}

impl StreamState {
    /// A fresh decoder.
    pub fn new(provider: ProviderId) -> Self {
        Self {
            provider,
            started: false,
            calls: Vec::new(),
        }
    }

    fn ordinal(&self, output_index: u64) -> Option<u32> {
        self.calls
            .iter()
            .find(|(i, _)| *i == output_index)
            .map(|(_, o)| *o)
    }

    /// Handle one SSE event.
    pub fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) -> Result<Flow> {
        if ev.data.trim().is_empty() {
            return Ok(Flow::Continue);
        }
        let v: Value = serde_json::from_str(&ev.data).map_err(|e| Error::Decode {
            provider: self.provider,
            message: format!("stream event is not valid JSON ({e})"),
        })?;
        let kind = v["type"]
            .as_str()
            .or(ev.event.as_deref())
            .unwrap_or_default();
        if !self.started && kind.starts_with("response.") && v["response"].is_object() {
            self.started = true;
            out.push(StreamEvent::Start {
                id: v["response"]["id"].as_str().unwrap_or_default().to_owned(),
                model: v["response"]["model"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        let text = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
        match kind {
            "response.output_text.delta" | "response.refusal.delta" => {
                let delta = text("delta");
                if !delta.is_empty() {
                    out.push(StreamEvent::TextDelta { text: delta });
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                out.push(StreamEvent::ReasoningDelta {
                    text: text("delta"),
                    signature: None,
                });
            }
            "response.output_item.added" if v["item"]["type"] == "function_call" => {
                let ordinal = u32::try_from(self.calls.len()).unwrap_or(u32::MAX);
                self.calls
                    .push((v["output_index"].as_u64().unwrap_or_default(), ordinal));
                out.push(StreamEvent::ToolCallDelta {
                    index: ordinal,
                    id: v["item"]["call_id"].as_str().map(str::to_owned),
                    name: v["item"]["name"].as_str().map(str::to_owned),
                    args_fragment: v["item"]["arguments"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    signature: None,
                });
            }
            "response.function_call_arguments.delta" => {
                if let Some(ordinal) = self.ordinal(v["output_index"].as_u64().unwrap_or_default())
                {
                    out.push(StreamEvent::ToolCallDelta {
                        index: ordinal,
                        id: None,
                        name: None,
                        args_fragment: text("delta"),
                        signature: None,
                    });
                }
            }
            "response.completed" | "response.incomplete" => {
                let r = &v["response"];
                out.push(StreamEvent::Usage(usage(&r["usage"])));
                return Ok(Flow::Done(finish(r, !self.calls.is_empty())));
            }
            "response.failed" => return Err(failure(self.provider, &v["response"]["error"])),
            "error" => return Err(failure(self.provider, &v)),
            _ => {}
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::SseDecoder;
    use crate::types::{FinishReason, Usage};

    fn run(body: &str) -> (Vec<StreamEvent>, Result<Flow>) {
        let mut events = Vec::new();
        let mut dec = SseDecoder::default();
        dec.push(body.as_bytes(), &mut events).unwrap();
        let mut s = StreamState::new(ProviderId::OpenAi);
        let mut out = Vec::new();
        let mut flow = Ok(Flow::Continue);
        for ev in &events {
            flow = s.on_event(ev, &mut out);
            if !matches!(flow, Ok(Flow::Continue)) {
                break;
            }
        }
        (out, flow)
    }

    #[test]
    fn event_stream_with_text_and_function_call() {
        let body = r#"event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","model":"o4-mini","status":"in_progress","output":[]}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":3,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hi "}

event: response.output_item.added
data: {"type":"response.output_item.added","sequence_number":5,"output_index":2,"item":{"type":"function_call","id":"fc_1","call_id":"call_7","name":"f","arguments":""}}

event: response.function_call_arguments.delta
data: {"type":"response.function_call_arguments.delta","sequence_number":6,"output_index":2,"item_id":"fc_1","delta":"{\"a\""}

event: response.function_call_arguments.delta
data: {"type":"response.function_call_arguments.delta","sequence_number":7,"output_index":2,"item_id":"fc_1","delta":":1}"}

event: response.completed
data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","status":"completed","output":[],"usage":{"input_tokens":3,"output_tokens":5,"total_tokens":8,"output_tokens_details":{"reasoning_tokens":2}}}}

"#;
        let (out, flow) = run(body);
        assert_eq!(flow.unwrap(), Flow::Done(FinishReason::ToolCalls));
        assert!(
            matches!(&out[0], StreamEvent::Start { id, model } if id == "resp_1" && model == "o4-mini")
        );
        assert!(matches!(&out[1], StreamEvent::TextDelta { text } if text == "Hi "));
        assert!(
            matches!(&out[2], StreamEvent::ToolCallDelta { id: Some(id), .. } if id == "call_7")
        );
        assert!(matches!(
            out.last(),
            Some(StreamEvent::Usage(Usage {
                total: Some(8),
                reasoning: Some(2),
                ..
            }))
        ));
    }

    #[test]
    fn failed_response_is_in_band_error() {
        let body = "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"mock mid-stream failure\"}}}\n\n";
        let (_, flow) = run(body);
        assert!(
            flow.unwrap_err()
                .to_string()
                .contains("mock mid-stream failure")
        );
    }
}
