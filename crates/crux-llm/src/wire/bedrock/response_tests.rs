//! Unit tests for Converse answers: content blocks, the structured-output tool as text, usage with cache counts,
//! stop reasons, and the stream events up to the `metadata` terminator or an exception.

use bytes::Bytes;
use serde_json::json;

use super::response::decode;
use super::stream::StreamState;
use crate::ErrorCode;
use crate::decode::eventstream::{EventMessage, MessageKind};
use crate::error::Error;
use crate::model_id::ModelId;
use crate::providers::ProviderId;
use crate::types::{FinishReason, Part, StreamEvent};
use crate::wire::Flow;

fn model() -> ModelId {
    ModelId::new(
        ProviderId::OpenAi,
        "anthropic.claude-3-5-haiku-20241022-v1:0",
    )
}

#[test]
fn a_tool_call_answer_with_cached_usage() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "s1"}}},
            {"text": "Let me check."},
            {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 10, "outputTokens": 7, "totalTokens": 117,
                  "cacheReadInputTokens": 100, "cacheWriteInputTokens": 0},
        "metrics": {"latencyMs": 412},
    });
    let d = decode(&model(), body.to_string().as_bytes()).unwrap();
    assert_eq!(d.finish, FinishReason::ToolCalls);
    assert_eq!(d.model, model().model);
    assert!(!d.id.is_empty());
    assert_eq!(
        d.message.content[0],
        Part::Reasoning {
            text: "hmm".into(),
            signature: Some("s1".into())
        }
    );
    assert_eq!(d.message.tool_calls[0].id, "tooluse_1");
    assert_eq!(d.message.tool_calls[0].arguments, r#"{"city":"Paris"}"#);
    assert_eq!(
        (
            d.usage.prompt,
            d.usage.completion,
            d.usage.total,
            d.usage.cached_prompt
        ),
        (Some(110), Some(7), Some(117), Some(100))
    );
}

#[test]
fn the_structured_output_tool_is_the_answer_text() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "t", "name": super::JSON_TOOL, "input": {"city": "Oslo"}}},
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7},
    });
    let d = decode(&model(), body.to_string().as_bytes()).unwrap();
    assert_eq!(d.finish, FinishReason::Stop);
    assert!(d.message.tool_calls.is_empty());
    assert_eq!(d.message.text_content(), r#"{"city":"Oslo"}"#);
    let r = decode(
        &model(),
        br#"{"output":{"message":{"content":[]}},"stopReason":"max_tokens"}"#,
    )
    .unwrap();
    assert_eq!(r.finish, FinishReason::Length);
    assert!(matches!(
        decode(&model(), b"{not json"),
        Err(Error::Decode { .. })
    ));
}

fn event(name: &str, payload: serde_json::Value) -> EventMessage {
    EventMessage {
        kind: MessageKind::Event,
        name: name.into(),
        payload: Bytes::from(payload.to_string()),
    }
}

#[test]
fn a_stream_of_text_and_a_tool_call_ends_at_metadata() {
    let mut s = StreamState::new(&model());
    let mut out = Vec::new();
    let events = [
        event("messageStart", json!({"role": "assistant", "p": "abc"})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Hi "}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 0})),
        event(
            "contentBlockStart",
            json!({"contentBlockIndex": 1,
            "start": {"toolUse": {"toolUseId": "tu1", "name": "get_weather"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"city\""}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": ":\"Rome\"}"}}}),
        ),
        event("messageStop", json!({"stopReason": "tool_use"})),
    ];
    for e in &events {
        assert_eq!(s.on_message(e, &mut out).unwrap(), Flow::Continue);
    }
    let last = event(
        "metadata",
        json!({"usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7}}),
    );
    assert_eq!(
        s.on_message(&last, &mut out).unwrap(),
        Flow::Done(FinishReason::ToolCalls)
    );
    assert!(matches!(out[0], StreamEvent::Start { .. }));
    assert_eq!(out[1], StreamEvent::TextDelta { text: "Hi ".into() });
    assert!(
        matches!(&out[2], StreamEvent::ToolCallDelta { index: 0, id: Some(id), .. } if id == "tu1")
    );
    assert!(
        matches!(&out[4], StreamEvent::ToolCallDelta { args_fragment, .. } if args_fragment == ":\"Rome\"}")
    );
    assert!(matches!(&out[5], StreamEvent::Usage(u) if u.total == Some(7)));
}

#[test]
fn an_exception_frame_is_an_in_band_error() {
    let mut s = StreamState::new(&model());
    let m = EventMessage {
        kind: MessageKind::Exception,
        name: "throttlingException".into(),
        payload: Bytes::from_static(br#"{"message":"Too many tokens"}"#),
    };
    match s.on_message(&m, &mut Vec::new()) {
        Err(Error::InBand { code, message, .. }) => {
            assert_eq!(
                (code, message.as_str()),
                (ErrorCode::RateLimit, "Too many tokens")
            );
        }
        other => panic!("{other:?}"),
    }
    let broken = EventMessage {
        kind: MessageKind::Event,
        name: "contentBlockDelta".into(),
        payload: Bytes::from_static(b"{\"delta\":"),
    };
    assert!(matches!(
        s.on_message(&broken, &mut Vec::new()),
        Err(Error::Decode { .. })
    ));
}
