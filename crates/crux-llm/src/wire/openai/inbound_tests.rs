//! Tests for the gateway's OpenAI dialect: inbound parsing, response and chunk encoding.

use super::*;
use crate::decode::SseDecoder;
use crate::providers::ProviderId;
use crate::types::StreamMetrics;

fn parse(v: Value) -> Result<(ChatRequest, Delivery), String> {
    to_core(serde_json::from_value(v).unwrap())
}

#[test]
fn inbound_history_tools_and_options() {
    let (req, d) = parse(json!({
        "model": "x", "stream": true, "stream_options": {"include_usage": true},
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [{"type": "text", "text": " a\n b"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"q\":1}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "42"}
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}, "strict": true}},
        "max_tokens": 10, "max_completion_tokens": 20, "stop": "END", "parallel_tool_calls": false
    }))
    .unwrap();
    assert_eq!(
        d,
        Delivery {
            stream: true,
            include_usage: true
        }
    );
    assert_eq!(
        req.messages[1].content[0],
        Part::Text {
            text: " a\n b".into()
        }
    );
    assert!(matches!(req.messages[1].content[1], Part::Image { .. }));
    assert_eq!(
        req.messages[2].tool_calls[0],
        ToolCall::new("c1", "f", "{\"q\":1}")
    );
    assert_eq!(req.messages[3].tool_call_id.as_deref(), Some("c1"));
    assert_eq!(req.tool_choice, Some(ToolChoice::Function("f".into())));
    assert!(matches!(
        req.response_format,
        ResponseFormat::JsonSchema {
            strict: Some(true),
            ..
        }
    ));
    assert_eq!(req.max_tokens, Some(20));
    assert_eq!(req.stop, vec!["END".to_owned()]);
    assert_eq!(req.extra.get("parallel_tool_calls"), Some(&json!(false)));
}

#[test]
fn inbound_rejections() {
    assert!(parse(json!({"model": "x", "messages": []})).is_err());
    assert!(
        parse(json!({"model": "x", "messages": [{"role": "wizard", "content": "x"}]})).is_err()
    );
    assert!(parse(json!({"model": "x", "messages": [{"role": "tool", "content": "x"}]})).is_err());
    assert!(
        parse(json!({"model": "x", "n": 2, "messages": [{"role": "user", "content": "x"}]}))
            .is_err()
    );
    assert!(parse(json!({"model": "x", "tool_choice": "sometimes", "messages": [{"role": "user", "content": "x"}]})).is_err());
}

#[test]
fn chunk_stream_decodes_back() {
    let mut enc = ChunkEncoder::new(
        "smart",
        1,
        Delivery {
            stream: true,
            include_usage: true,
        },
    );
    let mut out = Vec::new();
    for ev in [
        StreamEvent::Start {
            id: "r".into(),
            model: "m".into(),
        },
        StreamEvent::TextDelta { text: "Hi".into() },
        StreamEvent::ToolCallDelta {
            index: 0,
            id: Some("c".into()),
            name: Some("f".into()),
            args_fragment: String::new(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            id: None,
            name: None,
            args_fragment: "{}".into(),
            signature: None,
        },
        StreamEvent::Usage(Usage {
            prompt: Some(3),
            completion: Some(2),
            ..Usage::default()
        }),
        StreamEvent::Finish {
            reason: FinishReason::ToolCalls,
            metrics: StreamMetrics::default(),
        },
    ] {
        enc.encode(&ev, &mut out);
    }
    let mut events = Vec::new();
    SseDecoder::default().push(&out, &mut events).unwrap();
    let mut state = super::super::stream::StreamState::new(ProviderId::OpenAi);
    let mut decoded = Vec::new();
    let mut flow = crate::wire::Flow::Continue;
    for e in &events {
        flow = state.on_data(&e.data, &mut decoded).unwrap();
    }
    assert_eq!(flow, crate::wire::Flow::Done(FinishReason::ToolCalls));
    assert!(decoded.contains(&StreamEvent::TextDelta { text: "Hi".into() }));
    assert!(
        decoded
            .iter()
            .any(|e| matches!(e, StreamEvent::Usage(Usage { total: Some(5), .. })))
    );
    let usage_chunk: Value = serde_json::from_str(&events[events.len() - 2].data).unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["model"], "smart");
}

#[test]
fn response_shape() {
    let resp = ChatResponse {
        id: "msg_1".into(),
        model: "claude".into(),
        provider: "anthropic".into(),
        message: Message {
            tool_calls: vec![ToolCall::new("t1", "f", "{}")],
            content: vec![Part::Reasoning {
                text: "r".into(),
                signature: Some("s".into()),
            }],
            ..Message::assistant("")
        },
        finish: FinishReason::ToolCalls,
        usage: Usage {
            prompt: Some(1),
            completion: Some(1),
            total: Some(2),
            ..Usage::default()
        },
        latency: std::time::Duration::ZERO,
    };
    let v = serde_json::to_value(response(&resp, "smart", 7)).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], Value::Null);
    assert_eq!(v["choices"][0]["message"]["tool_calls"][0]["id"], "t1");
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(v["usage"]["total_tokens"], 2);
    assert_eq!(v["model"], "smart");
}

#[test]
fn out_of_range_options_are_rejected() {
    for bad in [
        json!({"model": "x", "max_tokens": 0, "messages": [{"role": "user", "content": "hi"}]}),
        json!({"model": "x", "temperature": 99, "messages": [{"role": "user", "content": "hi"}]}),
    ] {
        assert!(parse(bad.clone()).is_err(), "{bad}");
    }
}

#[test]
fn cache_control_on_text_parts_marks_breakpoints() {
    use crate::types::{CacheBreakpoint, CacheTtl};
    let body: ChatCompletionRequest = serde_json::from_value(json!({"model": "m", "messages": [
        {"role": "system", "content": [{"type": "text", "text": "long rules",
            "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": [{"type": "text", "text": "q2", "cache_control": {"type": "ephemeral"}}]}]}))
    .unwrap();
    let (req, _) = to_core(body).unwrap();
    assert_eq!(
        req.cache,
        vec![
            CacheBreakpoint {
                messages: 1,
                ttl: CacheTtl::OneHour
            },
            CacheBreakpoint {
                messages: 4,
                ttl: CacheTtl::FiveMinutes
            },
        ]
    );
    assert_eq!(req.messages[3].text_content(), "q2");
}
