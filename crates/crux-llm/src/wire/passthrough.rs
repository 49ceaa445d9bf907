//! Same-wire pass-through: when the caller already speaks the target's wire, its JSON body goes upstream as sent,
//! with only the edits the gateway must make — the model id (and, for a streamed Chat Completions call without it,
//! `stream_options.include_usage`, so the tap can log usage). Every other byte is kept, so fields, blocks and
//! markers the core model has never heard of survive. Pure functions, no I/O.

use bytes::Bytes;
use http::HeaderName;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::providers::Wire;

/// The upstream path of a chat call on a wire that can be passed through.
pub fn chat_path(wire: Wire) -> Option<&'static str> {
    match wire {
        Wire::OpenAi => Some("/chat/completions"),
        Wire::Responses => Some("/responses"),
        Wire::Anthropic => Some("/v1/messages"),
        Wire::Gemini | Wire::Ollama | Wire::Bedrock => None,
    }
}

#[derive(Deserialize)]
struct Top<'a> {
    #[serde(borrow, default)]
    model: Option<&'a RawValue>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(borrow, default)]
    stream_options: Option<&'a RawValue>,
}

/// Byte offset of `inner` (a sub-slice of `outer`) within `outer`.
fn offset(outer: &[u8], inner: &str) -> Option<usize> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    (start + inner.len() <= outer.len()).then_some(start)
}

/// `body` with its top-level `model` replaced by `model` (and `stream_options.include_usage` added to a streamed
/// Chat Completions body that has no `stream_options`); `None` when the body is not a JSON object with a `model`.
pub fn edit_body(body: &[u8], model: &str, wire: Wire) -> Option<Bytes> {
    let top: Top<'_> = serde_json::from_slice(body).ok()?;
    let raw = top.model?;
    let start = offset(body, raw.get())?;
    let end = start + raw.get().len();
    let quoted = serde_json::to_string(model).ok()?;
    let add_usage =
        wire == Wire::OpenAi && top.stream == Some(true) && top.stream_options.is_none();
    let mut out = Vec::with_capacity(body.len() + quoted.len() + 40);
    out.extend_from_slice(&body[..start]);
    out.extend_from_slice(quoted.as_bytes());
    out.extend_from_slice(&body[end..]);
    if add_usage {
        // The last `}` closes the top-level object (only white space may follow it).
        let close = out.iter().rposition(|b| *b == b'}')?;
        out.splice(
            close..close,
            br#","stream_options":{"include_usage":true}"#.iter().copied(),
        );
    }
    Some(Bytes::from(out))
}

/// Whether the caller asked for usage in a streamed Chat Completions body (else the gateway added it and must not
/// forward the extra usage-only chunk).
pub fn asked_for_usage(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Opts {
        #[serde(default)]
        stream_options: Option<serde_json::Value>,
    }
    serde_json::from_slice::<Opts>(body)
        .ok()
        .and_then(|o| o.stream_options)
        .is_some()
}

/// Request headers a same-wire call forwards upstream. Never the caller's auth. Names, not strings: looking a
/// `&str` up in a header map parses it into a name first, on every request.
pub static FORWARDED_HEADERS: [HeaderName; 6] = [
    HeaderName::from_static("anthropic-beta"),
    HeaderName::from_static("anthropic-version"),
    HeaderName::from_static("openai-beta"),
    HeaderName::from_static("idempotency-key"),
    HeaderName::from_static("openai-organization"),
    HeaderName::from_static("openai-project"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_model_changes_byte_for_byte() {
        let body = br#"{ "x_unknown": {"deep": [1, 2]}, "model" : "smart",
  "messages":[{"role":"user","content":[{"type":"text","text":" hi\n","cache_control":{"type":"ephemeral"}}]}] }"#;
        let out = edit_body(body, "claude-3-5-haiku-latest", Wire::Anthropic).unwrap();
        let expected =
            String::from_utf8_lossy(body).replace("\"smart\"", "\"claude-3-5-haiku-latest\"");
        assert_eq!(String::from_utf8_lossy(&out), expected);
    }

    #[test]
    fn streamed_chat_completions_gets_usage_when_missing() {
        let body = br#"{"model":"gpt-4o-mini","stream":true,"messages":[]}"#;
        let out = edit_body(body, "gpt-4o-mini", Wire::OpenAi).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert!(!asked_for_usage(body));
        let asked =
            br#"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}"#;
        assert_eq!(
            &edit_body(asked, "m", Wire::OpenAi).unwrap()[..],
            &asked[..]
        );
        assert!(asked_for_usage(asked));
        let escaped = edit_body(br#"{"model":"a"}"#, "we\"ird", Wire::OpenAi).unwrap();
        assert_eq!(&escaped[..], br#"{"model":"we\"ird"}"#);
        assert!(edit_body(b"[1,2]", "m", Wire::OpenAi).is_none());
    }
}
