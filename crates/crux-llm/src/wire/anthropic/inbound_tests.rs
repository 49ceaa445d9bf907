//! Tests for the gateway's Anthropic dialect: inbound parsing, response and event encoding round trips.

use super::*;
use crate::decode::SseDecoder;
use crate::providers::ProviderId;
use crate::types::{Role, StreamMetrics};
use crate::wire::Flow;

fn parse(v: Value) -> Result<(ChatRequest, bool), String> {
    to_core(serde_json::from_value(v).unwrap())
}

#[test]
fn inbound_blocks_become_core_history() {
    let (req, stream) = parse(json!({
        "model": "claude", "max_tokens": 100, "stream": true,
        "system": [{"type": "text", "text": "be nice"}],
        "messages": [
            {"role": "user", "content": "  hi\n"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "42"}]},
                {"type": "text", "text": "thanks"}]}
        ],
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "any"},
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }))
    .unwrap();
    assert!(stream);
    let roles: Vec<Role> = req.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::System,
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::User
        ]
    );
    assert_eq!(req.messages[1].text_content(), "  hi\n");
    assert_eq!(
        req.messages[2].tool_calls[0],
        ToolCall::new("toolu_1", "f", r#"{"a":1}"#)
    );
    assert_eq!(
        req.messages[2].content[0],
        Part::Reasoning {
            text: "hmm".into(),
            signature: Some("sig".into())
        }
    );
    assert_eq!(req.messages[3].tool_call_id.as_deref(), Some("toolu_1"));
    assert_eq!(req.messages[3].text_content(), "42");
    assert_eq!(req.tool_choice, Some(ToolChoice::Required));
    assert_eq!(req.max_tokens, Some(100));
    assert!(req.extra.contains_key("thinking"));
}

#[test]
fn rejects_bad_roles() {
    assert!(
        parse(
            json!({"model": "c", "max_tokens": 1, "messages": [{"role": "tool", "content": "x"}]})
        )
        .is_err()
    );
    assert!(parse(json!({"model": "c", "max_tokens": 1, "messages": []})).is_err());
}

#[test]
fn events_decode_back_through_the_client_decoder() {
    let mut enc = EventEncoder::new("claude-x");
    let mut out = Vec::new();
    for ev in [
        StreamEvent::Start {
            id: "chatcmpl-1".into(),
            model: "gpt".into(),
        },
        StreamEvent::TextDelta { text: "Hel".into() },
        StreamEvent::TextDelta { text: "lo".into() },
        StreamEvent::ToolCallDelta {
            index: 0,
            id: Some("call_1".into()),
            name: Some("f".into()),
            args_fragment: String::new(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            id: None,
            name: None,
            args_fragment: "{\"a\":".into(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            id: None,
            name: None,
            args_fragment: "1}".into(),
            signature: None,
        },
        StreamEvent::Usage(Usage {
            prompt: Some(10),
            completion: Some(4),
            cached_prompt: Some(2),
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
    let mut state = super::super::stream::StreamState::new(ProviderId::Anthropic);
    let mut decoded = Vec::new();
    let mut flow = Flow::Continue;
    for e in &events {
        flow = state.on_event(e, &mut decoded).unwrap();
    }
    assert_eq!(flow, Flow::Done(FinishReason::ToolCalls));
    let text: String = decoded
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "Hello");
    assert!(
        decoded
            .iter()
            .any(|e| matches!(e, StreamEvent::ToolCallDelta { id: Some(i), .. } if i == "call_1"))
    );
    assert!(decoded.iter().any(|e| matches!(
        e,
        StreamEvent::Usage(Usage {
            completion: Some(4),
            cached_prompt: Some(2),
            ..
        })
    )));
    let names: Vec<&str> = events.iter().filter_map(|e| e.event.as_deref()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
}

#[test]
fn response_shape() {
    let resp = ChatResponse {
        id: String::new(),
        model: "gpt".into(),
        provider: "openai".into(),
        message: Message {
            tool_calls: vec![ToolCall::new("c", "f", "not json")],
            ..Message::assistant("hi")
        },
        finish: FinishReason::ToolCalls,
        usage: Usage {
            prompt: Some(5),
            completion: Some(2),
            ..Usage::default()
        },
        latency: std::time::Duration::ZERO,
    };
    let v = response(&resp, "claude-x");
    assert_eq!(v["content"][0], json!({"type": "text", "text": "hi"}));
    assert_eq!(v["content"][1]["input"], json!({"_raw": "not json"}));
    assert_eq!(v["stop_reason"], "tool_use");
    assert_eq!(v["usage"]["input_tokens"], 5);
}

#[test]
fn out_of_range_options_are_rejected() {
    for bad in [
        json!({"model": "x", "max_tokens": 0, "messages": [{"role": "user", "content": "hi"}]}),
        json!({"model": "x", "max_tokens": 5, "temperature": 1.5, "messages": [{"role": "user", "content": "hi"}]}),
    ] {
        assert!(parse(bad.clone()).is_err(), "{bad}");
    }
}

#[test]
fn mid_conversation_system_blocks_and_thinking_effort() {
    let (req, _) = parse(json!({
        "model": "claude", "max_tokens": 100,
        "system": [{"type": "text", "text": "one"}, {"type": "text", "text": "two", "cache_control": {"type": "ephemeral"}}],
        "thinking": {"type": "adaptive"},
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "system", "content": [{"type": "text", "text": "mid"}]},
            {"role": "assistant", "content": "yo"},
            {"role": "user", "content": "again"}]}))
    .unwrap();
    let roles: Vec<_> = req
        .messages
        .iter()
        .map(|m| (m.role, m.text_content()))
        .collect();
    assert_eq!(
        roles,
        vec![
            (Role::System, "one".to_owned()),
            (Role::System, "two".to_owned()),
            (Role::User, "hi".to_owned()),
            (Role::System, "mid".to_owned()),
            (Role::Assistant, "yo".to_owned()),
            (Role::User, "again".to_owned()),
        ]
    );
    assert_eq!(req.reasoning_effort.as_deref(), Some("medium"));
    let (req, _) = parse(
        json!({"model": "c", "max_tokens": 9, "output_config": {"effort": "high"},
        "messages": [{"role": "user", "content": "x"}]}),
    )
    .unwrap();
    assert_eq!(req.reasoning_effort.as_deref(), Some("high"));
}

#[test]
fn cache_control_markers_become_breakpoints_over_core_messages() {
    use crate::types::{CacheBreakpoint, CacheTtl};
    let (req, _) = parse(json!({
        "model": "claude", "max_tokens": 100,
        "tools": [{"name": "a", "input_schema": {"type": "object"}},
                  {"name": "b", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        "system": [{"type": "text", "text": "one"},
                   {"type": "text", "text": "two", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "a", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "42",
                 "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "more"}]},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "last", "cache_control": {"type": "ephemeral"}}]}]}))
    .unwrap();
    // Core messages: one, two, hi, (assistant call), tool result, more, ok, last.
    assert_eq!(req.messages.len(), 8);
    let bp = |messages, ttl| CacheBreakpoint { messages, ttl };
    assert_eq!(
        req.cache,
        vec![
            bp(0, CacheTtl::OneHour),
            bp(2, CacheTtl::FiveMinutes),
            bp(6, CacheTtl::FiveMinutes),
            bp(8, CacheTtl::FiveMinutes),
        ]
    );
    let (plain, _) = parse(
        json!({"model": "c", "max_tokens": 9, "messages": [{"role": "user", "content": "x"}]}),
    )
    .unwrap();
    assert!(plain.cache.is_empty());
}
