//! Unit tests for the Gemini stream decoder.

use super::*;
use crate::error::ErrorCode;

fn run(chunks: &[&str]) -> (Vec<StreamEvent>, Result<Flow>) {
    let mut s = StreamState::new(ProviderId::Gemini);
    let mut out = Vec::new();
    for c in chunks {
        let ev = SseEvent {
            data: (*c).to_owned(),
            ..SseEvent::default()
        };
        match s.on_event(&ev, &mut out) {
            Ok(Flow::Continue) => {}
            other => return (out, other),
        }
    }
    let last = s.on_eof(&mut out);
    (out, last)
}

#[test]
fn text_stream_finishes_at_eof() {
    let (out, flow) = run(&[
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],"usageMetadata":{"promptTokenCount":5},"modelVersion":"gemini-2.5-flash","responseId":"r1"}"#,
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"totalTokenCount":7},"modelVersion":"gemini-2.5-flash","responseId":"r1"}"#,
    ]);
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::Stop));
    assert_eq!(
        out,
        vec![
            StreamEvent::Start {
                id: "r1".into(),
                model: "gemini-2.5-flash".into()
            },
            StreamEvent::TextDelta { text: "Hel".into() },
            StreamEvent::TextDelta { text: "lo".into() },
            StreamEvent::Usage(Usage {
                prompt: Some(5),
                completion: Some(2),
                total: Some(7),
                ..Usage::default()
            }),
        ]
    );
}

#[test]
fn thoughts_calls_and_signatures() {
    let (out, flow) = run(&[
        r#"{"candidates":[{"content":{"parts":[{"text":"plan","thought":true}]}}],"responseId":"r2","modelVersion":"m"}"#,
        r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"a","args":{"x":1}},"thoughtSignature":"s1"},{"functionCall":{"id":"g-2","name":"b","args":{}}}]},"finishReason":"STOP"}]}"#,
    ]);
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::ToolCalls));
    assert_eq!(
        out[1],
        StreamEvent::ReasoningDelta {
            text: "plan".into(),
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
            signature: Some("s1".into()),
        }
    );
    assert!(
        matches!(&out[3], StreamEvent::ToolCallDelta { index: 1, id: Some(id), .. } if id == "g-2")
    );
}

#[test]
fn empty_text_with_signature_is_a_reasoning_signature() {
    let (out, flow) = run(&[
        r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}"#,
        r#"{"candidates":[{"content":{"parts":[{"text":"","thoughtSignature":"sig"}]},"finishReason":"STOP"}]}"#,
    ]);
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::Stop));
    assert_eq!(
        out.last(),
        Some(&StreamEvent::ReasoningDelta {
            text: String::new(),
            signature: Some("sig".into())
        })
    );
}

#[test]
fn missing_finish_reason_is_truncated() {
    let (out, flow) = run(&[r#"{"candidates":[{"content":{"parts":[{"text":"partial"}]}}]}"#]);
    assert!(matches!(
        flow,
        Err(Error::Truncated {
            provider: ProviderId::Gemini
        })
    ));
    assert_eq!(out.len(), 2);
    let (out, flow) = run(&[]);
    assert!(out.is_empty() && matches!(flow, Err(Error::Truncated { .. })));
}

#[test]
fn blocked_prompt_and_unknown_reason() {
    let (_, flow) = run(&[
        r#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":4}}"#,
    ]);
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::ContentFilter));
    let (_, flow) =
        run(&[r#"{"candidates":[{"finishReason":"NEW_REASON","futureField":1}],"futureTop":{}}"#]);
    assert_eq!(
        flow.unwrap(),
        Flow::Done(FinishReason::Other("NEW_REASON".into()))
    );
}

#[test]
fn in_band_error_and_bad_json() {
    let (out, flow) = run(&[
        r#"{"candidates":[{"content":{"parts":[{"text":"a"}]}}]}"#,
        r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
    ]);
    assert_eq!(out.len(), 2);
    match flow {
        Err(Error::InBand { code, message, .. }) => {
            assert_eq!(code, ErrorCode::Overloaded);
            assert_eq!(message, "The model is overloaded.");
        }
        other => panic!("{other:?}"),
    }
    let (_, flow) = run(&["{not json"]);
    assert!(matches!(flow, Err(Error::Decode { .. })));
}
