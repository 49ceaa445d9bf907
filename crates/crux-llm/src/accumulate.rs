//! Folds a stream's events into the `ChatResponse` the same call would have returned unstreamed, and back: [`replay`]
//! turns a response into the events of a stream that accumulates to it (a cached answer served as a stream).

use std::time::Duration;

use crate::types::{
    ChatResponse, FinishReason, Message, Part, Role, StreamEvent, StreamMetrics, ToolCall, Usage,
};

/// Accumulates `StreamEvent`s: text, reasoning (with signatures), tool calls by index, the last usage.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    id: String,
    model: String,
    text: String,
    reasoning: Vec<(String, Option<String>)>,
    calls: Vec<ToolCall>,
    usage: Usage,
    finish: Option<FinishReason>,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fold one event in.
    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Start { id, model } => {
                self.id.clone_from(id);
                self.model.clone_from(model);
            }
            StreamEvent::TextDelta { text } => self.text.push_str(text),
            StreamEvent::ReasoningDelta { text, signature } => {
                // A signature closes the current reasoning block; text after it starts a new one.
                match self.reasoning.last_mut() {
                    Some((t, sig @ None)) => {
                        t.push_str(text);
                        sig.clone_from(signature);
                    }
                    _ => self.reasoning.push((text.clone(), signature.clone())),
                }
            }
            StreamEvent::ToolCallDelta {
                index,
                id,
                name,
                args_fragment,
                signature,
            } => {
                let i = usize::try_from(*index).unwrap_or(usize::MAX);
                while self.calls.len() <= i && self.calls.len() < 1024 {
                    self.calls.push(ToolCall::new("", "", ""));
                }
                if let Some(call) = self.calls.get_mut(i) {
                    if let Some(id) = id {
                        call.id.clone_from(id);
                    }
                    if let Some(name) = name {
                        call.name.push_str(name);
                    }
                    call.arguments.push_str(args_fragment);
                    if signature.is_some() {
                        call.signature.clone_from(signature);
                    }
                }
            }
            StreamEvent::Usage(u) => self.usage = *u,
            StreamEvent::Finish { reason, .. } => self.finish = Some(reason.clone()),
        }
    }

    /// The assistant message built so far.
    pub fn message(&self) -> Message {
        let mut content: Vec<Part> = self
            .reasoning
            .iter()
            .filter(|(t, s)| !t.is_empty() || s.is_some())
            .map(|(text, signature)| Part::Reasoning {
                text: text.clone(),
                signature: signature.clone(),
            })
            .collect();
        if !self.text.is_empty() {
            content.push(Part::Text {
                text: self.text.clone(),
            });
        }
        Message {
            role: Role::Assistant,
            content,
            tool_calls: self.calls.clone(),
            tool_call_id: None,
            name: None,
        }
    }

    /// The whole response (finish reason `Error` if the stream never finished).
    pub fn response(&self, provider: &str, latency: Duration) -> ChatResponse {
        ChatResponse {
            id: self.id.clone(),
            model: self.model.clone(),
            provider: provider.to_owned(),
            message: self.message(),
            finish: self.finish.clone().unwrap_or(FinishReason::Error),
            usage: self.usage,
            latency,
        }
    }
}

/// The events of a stream that accumulates to `resp`: start, reasoning, text, tool calls, usage, finish.
pub fn replay(resp: &ChatResponse) -> Vec<StreamEvent> {
    let mut out = vec![StreamEvent::Start {
        id: resp.id.clone(),
        model: resp.model.clone(),
    }];
    for part in &resp.message.content {
        match part {
            Part::Reasoning { text, signature } => out.push(StreamEvent::ReasoningDelta {
                text: text.clone(),
                signature: signature.clone(),
            }),
            Part::Text { text } => out.push(StreamEvent::TextDelta { text: text.clone() }),
            _ => {}
        }
    }
    for (i, call) in resp.message.tool_calls.iter().enumerate() {
        out.push(StreamEvent::ToolCallDelta {
            index: u32::try_from(i).unwrap_or(u32::MAX),
            id: Some(call.id.clone()),
            name: Some(call.name.clone()),
            args_fragment: call.arguments.clone(),
            signature: call.signature.clone(),
        });
    }
    out.push(StreamEvent::Usage(resp.usage));
    out.push(StreamEvent::Finish {
        reason: resp.finish.clone(),
        metrics: StreamMetrics::default(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StreamMetrics;

    #[test]
    fn folds_text_reasoning_and_calls() {
        let mut acc = Accumulator::new();
        let events = [
            StreamEvent::Start {
                id: "r1".into(),
                model: "m".into(),
            },
            StreamEvent::ReasoningDelta {
                text: "think".into(),
                signature: None,
            },
            StreamEvent::ReasoningDelta {
                text: String::new(),
                signature: Some("sig".into()),
            },
            StreamEvent::TextDelta { text: "Hel".into() },
            StreamEvent::TextDelta { text: "lo".into() },
            StreamEvent::ToolCallDelta {
                index: 0,
                id: Some("c1".into()),
                name: Some("f".into()),
                args_fragment: "{\"a\"".into(),
                signature: None,
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                id: None,
                name: None,
                args_fragment: ":1}".into(),
                signature: None,
            },
            StreamEvent::Usage(Usage {
                prompt: Some(3),
                ..Usage::default()
            }),
            StreamEvent::Finish {
                reason: FinishReason::ToolCalls,
                metrics: StreamMetrics::default(),
            },
        ];
        events.iter().for_each(|e| acc.push(e));
        let r = acc.response("openai", Duration::ZERO);
        assert_eq!(r.id, "r1");
        assert_eq!(r.text(), "Hello");
        assert_eq!(
            r.message.content[0],
            Part::Reasoning {
                text: "think".into(),
                signature: Some("sig".into())
            }
        );
        assert_eq!(
            r.message.tool_calls,
            vec![ToolCall::new("c1", "f", "{\"a\":1}")]
        );
        assert_eq!(r.finish, FinishReason::ToolCalls);
        assert_eq!(r.usage.prompt, Some(3));
    }

    #[test]
    fn unfinished_stream_is_an_error_finish() {
        let acc = Accumulator::new();
        assert_eq!(
            acc.response("x", Duration::ZERO).finish,
            FinishReason::Error
        );
    }

    #[test]
    fn a_replayed_response_accumulates_back_to_itself() {
        let mut acc = Accumulator::new();
        let events = [
            StreamEvent::Start {
                id: "r1".into(),
                model: "m".into(),
            },
            StreamEvent::ReasoningDelta {
                text: "think".into(),
                signature: Some("sig".into()),
            },
            StreamEvent::TextDelta {
                text: "hello".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                id: Some("c1".into()),
                name: Some("f".into()),
                args_fragment: "{\"a\":1}".into(),
                signature: None,
            },
            StreamEvent::Usage(Usage {
                prompt: Some(3),
                completion: Some(2),
                ..Usage::default()
            }),
            StreamEvent::Finish {
                reason: FinishReason::ToolCalls,
                metrics: StreamMetrics::default(),
            },
        ];
        for e in &events {
            acc.push(e);
        }
        let resp = acc.response("openai", Duration::ZERO);
        let mut again = Accumulator::new();
        for e in replay(&resp) {
            again.push(&e);
        }
        assert_eq!(again.response("openai", Duration::ZERO), resp);
    }
}
