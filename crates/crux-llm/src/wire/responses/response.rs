//! Responses API body → core (output items, status → finish reason, usage).

use serde_json::Value;

use crate::error::{Error, ErrorBody, ErrorCode, Result};
use crate::providers::ProviderId;
use crate::types::{FinishReason, Message, Part, Role, ToolCall, Usage};
use crate::wire::{Decoded, parse_json};

/// Decode a non-streamed body.
pub fn decode(provider: ProviderId, body: &[u8]) -> Result<Decoded> {
    let v: Value = parse_json(provider, body)?;
    decode_value(provider, &v)
}

/// Decode a response object (also the payload of `response.completed`).
pub fn decode_value(provider: ProviderId, v: &Value) -> Result<Decoded> {
    if v["status"] == "failed" {
        return Err(failure(provider, &v["error"]));
    }
    let mut content = Vec::new();
    let mut tool_calls = Vec::new();
    for item in v["output"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        match item["type"].as_str() {
            Some("message") => {
                for c in item["content"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    let text = c["text"]
                        .as_str()
                        .or(c["refusal"].as_str())
                        .unwrap_or_default()
                        .to_owned();
                    match c["type"].as_str() {
                        Some("output_text") => content.push(Part::Text { text }),
                        Some("refusal") => content.push(Part::Refusal { text }),
                        _ => {}
                    }
                }
            }
            Some("function_call") => tool_calls.push(ToolCall::new(
                str_of(&item["call_id"]),
                str_of(&item["name"]),
                str_of(&item["arguments"]),
            )),
            Some("reasoning") => {
                let summary: Vec<&str> = item["summary"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|s| s["text"].as_str())
                    .collect();
                let signature = item["encrypted_content"].as_str().map(str::to_owned);
                if !summary.is_empty() || signature.is_some() {
                    content.insert(
                        0,
                        Part::Reasoning {
                            text: summary.join("\n"),
                            signature,
                        },
                    );
                }
            }
            _ => {}
        }
    }
    Ok(Decoded {
        id: str_of(&v["id"]),
        model: str_of(&v["model"]),
        finish: finish(v, !tool_calls.is_empty()),
        usage: usage(&v["usage"]),
        message: Message {
            role: Role::Assistant,
            content,
            tool_calls,
            tool_call_id: None,
            name: None,
        },
    })
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Finish reason from `status` and `incomplete_details`.
pub fn finish(v: &Value, saw_calls: bool) -> FinishReason {
    match v["status"].as_str() {
        Some("incomplete") => match v["incomplete_details"]["reason"].as_str() {
            Some("max_output_tokens") => FinishReason::Length,
            Some("content_filter") => FinishReason::ContentFilter,
            Some(other) => FinishReason::Other(other.to_owned()),
            None => FinishReason::Length,
        },
        Some("failed") | Some("cancelled") => FinishReason::Error,
        _ if saw_calls => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// Normalize the usage object.
pub fn usage(u: &Value) -> Usage {
    let n = |v: &Value| v.as_u64();
    Usage {
        prompt: n(&u["input_tokens"]),
        completion: n(&u["output_tokens"]),
        total: n(&u["total_tokens"]),
        cached_prompt: n(&u["input_tokens_details"]["cached_tokens"]),
        reasoning: n(&u["output_tokens_details"]["reasoning_tokens"]),
        cost: None,
    }
}

/// An in-band failure (`response.failed`, `error` event).
pub fn failure(provider: ProviderId, err: &Value) -> Error {
    let parsed = ErrorBody::parse(&serde_json::json!({ "error": err }).to_string());
    let code = if parsed.codes.iter().any(|c| c == "rate_limit_exceeded") {
        ErrorCode::RateLimit
    } else {
        ErrorCode::ServerError
    };
    Error::InBand {
        provider,
        code,
        message: parsed
            .message
            .unwrap_or_else(|| "the response failed".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_reasoning_message_and_calls() {
        let d = decode(
            ProviderId::OpenAi,
            br#"{"id":"resp_1","object":"response","status":"completed","model":"o3-mini",
            "output":[{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"thought"}]},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi","annotations":[]}]},
              {"type":"function_call","call_id":"call_9","name":"f","arguments":"{}"}],
            "usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":1},"output_tokens":9,
              "output_tokens_details":{"reasoning_tokens":4},"total_tokens":14}}"#,
        )
        .unwrap();
        assert_eq!(d.finish, FinishReason::ToolCalls);
        assert_eq!(d.message.text_content(), "hi");
        assert_eq!(
            d.message.content[0],
            Part::Reasoning {
                text: "thought".into(),
                signature: None
            }
        );
        assert_eq!(d.message.tool_calls[0].id, "call_9");
        assert_eq!(d.usage.reasoning, Some(4));
        assert_eq!(d.usage.cached_prompt, Some(1));
    }

    #[test]
    fn incomplete_and_failed() {
        let v = serde_json::json!({"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[]});
        assert_eq!(
            decode_value(ProviderId::OpenAi, &v).unwrap().finish,
            FinishReason::Length
        );
        let v =
            serde_json::json!({"status":"failed","error":{"code":"server_error","message":"boom"}});
        assert!(
            decode_value(ProviderId::OpenAi, &v)
                .unwrap_err()
                .to_string()
                .contains("boom")
        );
    }
}
