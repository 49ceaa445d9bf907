//! AWS Bedrock Converse API (`/model/{id}/converse`, `/model/{id}/converse-stream`): one request shape for every
//! model Bedrock hosts (Anthropic, Llama, Mistral, Nova, …), signed with SigV4 by the client, streamed as binary
//! event-stream frames.

pub mod request;
pub mod response;
pub mod stream;

#[cfg(test)]
mod request_tests;
#[cfg(test)]
mod response_tests;

/// The tool a structured-output request is sent as (Converse has no response format): the model is made to call
/// it, and its input is the answer's text.
pub const JSON_TOOL: &str = "crux_json_output";

/// The path of a Converse call for `model` (percent-encoded: ids carry `:` and ARNs carry `/`).
pub fn path(model: &str, stream: bool) -> String {
    let action = if stream {
        "converse-stream"
    } else {
        "converse"
    };
    format!("/model/{}/{action}", encode_segment(model))
}

/// Percent-encode every byte of `s` but the unreserved ones (RFC 3986), as AWS SDKs do for a path segment.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A response id for answers that carry none (Converse answers name only the request id, in a header).
fn fresh_id() -> String {
    format!("bedrock-{:016x}", fastrand::u64(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_encoded_in_the_path() {
        assert_eq!(
            path("anthropic.claude-3-5-haiku-20241022-v1:0", false),
            "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
        );
        assert_eq!(
            path("arn:aws:bedrock:us-east-1:1:inference-profile/us.x", true),
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse-stream"
        );
    }
}
