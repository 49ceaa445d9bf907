//! Anthropic Messages response → core (content blocks, stop reason, usage with cache fields).

use serde_json::Value;

use super::types::{Block, MessageResponse, WireUsage};
use crate::error::{ErrorBody, ErrorCode, Result};
use crate::providers::ProviderId;
use crate::types::{FinishReason, Message, Part, Role, ToolCall, Usage};
use crate::wire::{Decoded, parse_json};

/// Decode a non-streamed body.
pub fn decode(provider: ProviderId, body: &[u8]) -> Result<Decoded> {
    let m: MessageResponse = parse_json(provider, body)?;
    let mut content = Vec::new();
    let mut tool_calls = Vec::new();
    for block in m.content {
        match block {
            Block::Text { text, .. } => content.push(Part::Text { text }),
            Block::Thinking {
                thinking,
                signature,
            } => content.push(Part::Reasoning {
                text: thinking,
                signature: (!signature.is_empty()).then_some(signature),
            }),
            Block::ToolUse {
                id, name, input, ..
            } => tool_calls.push(ToolCall::new(id, name, args_text(&input))),
            Block::Image { .. }
            | Block::ToolResult { .. }
            | Block::RedactedThinking { .. }
            | Block::Unknown => {}
        }
    }
    Ok(Decoded {
        id: m.id,
        model: m.model,
        finish: stop_reason(m.stop_reason.as_deref()),
        usage: usage(&m.usage, None),
        message: Message {
            role: Role::Assistant,
            content,
            tool_calls,
            tool_call_id: None,
            name: None,
        },
    })
}

/// Compact JSON text of a tool input object.
pub fn args_text(input: &Value) -> String {
    match input {
        Value::Null => "{}".to_owned(),
        v => v.to_string(),
    }
}

/// Map `stop_reason` (open set).
pub fn stop_reason(raw: Option<&str>) -> FinishReason {
    match raw {
        None | Some("end_turn") | Some("stop_sequence") | Some("pause_turn") => FinishReason::Stop,
        Some("max_tokens") | Some("model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("refusal") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
    }
}

/// Normalize usage: prompt = input + cache writes + cache reads; cached = cache reads.
/// In streams `message_start` carries the input side and `message_delta` the cumulative output (newer API versions
/// repeat the input side there too): fields of `u` win, `input` fills the gaps.
pub fn usage(u: &WireUsage, input: Option<&WireUsage>) -> Usage {
    let start = input.copied().unwrap_or_default();
    let input_tokens = u.input_tokens.or(start.input_tokens);
    let writes = u
        .cache_creation_input_tokens
        .or(start.cache_creation_input_tokens);
    let reads = u.cache_read_input_tokens.or(start.cache_read_input_tokens);
    let prompt = input_tokens.map(|n| n + writes.unwrap_or(0) + reads.unwrap_or(0));
    let completion = u.output_tokens;
    Usage {
        prompt,
        completion,
        total: prompt.zip(completion).map(|(p, c)| p + c),
        cached_prompt: reads,
        reasoning: None,
        cost: None,
    }
}

/// Classify an in-band `error` object (`{"type":"overloaded_error","message":..}`).
pub fn error_code(err: &Value) -> (ErrorCode, String) {
    let parsed = ErrorBody::parse(&serde_json::json!({ "error": err }).to_string());
    let has = |c: &str| parsed.codes.iter().any(|x| x == c);
    let code = if has("overloaded_error") {
        ErrorCode::Overloaded
    } else if has("rate_limit_error") {
        ErrorCode::RateLimit
    } else if has("authentication_error") || has("permission_error") {
        ErrorCode::Auth
    } else if has("invalid_request_error") {
        ErrorCode::Validation
    } else if has("request_too_large") {
        ErrorCode::TooLarge
    } else if has("not_found_error") {
        ErrorCode::NotFound
    } else {
        ErrorCode::ServerError
    };
    (
        code,
        parsed.message.unwrap_or_else(|| "stream error".to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_blocks_and_cache_usage() {
        let d = decode(
            ProviderId::Anthropic,
            br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",
            "content":[{"type":"thinking","thinking":"hmm","signature":"sig1"},
              {"type":"text","text":"Paris.","citations":null},
              {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},
              {"type":"server_tool_use","id":"x"}],
            "stop_reason":"tool_use","stop_sequence":null,
            "usage":{"input_tokens":10,"output_tokens":7,"cache_creation_input_tokens":5,"cache_read_input_tokens":100}}"#,
        )
        .unwrap();
        assert_eq!(d.finish, FinishReason::ToolCalls);
        assert_eq!(
            d.message.content[0],
            Part::Reasoning {
                text: "hmm".into(),
                signature: Some("sig1".into())
            }
        );
        assert_eq!(d.message.tool_calls[0].arguments, r#"{"city":"Paris"}"#);
        assert_eq!(d.usage.prompt, Some(115));
        assert_eq!(d.usage.cached_prompt, Some(100));
        assert_eq!(d.usage.total, Some(122));
    }

    #[test]
    fn stop_reasons() {
        assert_eq!(stop_reason(Some("max_tokens")), FinishReason::Length);
        assert_eq!(stop_reason(Some("refusal")), FinishReason::ContentFilter);
        assert_eq!(
            stop_reason(Some("new_reason")),
            FinishReason::Other("new_reason".into())
        );
    }
}
