//! Gemini `GenerateContentResponse` → core message, finish reason and usage (also used per stream chunk).

use serde_json::Value;

use super::types::{Candidate, GenerateContentResponse, UsageMetadata, WirePart};
use crate::error::{Error, ErrorBody, Result};
use crate::providers::ProviderId;
use crate::scrub::scrub;
use crate::types::{FinishReason, Message, Part, ToolCall, Usage};
use crate::wire::{Decoded, parse_json};

/// Decode a non-streamed `generateContent` body.
pub fn decode(p: ProviderId, body: &[u8]) -> Result<Decoded> {
    let parsed: GenerateContentResponse = parse_json(p, body)?;
    if let Some(err) = &parsed.error {
        return Err(in_band(p, err));
    }
    let mut message = Message {
        content: Vec::new(),
        ..Message::assistant("")
    };
    let finish = match first_candidate(&parsed.candidates) {
        Some(c) => {
            let parts = c
                .content
                .as_ref()
                .map(|c| c.parts.as_slice())
                .unwrap_or_default();
            for part in parts {
                absorb(part, &mut message);
            }
            finish_reason(c.finish_reason.as_deref(), !message.tool_calls.is_empty())
        }
        None if blocked(&parsed) => FinishReason::ContentFilter,
        None => FinishReason::Other("no_candidates".to_owned()),
    };
    Ok(Decoded {
        id: parsed.response_id.unwrap_or_default(),
        model: parsed.model_version.unwrap_or_default(),
        message,
        finish,
        usage: parsed
            .usage_metadata
            .as_ref()
            .map(usage)
            .unwrap_or_default(),
    })
}

/// The candidate Crux reads: index 0, else the first.
pub(crate) fn first_candidate(candidates: &[Candidate]) -> Option<&Candidate> {
    candidates
        .iter()
        .find(|c| c.index == 0)
        .or(candidates.first())
}

/// Whether the prompt itself was blocked (`promptFeedback.blockReason`).
pub(crate) fn blocked(r: &GenerateContentResponse) -> bool {
    r.prompt_feedback
        .as_ref()
        .is_some_and(|f| f.block_reason.is_some())
}

/// What one wire part contributes to a message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    /// Thought summary text and/or a signature.
    Reasoning {
        /// Thought text (empty for a bare signature).
        text: String,
        /// The part's `thoughtSignature`.
        signature: Option<String>,
    },
    /// Visible text.
    Text(String),
    /// A function call: name, compact JSON arguments, optional id and signature.
    Call {
        /// Call id, when Gemini sent one.
        id: Option<String>,
        /// Function name.
        name: String,
        /// Arguments as compact JSON text.
        arguments: String,
        /// The part's `thoughtSignature`.
        signature: Option<String>,
    },
}

/// Translate one wire part in order: a `thoughtSignature` on a text part becomes an empty reasoning piece placed
/// before the text so it can be sent back in the same position.
pub(crate) fn pieces(part: &WirePart) -> Vec<Piece> {
    let signature = part.thought_signature.clone();
    if let Some(fc) = &part.function_call {
        let args = if fc.args.is_null() {
            "{}".to_owned()
        } else {
            fc.args.to_string()
        };
        return vec![Piece::Call {
            id: fc.id.clone().filter(|id| !id.is_empty()),
            name: fc.name.clone(),
            arguments: args,
            signature,
        }];
    }
    let text = part.text.clone().unwrap_or_default();
    if part.thought == Some(true) {
        return vec![Piece::Reasoning { text, signature }];
    }
    let mut out = Vec::new();
    if signature.is_some() {
        out.push(Piece::Reasoning {
            text: String::new(),
            signature,
        });
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// A synthesized id for the `index`-th call of a turn when the provider sent none.
pub(crate) fn call_id(index: usize) -> String {
    format!("call_{index}")
}

fn absorb(part: &WirePart, m: &mut Message) {
    for piece in pieces(part) {
        match piece {
            Piece::Reasoning { text, signature } => {
                m.content.push(Part::Reasoning { text, signature })
            }
            Piece::Text(text) => m.content.push(Part::Text { text }),
            Piece::Call {
                id,
                name,
                arguments,
                signature,
            } => {
                let id = id.unwrap_or_else(|| call_id(m.tool_calls.len()));
                m.tool_calls.push(ToolCall {
                    signature,
                    ..ToolCall::new(id, name, arguments)
                });
            }
        }
    }
}

/// Map Gemini's `finishReason` (open set) to the normalized reason; `STOP` with function calls is `ToolCalls`.
pub fn finish_reason(raw: Option<&str>, saw_tool_calls: bool) -> FinishReason {
    match raw {
        Some("STOP") | None if saw_tool_calls => FinishReason::ToolCalls,
        Some("STOP") | None => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(
            "SAFETY"
            | "RECITATION"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "LANGUAGE"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT"
            | "IMAGE_RECITATION",
        ) => FinishReason::ContentFilter,
        Some(
            "MALFORMED_FUNCTION_CALL"
            | "UNEXPECTED_TOOL_CALL"
            | "TOO_MANY_TOOL_CALLS"
            | "OTHER"
            | "FINISH_REASON_UNSPECIFIED"
            | "NO_IMAGE"
            | "IMAGE_OTHER",
        ) => FinishReason::Error,
        Some(other) => FinishReason::Other(other.to_owned()),
    }
}

/// Normalize `usageMetadata` (§7.3): prompt includes tool-use prompt tokens, completion includes thoughts.
///
/// The API omits zero counts, so an absent prompt/output count inside a present block is 0; cached and reasoning
/// counts stay `None` when not reported.
pub fn usage(u: &UsageMetadata) -> Usage {
    let prompt = u.prompt_token_count.unwrap_or(0) + u.tool_use_prompt_token_count.unwrap_or(0);
    let completion = u.candidates_token_count.unwrap_or(0) + u.thoughts_token_count.unwrap_or(0);
    Usage {
        prompt: Some(prompt),
        completion: Some(completion),
        total: Some(u.total_token_count.unwrap_or(prompt + completion)),
        cached_prompt: u.cached_content_token_count,
        reasoning: u.thoughts_token_count,
        cost: None,
    }
}

/// A Google RPC error payload (`{"code","message","status","details"}`) reported inside a 200 response.
pub(crate) fn in_band(p: ProviderId, err: &Value) -> Error {
    let body = ErrorBody::parse(&serde_json::json!({ "error": err }).to_string());
    let status = err
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .or_else(|| {
            err.get("status")
                .and_then(Value::as_str)
                .map(rpc_status_http)
        })
        .unwrap_or(500);
    Error::InBand {
        provider: p,
        code: body.classify(status).0,
        message: scrub(body.message.as_deref().unwrap_or("mid-stream error"), &[]),
    }
}

/// The HTTP status Google maps an RPC status name to.
fn rpc_status_http(status: &str) -> u16 {
    match status {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => 400,
        "UNAUTHENTICATED" => 401,
        "PERMISSION_DENIED" => 403,
        "NOT_FOUND" => 404,
        "ALREADY_EXISTS" | "ABORTED" => 409,
        "RESOURCE_EXHAUSTED" => 429,
        "CANCELLED" => 499,
        "UNIMPLEMENTED" => 501,
        "UNAVAILABLE" => 503,
        "DEADLINE_EXCEEDED" => 504,
        _ => 500,
    }
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
