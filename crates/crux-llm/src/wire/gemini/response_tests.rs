//! Unit tests for Gemini response decoding (parts, finish reasons, usage, in-band errors).

use super::*;
use crate::error::ErrorCode;

fn dec(body: &str) -> Decoded {
    decode(ProviderId::Gemini, body.as_bytes()).unwrap()
}

#[test]
fn text_thoughts_and_signatures() {
    let d = dec(r#"{"candidates":[{"content":{"role":"model","parts":[
        {"text":"**Planning**","thought":true},
        {"text":"It is 15 C.","thoughtSignature":"sigT"},
        {"executableCode":{"language":"PYTHON","code":"1"}}]},
        "finishReason":"STOP","index":0,"safetyRatings":[]}],
        "usageMetadata":{"promptTokenCount":42,"candidatesTokenCount":9,"totalTokenCount":75,"thoughtsTokenCount":24},
        "modelVersion":"gemini-2.5-flash","responseId":"mK3a"}"#);
    assert_eq!(d.id, "mK3a");
    assert_eq!(d.model, "gemini-2.5-flash");
    assert_eq!(d.finish, FinishReason::Stop);
    assert_eq!(
        d.message.content,
        vec![
            Part::Reasoning {
                text: "**Planning**".into(),
                signature: None
            },
            Part::Reasoning {
                text: String::new(),
                signature: Some("sigT".into())
            },
            Part::Text {
                text: "It is 15 C.".into()
            },
        ]
    );
    assert_eq!(d.usage.completion, Some(33));
    assert_eq!(d.usage.total, Some(75));
    assert_eq!(d.usage.reasoning, Some(24));
    assert_eq!(d.usage.cached_prompt, None);
}

#[test]
fn function_calls_end_with_stop_but_finish_as_tool_calls() {
    let d = dec(r#"{"candidates":[{"content":{"role":"model","parts":[
        {"functionCall":{"name":"get_weather","args":{"city":"Paris","units":{"c":true}}},"thoughtSignature":"sig1"},
        {"functionCall":{"id":"fc-9","name":"get_time"}}]},"finishReason":"STOP"}]}"#);
    assert_eq!(d.finish, FinishReason::ToolCalls);
    let calls = &d.message.tool_calls;
    assert_eq!(calls[0].id, "call_0");
    assert_eq!(calls[0].arguments, r#"{"city":"Paris","units":{"c":true}}"#);
    assert_eq!(calls[0].signature.as_deref(), Some("sig1"));
    assert_eq!(calls[1].id, "fc-9");
    assert_eq!(calls[1].arguments, "{}");
    assert!(d.message.content.is_empty());
}

#[test]
fn finish_reason_table() {
    let cases = [
        ("MAX_TOKENS", FinishReason::Length),
        ("SAFETY", FinishReason::ContentFilter),
        ("RECITATION", FinishReason::ContentFilter),
        ("IMAGE_SAFETY", FinishReason::ContentFilter),
        ("LANGUAGE", FinishReason::ContentFilter),
        ("MALFORMED_FUNCTION_CALL", FinishReason::Error),
        ("OTHER", FinishReason::Error),
        ("BRAND_NEW", FinishReason::Other("BRAND_NEW".into())),
    ];
    for (raw, want) in cases {
        assert_eq!(finish_reason(Some(raw), false), want, "{raw}");
    }
    assert_eq!(finish_reason(None, true), FinishReason::ToolCalls);
}

#[test]
fn blocked_prompt_and_empty_candidate() {
    let d = dec(r#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},
        "usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"modelVersion":"gemini-2.5-flash"}"#);
    assert_eq!(d.finish, FinishReason::ContentFilter);
    assert!(d.message.content.is_empty() && d.message.tool_calls.is_empty());
    assert_eq!(d.usage.completion, Some(0));
    let d = dec(
        r#"{"candidates":[{"finishReason":"MAX_TOKENS","index":0}],"usageMetadata":{"promptTokenCount":3,
        "thoughtsTokenCount":100,"totalTokenCount":103}}"#,
    );
    assert_eq!(d.finish, FinishReason::Length);
    assert_eq!(d.usage.completion, Some(100));
    assert_eq!(
        dec(r#"{"candidates":null}"#).finish,
        FinishReason::Other("no_candidates".into())
    );
}

#[test]
fn usage_with_tool_prompt_and_cache() {
    let u = usage(&UsageMetadata {
        prompt_token_count: Some(100),
        candidates_token_count: Some(10),
        total_token_count: Some(145),
        thoughts_token_count: Some(30),
        cached_content_token_count: Some(64),
        tool_use_prompt_token_count: Some(5),
    });
    assert_eq!(
        u,
        Usage {
            prompt: Some(105),
            completion: Some(40),
            total: Some(145),
            cached_prompt: Some(64),
            reasoning: Some(30),
            cost: None
        }
    );
}

#[test]
fn errors() {
    let err = decode(
        ProviderId::Gemini,
        br#"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}"#,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InBand {
                code: ErrorCode::RateLimit,
                ..
            }
        ),
        "{err:?}"
    );
    let err = in_band(
        ProviderId::Gemini,
        &serde_json::json!({"message": "x", "status": "UNAVAILABLE"}),
    );
    assert_eq!(err.code(), ErrorCode::Overloaded);
    assert!(matches!(
        decode(ProviderId::Gemini, b"data: {"),
        Err(Error::Decode { .. })
    ));
}
