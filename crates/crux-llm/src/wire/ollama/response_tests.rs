//! Unit tests for Ollama response decoding.

use super::*;
use crate::types::FinishReason;

#[test]
fn text_thinking_and_usage() {
    let d = decode(
        ProviderId::Ollama,
        br#"{"model":"qwen3","created_at":"2025-07-07T20:22:19.18Z","message":{"role":"assistant","content":"Hi!","thinking":"hmm"},
        "done":true,"done_reason":"stop","total_duration":1,"prompt_eval_count":12,"eval_count":3}"#,
    )
    .unwrap();
    assert_eq!(d.model, "qwen3");
    assert_eq!(d.id, "2025-07-07T20:22:19.18Z");
    assert_eq!(d.finish, FinishReason::Stop);
    assert_eq!(
        d.message.content,
        vec![
            Part::Reasoning {
                text: "hmm".into(),
                signature: None
            },
            Part::Text { text: "Hi!".into() }
        ]
    );
    assert_eq!(
        (d.usage.prompt, d.usage.completion, d.usage.total),
        (Some(12), Some(3), Some(15))
    );
}

#[test]
fn tool_calls_with_stop_and_cache_hit() {
    let d = decode(
        ProviderId::Ollama,
        br#"{"model":"llama3.2","message":{"role":"assistant","content":"","tool_calls":[
        {"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}},{"id":"x9","function":{"index":1,"name":"now","arguments":{}}}]},
        "done":true,"done_reason":"stop","eval_count":20}"#,
    )
    .unwrap();
    assert_eq!(d.finish, FinishReason::ToolCalls);
    assert_eq!(
        d.message.tool_calls[0],
        ToolCall::new("call_0", "get_weather", "{\"city\":\"Tokyo\"}")
    );
    assert_eq!(d.message.tool_calls[1].id, "x9");
    assert!(d.message.content.is_empty());
    assert_eq!(d.usage.prompt, Some(0));
    assert_eq!(d.usage.total, Some(20));
}

#[test]
fn length_error_and_unknown_reason() {
    let d = decode(
        ProviderId::Ollama,
        br#"{"message":{"content":"ab"},"done":true,"done_reason":"length"}"#,
    )
    .unwrap();
    assert_eq!(d.finish, FinishReason::Length);
    let d = decode(
        ProviderId::Ollama,
        br#"{"done":true,"done_reason":"unload"}"#,
    )
    .unwrap();
    assert_eq!(d.finish, FinishReason::Other("unload".into()));
    let err = decode(ProviderId::Ollama, br#"{"error":"model 'x' not found"}"#).unwrap_err();
    assert!(matches!(err, Error::InBand { ref message, .. } if message == "model 'x' not found"));
    assert!(matches!(
        decode(ProviderId::Ollama, b"nope"),
        Err(Error::Decode { .. })
    ));
}
