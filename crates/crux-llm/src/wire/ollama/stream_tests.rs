//! Unit tests for the Ollama NDJSON stream decoder.

use super::*;
use crate::error::ErrorCode;
use crate::types::{FinishReason, Usage};

fn run(lines: &[&str]) -> (Vec<StreamEvent>, Result<Flow>) {
    let mut s = StreamState::new(ProviderId::Ollama);
    let mut out = Vec::new();
    let mut last = Ok(Flow::Continue);
    for l in lines {
        last = s.on_line(l, &mut out);
        if !matches!(last, Ok(Flow::Continue)) {
            break;
        }
    }
    (out, last)
}

#[test]
fn text_stream_with_usage() {
    let (out, flow) = run(&[
        r#"{"model":"llama3.2","created_at":"t0","message":{"role":"assistant","content":"The"},"done":false}"#,
        "",
        r#"{"model":"llama3.2","created_at":"t1","message":{"role":"assistant","content":" sky"},"done":false}"#,
        r#"{"model":"llama3.2","created_at":"t2","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":169,"eval_count":15}"#,
    ]);
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::Stop));
    assert_eq!(
        out,
        vec![
            StreamEvent::Start {
                id: "t0".into(),
                model: "llama3.2".into()
            },
            StreamEvent::TextDelta { text: "The".into() },
            StreamEvent::TextDelta {
                text: " sky".into()
            },
            StreamEvent::Usage(Usage {
                prompt: Some(169),
                completion: Some(15),
                total: Some(184),
                ..Usage::default()
            }),
        ]
    );
}

#[test]
fn thinking_and_tool_calls() {
    let (out, flow) = run(&[
        r#"{"model":"qwen3","message":{"role":"assistant","content":"","thinking":"Let me"},"done":false}"#,
        r#"{"model":"qwen3","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"a","arguments":{"x":1}}}]},"done":false}"#,
        r#"{"model":"qwen3","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"b","arguments":{}}}]},"done":false}"#,
        r#"{"model":"qwen3","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":9}"#,
    ]);
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::ToolCalls));
    assert_eq!(
        out[1],
        StreamEvent::ReasoningDelta {
            text: "Let me".into(),
            signature: None
        }
    );
    assert_eq!(
        out[2],
        StreamEvent::ToolCallDelta {
            index: 0,
            id: Some("call_0".into()),
            name: Some("a".into()),
            args_fragment: "{\"x\":1}".into(),
            signature: None
        }
    );
    assert!(
        matches!(&out[3], StreamEvent::ToolCallDelta { index: 1, id: Some(id), .. } if id == "call_1")
    );
    assert!(matches!(
        out[4],
        StreamEvent::Usage(Usage {
            prompt: Some(0),
            ..
        })
    ));
}

#[test]
fn error_line_and_bad_json() {
    let (out, flow) = run(&[
        r#"{"model":"m","message":{"content":"a"},"done":false}"#,
        r#"{"error":"an error was encountered while running the model: unexpected EOF"}"#,
    ]);
    assert_eq!(out.len(), 2);
    match flow {
        Err(Error::InBand { code, message, .. }) => {
            assert_eq!(code, ErrorCode::ServerError);
            assert!(message.contains("unexpected EOF"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(run(&["{"]).1, Err(Error::Decode { .. })));
}
