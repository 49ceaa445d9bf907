//! OpenAI Chat Completions response body → core `ChatResponse` parts (message, finish reason, usage).

use super::types::{
    ChatCompletion, EmbeddingsResponse, ModelList, WireContent, WireMessage, WirePart, WireUsage,
};
use crate::error::Result;
use crate::providers::ProviderId;
use crate::types::{EmbedResponse, FinishReason, Message, ModelInfo, Part, Role, ToolCall, Usage};
use crate::wire::{Decoded, parse_json};

/// Normalize a parsed response body.
pub fn decode(body: ChatCompletion) -> Decoded {
    let choice = body.choices.into_iter().min_by_key(|c| c.index);
    let (message, finish) = match choice {
        Some(c) => {
            let has_calls = c.message.tool_calls.as_ref().is_some_and(|t| !t.is_empty());
            let finish = finish_reason(c.finish_reason.as_deref(), has_calls);
            (message(c.message), finish)
        }
        None => (
            Message {
                content: Vec::new(),
                ..Message::assistant("")
            },
            FinishReason::Other("no_choices".to_owned()),
        ),
    };
    Decoded {
        id: body.id,
        model: body.model,
        message,
        finish,
        usage: body.usage.map(usage).unwrap_or_default(),
    }
}

/// Decode an embeddings body.
pub fn decode_embeddings(provider: ProviderId, body: &[u8]) -> Result<EmbedResponse> {
    let mut parsed: EmbeddingsResponse = parse_json(provider, body)?;
    parsed.data.sort_by_key(|d| d.index);
    Ok(EmbedResponse {
        model: parsed.model,
        vectors: parsed.data.into_iter().map(|d| d.embedding).collect(),
        usage: parsed.usage.map(usage).unwrap_or_default(),
    })
}

/// Decode a `/models` body.
pub fn decode_models(provider: ProviderId, body: &[u8]) -> Result<Vec<ModelInfo>> {
    let parsed: ModelList = parse_json(provider, body)?;
    Ok(parsed
        .data
        .into_iter()
        .map(|m| ModelInfo {
            provider: provider.as_str().to_owned(),
            id: m.id,
            owned_by: m.owned_by,
            context_length: m.context_length,
        })
        .collect())
}

/// Map an OpenAI-family `finish_reason` (open set) to the normalized reason.
pub fn finish_reason(raw: Option<&str>, saw_tool_calls: bool) -> FinishReason {
    match raw {
        Some("stop") | None if saw_tool_calls => FinishReason::ToolCalls,
        Some("stop") | Some("end_turn") => FinishReason::Stop,
        Some("length") | Some("model_length") => FinishReason::Length,
        Some("tool_calls") | Some("function_call") => FinishReason::ToolCalls,
        Some("content_filter") => FinishReason::ContentFilter,
        Some("error") | Some("insufficient_system_resource") => FinishReason::Error,
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Stop,
    }
}

/// Normalize a usage block (vendor extensions included).
pub fn usage(u: WireUsage) -> Usage {
    let prompt = u.prompt_tokens;
    let completion = u.completion_tokens;
    Usage {
        prompt,
        completion,
        total: u.total_tokens.or_else(|| Some(prompt? + completion?)),
        cached_prompt: u
            .prompt_tokens_details
            .and_then(|d| d.cached_tokens)
            .or(u.prompt_cache_hit_tokens),
        reasoning: u.completion_tokens_details.and_then(|d| d.reasoning_tokens),
        cost: u.cost,
    }
}

fn message(m: WireMessage) -> Message {
    let mut content = Vec::new();
    if let Some(r) = m
        .reasoning_content
        .or(m.reasoning)
        .filter(|r| !r.is_empty())
    {
        content.push(Part::Reasoning {
            text: r,
            signature: None,
        });
    }
    match m.content {
        Some(WireContent::Text(t)) if !t.is_empty() => content.push(Part::Text { text: t }),
        Some(WireContent::Parts(parts)) => {
            content.extend(parts.into_iter().filter_map(|p| match p {
                WirePart::Text { text, .. } => Some(Part::Text { text }),
                WirePart::Refusal { refusal } => Some(Part::Refusal { text: refusal }),
                WirePart::ImageUrl { .. } | WirePart::Unknown => None,
            }))
        }
        _ => {}
    }
    if let Some(r) = m.refusal.filter(|r| !r.is_empty()) {
        content.push(Part::Refusal { text: r });
    }
    Message {
        role: Role::Assistant,
        content,
        tool_calls: m
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .map(|c| ToolCall::new(c.id, c.function.name, c.function.arguments))
            .collect(),
        tool_call_id: None,
        name: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Decoded {
        decode(serde_json::from_str(s).unwrap())
    }

    #[test]
    fn tool_call_response() {
        let d = parse(
            r#"{"id":"chatcmpl-123","object":"chat.completion","created":1727346182,"model":"gpt-4o-2024-08-06",
            "system_fingerprint":"fp_1","service_tier":"default",
            "choices":[{"index":0,"logprobs":null,"finish_reason":"tool_calls",
              "message":{"role":"assistant","content":null,"refusal":null,"annotations":[],
              "tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}}],
            "usage":{"prompt_tokens":44,"completion_tokens":16,"total_tokens":60,
              "prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},
              "completion_tokens_details":{"reasoning_tokens":2}}}"#,
        );
        assert_eq!(d.finish, FinishReason::ToolCalls);
        assert_eq!(d.message.tool_calls[0].arguments, "{\"city\":\"Paris\"}");
        assert_eq!(d.usage.prompt, Some(44));
        assert_eq!(d.usage.cached_prompt, Some(3));
        assert_eq!(d.usage.reasoning, Some(2));
        assert!(d.message.content.is_empty());
    }

    #[test]
    fn deepseek_reasoning_and_cache_hits() {
        let d = parse(
            r#"
            {"id":"x","model":"deepseek-reasoner","choices":[{"index":0,"finish_reason":"stop",
              "message":{"role":"assistant","content":"42","reasoning_content":"think"}}],
              "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_cache_hit_tokens":4,
              "prompt_cache_miss_tokens":6}}"#,
        );
        assert_eq!(
            d.message.content[0],
            Part::Reasoning {
                text: "think".into(),
                signature: None
            }
        );
        assert_eq!(d.message.text_content(), "42");
        assert_eq!(d.usage.cached_prompt, Some(4));
    }

    #[test]
    fn unknown_finish_reason_is_kept() {
        let d = parse(r#"{"choices":[{"message":{"content":"a"},"finish_reason":"brand_new"}]}"#);
        assert_eq!(d.finish, FinishReason::Other("brand_new".into()));
        assert_eq!(
            finish_reason(Some("model_length"), false),
            FinishReason::Length
        );
    }

    #[test]
    fn openrouter_cost_and_refusal() {
        let d = parse(
            r#"{"choices":[{"message":{"content":null,"refusal":"no"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"cost":0.00012}}"#,
        );
        assert_eq!(d.usage.cost, Some(0.00012));
        assert_eq!(d.message.content, vec![Part::Refusal { text: "no".into() }]);
    }
}
