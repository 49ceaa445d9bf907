//! Converse answer → core: content blocks (text, reasoning, tool use; the structured-output tool's input as text),
//! `stopReason`, and usage (Bedrock counts cache reads and writes beside `inputTokens`, Anthropic-style).

use serde::Deserialize;
use serde_json::Value;

use super::{JSON_TOOL, fresh_id};
use crate::error::{ErrorCode, Result};
use crate::model_id::ModelId;
use crate::types::{FinishReason, Message, Part, Role, ToolCall, Usage};
use crate::wire::{Decoded, parse_json};

/// A Converse response body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseResponse {
    output: Output,
    stop_reason: Option<String>,
    #[serde(default)]
    usage: WireUsage,
}

#[derive(Debug, Deserialize)]
struct Output {
    message: Option<WireMessage>,
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Vec<Value>,
}

/// Converse `usage` (also the stream's `metadata.usage`).
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_write_input_tokens: Option<u64>,
}

/// Core usage: the prompt counts every input token, cached or not.
pub(crate) fn usage(u: &WireUsage) -> Usage {
    let read = u.cache_read_input_tokens.unwrap_or(0);
    let prompt = u
        .input_tokens
        .map(|i| i + read + u.cache_write_input_tokens.unwrap_or(0));
    Usage {
        prompt,
        completion: u.output_tokens,
        total: prompt.zip(u.output_tokens).map(|(p, c)| p + c),
        cached_prompt: u.cache_read_input_tokens,
        ..Usage::default()
    }
}

/// Map `stopReason` (open set); `json` says the answer was the structured-output tool's input.
pub(crate) fn stop_reason(raw: Option<&str>, json: bool) -> FinishReason {
    match raw {
        Some("tool_use") if json => FinishReason::Stop,
        None | Some("end_turn" | "stop_sequence") => FinishReason::Stop,
        Some("max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("guardrail_intervened" | "content_filtered") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
    }
}

/// The class of an exception Bedrock names (`ThrottlingException`, or `throttlingException` in a stream).
pub(crate) fn exception_code(name: &str) -> ErrorCode {
    let name = name.to_ascii_lowercase();
    match name.trim_end_matches("exception") {
        "throttling" | "servicequotaexceeded" => ErrorCode::RateLimit,
        "serviceunavailable" | "modelnotready" => ErrorCode::Overloaded,
        "validation" => ErrorCode::Validation,
        "accessdenied" | "unrecognizedclient" | "invalidsignature" => ErrorCode::Auth,
        "resourcenotfound" => ErrorCode::NotFound,
        "modeltimeout" => ErrorCode::Timeout,
        _ => ErrorCode::ServerError,
    }
}

/// Decode a non-streamed Converse body for `model` (the answer names no model; the one asked is echoed).
pub fn decode(model: &ModelId, body: &[u8]) -> Result<Decoded> {
    let r: ConverseResponse = parse_json(model.provider, body)?;
    let mut content = Vec::new();
    let mut tool_calls = Vec::new();
    let mut json = false;
    for block in r.output.message.map(|m| m.content).unwrap_or_default() {
        if let Some(text) = block.get("text").and_then(Value::as_str) {
            content.push(Part::Text {
                text: text.to_owned(),
            });
        } else if let Some(r) = block.get("reasoningContent") {
            if let Some(t) = r.get("reasoningText") {
                content.push(Part::Reasoning {
                    text: t["text"].as_str().unwrap_or_default().to_owned(),
                    signature: t["signature"].as_str().map(str::to_owned),
                });
            }
        } else if let Some(u) = block.get("toolUse") {
            let name = u["name"].as_str().unwrap_or_default();
            let input = crate::wire::anthropic::response::args_text(&u["input"]);
            if name == JSON_TOOL {
                json = true;
                content.push(Part::Text { text: input });
            } else {
                let id = u["toolUseId"].as_str().unwrap_or_default();
                tool_calls.push(ToolCall::new(id, name, input));
            }
        }
    }
    Ok(Decoded {
        id: fresh_id(),
        model: model.model.clone(),
        finish: stop_reason(r.stop_reason.as_deref(), json),
        usage: usage(&r.usage),
        message: Message {
            role: Role::Assistant,
            content,
            tool_calls,
            tool_call_id: None,
            name: None,
        },
    })
}
