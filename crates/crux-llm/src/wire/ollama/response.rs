//! Ollama `/api/chat` response (and stream line) → core message, finish reason and usage.

use super::types::{ChatChunk, OllamaMessage, OllamaToolCall};
use crate::error::{Error, ErrorBody, ErrorCode, Result};
use crate::providers::ProviderId;
use crate::scrub::scrub;
use crate::types::{Message, Part, ToolCall, Usage};
use crate::wire::openai::response::finish_reason;
use crate::wire::{Decoded, parse_json};

/// Decode a non-streamed (`"stream": false`) `/api/chat` body.
pub fn decode(p: ProviderId, body: &[u8]) -> Result<Decoded> {
    let parsed: ChatChunk = parse_json(p, body)?;
    if let Some(err) = &parsed.error {
        return Err(in_band(p, err));
    }
    let wire = parsed.message.clone().unwrap_or_default();
    let (thinking, text) = fragments(&wire);
    let mut content = Vec::new();
    if let Some(thinking) = thinking {
        content.push(Part::Reasoning {
            text: thinking.to_owned(),
            signature: None,
        });
    }
    if let Some(text) = text {
        content.push(Part::Text {
            text: text.to_owned(),
        });
    }
    let tool_calls: Vec<ToolCall> = wire
        .tool_calls
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, c)| tool_call(i, c))
        .collect();
    let finish = finish_reason(parsed.done_reason.as_deref(), !tool_calls.is_empty());
    Ok(Decoded {
        id: parsed.created_at.clone(),
        model: parsed.model.clone(),
        message: Message {
            content,
            tool_calls,
            ..Message::assistant("")
        },
        finish,
        usage: usage(&parsed),
    })
}

/// A core tool call from the `index`-th wire call of a turn (Ollama usually sends no id: `call_{index}`).
pub(crate) fn tool_call(index: usize, c: &OllamaToolCall) -> ToolCall {
    let id =
        c.id.clone()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| format!("call_{index}"));
    let arguments = match &c.function.arguments {
        serde_json::Value::Null => "{}".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    ToolCall::new(id, c.function.name.clone(), arguments)
}

/// Usage of a final (`done: true`) object: counters omitted by Ollama are zero.
pub(crate) fn usage(c: &ChatChunk) -> Usage {
    let prompt = c.prompt_eval_count.unwrap_or(0);
    let completion = c.eval_count.unwrap_or(0);
    Usage {
        prompt: Some(prompt),
        completion: Some(completion),
        total: Some(prompt + completion),
        ..Usage::default()
    }
}

/// An `{"error": ...}` object inside a 200 response.
pub(crate) fn in_band(p: ProviderId, err: &serde_json::Value) -> Error {
    let body = ErrorBody::parse(&serde_json::json!({ "error": err }).to_string());
    Error::InBand {
        provider: p,
        code: ErrorCode::ServerError,
        message: scrub(body.message.as_deref().unwrap_or("mid-stream error"), &[]),
    }
}

/// Reasoning and text of a streamed message fragment, in emission order.
pub(crate) fn fragments(m: &OllamaMessage) -> (Option<&str>, Option<&str>) {
    let thinking = m.thinking.as_deref().filter(|t| !t.is_empty());
    let text = Some(m.content.as_str()).filter(|t| !t.is_empty());
    (thinking, text)
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
