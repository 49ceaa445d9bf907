//! Fixture tests for the Anthropic stream decoder: pings, split tool input, thinking + signature, errors.

use super::*;
use crate::decode::SseDecoder;
use crate::error::ErrorCode;
use crate::types::{FinishReason, Usage};

fn run(body: &str) -> (Vec<StreamEvent>, Result<Flow>) {
    let mut dec = SseDecoder::default();
    let mut events = Vec::new();
    dec.push(body.as_bytes(), &mut events).unwrap();
    dec.finish(&mut events).unwrap();
    let mut s = StreamState::new(ProviderId::Anthropic);
    let mut out = Vec::new();
    let mut flow = Ok(Flow::Continue);
    for ev in &events {
        flow = s.on_event(ev, &mut out);
        if !matches!(flow, Ok(Flow::Continue)) {
            break;
        }
    }
    (out, flow)
}

const TOOL_STREAM: &str = "event: message_start\n\
data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":20,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":30,\"output_tokens\":1}}}\n\n\
event: ping\ndata: {\"type\": \"ping\"}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Need weather.\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQBCgIYAhIM\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01\",\"name\":\"get_weather\",\"input\":{}}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"ci\"}}\n\n\
event: ping\ndata: {\"type\": \"ping\"}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"ty\\\": \\\"Par\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"is\\\"}\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

#[test]
fn tool_stream_with_thinking_and_split_input() {
    let (out, flow) = run(TOOL_STREAM);
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::ToolCalls));
    assert!(matches!(&out[0], StreamEvent::Start { id, .. } if id == "msg_1"));
    assert!(matches!(&out[1], StreamEvent::ReasoningDelta { text, .. } if text == "Need weather."));
    assert!(
        matches!(&out[2], StreamEvent::ReasoningDelta { signature: Some(s), .. } if s == "EqQBCgIYAhIM")
    );
    let args: String = out
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallDelta {
                index: 0,
                args_fragment,
                ..
            } => Some(args_fragment.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(args, r#"{"city": "Paris"}"#);
    assert!(matches!(
        out.last(),
        Some(StreamEvent::Usage(Usage {
            prompt: Some(50),
            completion: Some(42),
            cached_prompt: Some(30),
            total: Some(92),
            ..
        }))
    ));
}

#[test]
fn mid_stream_error_event() {
    let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":1}}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n\
event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let (out, flow) = run(body);
    assert!(matches!(&out[1], StreamEvent::TextDelta { text } if text == "Hel"));
    let err = flow.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Overloaded);
    assert!(err.to_string().contains("Overloaded"));
}

#[test]
fn without_message_stop_the_stream_never_completes() {
    let cut = &TOOL_STREAM[..TOOL_STREAM.find("event: message_stop").unwrap()];
    let (_, flow) = run(cut);
    assert_eq!(flow.unwrap(), Flow::Continue);
}

#[test]
fn unknown_events_and_deltas_are_ignored() {
    let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{}}}\n\n\
event: brand_new\ndata: {\"type\":\"brand_new\",\"x\":1}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"citations_delta\",\"citation\":{}}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let (_, flow) = run(body);
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::Stop));
}

/// The flat reading of `content_block_delta` gives what the general one gives, and leaves what it cannot read (a
/// missing field, another type) to the general one, errors included.
#[test]
fn deltas_read_flat_match_the_general_reading() {
    let frames = [
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"plain"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"say \"hi\"\n\u00e9"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}"#,
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}"#,
        r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":7}}"#,
        r#"{"type":"ping"}"#,
    ];
    let tool_start = SseEvent {
        event: Some("content_block_start".into()),
        data: r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}"#.into(),
        ..SseEvent::default()
    };
    for data in frames {
        let read = |event: Option<&str>| {
            let mut s = StreamState::new(ProviderId::Anthropic);
            let mut out = Vec::new();
            s.on_event(&tool_start, &mut out).unwrap();
            let ev = SseEvent {
                event: event.map(str::to_owned),
                data: data.into(),
                ..SseEvent::default()
            };
            let flow = s.on_event(&ev, &mut out).map_err(|e| e.to_string());
            (out, flow)
        };
        assert_eq!(read(Some("content_block_delta")), read(None), "{data}");
    }
}
