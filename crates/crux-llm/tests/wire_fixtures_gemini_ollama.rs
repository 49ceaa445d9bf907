//! Fixture tests for the Gemini and Ollama wires: realistic bodies under `tests/fixtures/{gemini,ollama}` decoded
//! through the public wire modules (streams framed by the crate's own SSE / NDJSON decoders).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;

use crux_llm::decode::{NdjsonDecoder, SseDecoder};
use crux_llm::wire::{Flow, gemini, ollama};
use crux_llm::{Error, ErrorCode, FinishReason, Part, ProviderId, StreamEvent, ToolCall, Usage};

fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Feed a Gemini SSE body in `read`-byte reads (so CRLF pairs and UTF-8 characters split across reads), then EOF.
fn gemini_stream(rel: &str, read: usize) -> (Vec<StreamEvent>, Result<Flow, Error>) {
    let body = fixture(rel);
    let mut sse = SseDecoder::default();
    let mut state = gemini::stream::StreamState::new(ProviderId::Gemini);
    let mut events = Vec::new();
    let mut out = Vec::new();
    for chunk in body.chunks(read) {
        sse.push(chunk, &mut events).unwrap();
        for ev in events.drain(..) {
            match state.on_event(&ev, &mut out) {
                Ok(Flow::Continue) => {}
                other => return (out, other),
            }
        }
    }
    sse.finish(&mut events).unwrap();
    for ev in events.drain(..) {
        match state.on_event(&ev, &mut out) {
            Ok(Flow::Continue) => {}
            other => return (out, other),
        }
    }
    let last = state.on_eof(&mut out);
    (out, last)
}

fn ollama_stream(rel: &str, read: usize) -> (Vec<StreamEvent>, Result<Flow, Error>) {
    let body = fixture(rel);
    let mut nd = NdjsonDecoder::default();
    let mut state = ollama::stream::StreamState::new(ProviderId::Ollama);
    let mut lines = Vec::new();
    let mut out = Vec::new();
    for chunk in body.chunks(read) {
        nd.push(chunk, &mut lines).unwrap();
        for line in lines.drain(..) {
            match state.on_line(&line, &mut out) {
                Ok(Flow::Continue) => {}
                other => return (out, other),
            }
        }
    }
    nd.finish(&mut lines).unwrap();
    for line in lines.drain(..) {
        match state.on_line(&line, &mut out) {
            Ok(Flow::Continue) => {}
            other => return (out, other),
        }
    }
    (out, Ok(Flow::Continue))
}

fn text_of(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn gemini_crlf_stream_with_thoughts_and_cache() {
    for read in [1, 3, 7, 64, 4096] {
        let (out, flow) = gemini_stream("gemini/stream_text.sse", read);
        assert_eq!(flow.unwrap(), Flow::Done(FinishReason::Stop), "read={read}");
        assert_eq!(
            out[0],
            StreamEvent::Start {
                id: "mK3aaOy3NJqz7M8P0s2x8AQ".into(),
                model: "gemini-2.5-flash".into()
            }
        );
        assert!(
            matches!(&out[1], StreamEvent::ReasoningDelta { text, signature: None }
            if text.starts_with("**Counting stars**"))
        );
        assert_eq!(text_of(&out), "Héllo, wörld 🌍\n  indented");
        let usage: Vec<&Usage> = out
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Usage(u) => Some(u),
                _ => None,
            })
            .collect();
        assert_eq!(
            usage.last().copied(),
            Some(&Usage {
                prompt: Some(1036),
                completion: Some(37),
                total: Some(1073),
                cached_prompt: Some(1024),
                reasoning: Some(28),
                cost: None
            })
        );
    }
}

#[test]
fn gemini_stream_function_call_with_signature() {
    let (out, flow) = gemini_stream("gemini/stream_function_call.sse", 5);
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::ToolCalls));
    let calls: Vec<&StreamEvent> = out
        .iter()
        .filter(|e| matches!(e, StreamEvent::ToolCallDelta { .. }))
        .collect();
    assert_eq!(
        calls,
        [&StreamEvent::ToolCallDelta {
            index: 0,
            id: Some("call_0".into()),
            name: Some("get_weather".into()),
            args_fragment: r#"{"city":"Paris","unit":"celsius"}"#.into(),
            signature: Some("CiQBjz1rX4hZ2p+Q0cE5Gm4v1uXo8Yq2sJk0v7mB9s6l/TQ=".into()),
        }]
    );
}

#[test]
fn gemini_stream_without_finish_reason_is_truncated() {
    let (out, flow) = gemini_stream("gemini/stream_truncated.sse", 11);
    assert!(
        matches!(
            flow,
            Err(Error::Truncated {
                provider: ProviderId::Gemini
            })
        ),
        "{flow:?}"
    );
    assert_eq!(text_of(&out), "The answer is forty");
}

#[test]
fn gemini_stream_in_band_error() {
    let (out, flow) = gemini_stream("gemini/stream_error.sse", 4096);
    assert_eq!(text_of(&out), "Once upon");
    let err = flow.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Overloaded);
    assert!(err.to_string().contains("overloaded"));
}

#[test]
fn gemini_function_call_response_round_trips_signatures() {
    let d = gemini::response::decode(ProviderId::Gemini, &fixture("gemini/function_call.json"))
        .unwrap();
    assert_eq!(d.id, "fc-1");
    assert_eq!(d.model, "gemini-3-pro-preview");
    assert_eq!(d.finish, FinishReason::ToolCalls);
    assert_eq!(
        d.message.content,
        vec![
            Part::Reasoning {
                text: String::new(),
                signature: Some("EkQKQgEcn8sVf6Q2yS1v0d9k5Zr0A==".into())
            },
            Part::Text {
                text: "I'll look that up.".into()
            },
        ]
    );
    assert_eq!(
        d.message.tool_calls,
        vec![
            ToolCall {
                signature: Some("CiQBjz1rX4hZ2p+Q0cE5Gm4v==".into()),
                ..ToolCall::new("call_0", "get_weather", r#"{"city":"Paris"}"#)
            },
            ToolCall::new("call_1", "get_time", r#"{"tz":"Europe/Paris"}"#),
        ]
    );
    assert_eq!(d.usage.completion, Some(109));
    // Sending the decoded message back reproduces the wire parts, signatures in place.
    let mut req = crux_llm::ChatRequest::new(
        "gemini/gemini-3-pro-preview".parse().unwrap(),
        vec![
            crux_llm::Message::user("weather and time in Paris?"),
            d.message,
        ],
    );
    req.messages
        .push(crux_llm::Message::tool_result("call_0", r#"{"temp_c":15}"#));
    req.messages
        .push(crux_llm::Message::tool_result("call_1", "09:30"));
    let body =
        serde_json::to_value(gemini::request::build(ProviderId::Gemini.spec(), &req).unwrap())
            .unwrap();
    let original: serde_json::Value =
        serde_json::from_slice(&fixture("gemini/function_call.json")).unwrap();
    assert_eq!(
        body["contents"][1]["parts"],
        original["candidates"][0]["content"]["parts"]
    );
    assert_eq!(
        body["contents"][2]["parts"],
        serde_json::json!([
            {"functionResponse": {"name": "get_weather", "response": {"temp_c": 15}}},
            {"functionResponse": {"name": "get_time", "response": {"result": "09:30"}}}
        ])
    );
}

#[test]
fn gemini_blocked_prompt() {
    let d = gemini::response::decode(ProviderId::Gemini, &fixture("gemini/blocked_prompt.json"))
        .unwrap();
    assert_eq!(d.finish, FinishReason::ContentFilter);
    assert!(d.message.content.is_empty() && d.message.tool_calls.is_empty());
    assert_eq!(d.usage.prompt, Some(9));
}

#[test]
fn gemini_usage_with_thoughts_and_cache() {
    let d = gemini::response::decode(
        ProviderId::Gemini,
        &fixture("gemini/usage_thoughts_cache.json"),
    )
    .unwrap();
    assert_eq!(d.finish, FinishReason::Stop);
    assert_eq!(d.message.text_content(), "The contract ends in 2027.");
    assert!(
        matches!(&d.message.content[0], Part::Reasoning { text, .. } if text == "Summary of my reasoning")
    );
    assert_eq!(
        d.usage,
        Usage {
            prompt: Some(20485),
            completion: Some(462),
            total: Some(20947),
            cached_prompt: Some(16384),
            reasoning: Some(450),
            cost: None
        }
    );
}

#[test]
fn gemini_embeddings_and_paged_models() {
    let e = gemini::embed::decode(ProviderId::Gemini, &fixture("gemini/embeddings.json")).unwrap();
    assert_eq!(e.vectors.len(), 2);
    assert_eq!(e.vectors[1], vec![-0.5, 0.25, 1.0]);
    let (page1, next) =
        gemini::models::decode(ProviderId::Gemini, &fixture("gemini/models_page1.json")).unwrap();
    let next = next.unwrap();
    assert_eq!(next, "Chxtb2RlbHMvZ2VtaW5pLWVtYmVkZGluZy0wMDE=");
    assert_eq!(
        gemini::models::path(Some(&next)),
        "/v1beta/models?pageSize=1000&pageToken=Chxtb2RlbHMvZ2VtaW5pLWVtYmVkZGluZy0wMDE%3D"
    );
    let ids: Vec<&str> = page1.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["gemini-2.5-flash", "gemini-embedding-001"]);
    assert_eq!(page1[0].context_length, Some(1_048_576));
    assert_eq!(page1[0].owned_by.as_deref(), Some("Gemini 2.5 Flash"));
    let (page2, last) =
        gemini::models::decode(ProviderId::Gemini, &fixture("gemini/models_page2.json")).unwrap();
    assert_eq!(page2[0].id, "gemma-3-27b-it");
    assert_eq!(last, None);
}

#[test]
fn ollama_text_stream() {
    for read in [1, 9, 4096] {
        let (out, flow) = ollama_stream("ollama/stream_text.ndjson", read);
        assert_eq!(flow.unwrap(), Flow::Done(FinishReason::Stop));
        assert!(matches!(&out[0], StreamEvent::Start { model, .. } if model == "llama3.2"));
        assert_eq!(text_of(&out), "The sky is blue.");
        assert_eq!(
            out.last(),
            Some(&StreamEvent::Usage(Usage {
                prompt: Some(169),
                completion: Some(15),
                total: Some(184),
                ..Usage::default()
            }))
        );
    }
}

#[test]
fn ollama_tool_call_stream_with_stop_is_tool_calls() {
    let (out, flow) = ollama_stream("ollama/stream_tool_call.ndjson", 13);
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::ToolCalls));
    assert!(out.iter().any(
        |e| matches!(e, StreamEvent::ReasoningDelta { text, .. } if text == "The user wants weather.")
    ));
    let calls: Vec<(u32, String, String, String)> = out
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallDelta {
                index,
                id: Some(id),
                name: Some(name),
                args_fragment,
                ..
            } => Some((*index, id.clone(), name.clone(), args_fragment.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        [
            (
                0,
                "call_0".into(),
                "get_weather".into(),
                r#"{"city":"Tokyo"}"#.into()
            ),
            (
                1,
                "call_1".into(),
                "get_time".into(),
                r#"{"tz":"Asia/Tokyo"}"#.into()
            ),
        ]
    );
    assert!(out.contains(&StreamEvent::Usage(Usage {
        prompt: Some(0),
        completion: Some(41),
        total: Some(41),
        ..Usage::default()
    })));
}

#[test]
fn ollama_error_line() {
    let (out, flow) = ollama_stream("ollama/stream_error.ndjson", 4096);
    assert_eq!(text_of(&out), "Partial");
    match flow {
        Err(Error::InBand {
            provider, message, ..
        }) => {
            assert_eq!(provider, ProviderId::Ollama);
            assert!(message.contains("unexpected EOF"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ollama_non_stream_bodies() {
    let d = ollama::response::decode(ProviderId::Ollama, &fixture("ollama/chat.json")).unwrap();
    assert_eq!(d.finish, FinishReason::Stop);
    assert_eq!(
        d.message.text_content(),
        "Hello! How can I help you today?\n"
    );
    assert_eq!(
        (d.usage.prompt, d.usage.completion, d.usage.total),
        (Some(26), Some(10), Some(36))
    );
    let d = ollama::response::decode(ProviderId::Ollama, &fixture("ollama/chat_tool_call.json"))
        .unwrap();
    assert_eq!(d.finish, FinishReason::ToolCalls);
    assert_eq!(
        d.message.tool_calls,
        vec![ToolCall::new(
            "call_k2x7",
            "get_weather",
            r#"{"city":"Tokyo","days":3}"#
        )]
    );
}

#[test]
fn ollama_embeddings_and_tags() {
    let e = ollama::embed::decode(ProviderId::Ollama, &fixture("ollama/embed.json")).unwrap();
    assert_eq!(e.model, "all-minilm");
    assert_eq!(e.vectors.len(), 2);
    assert_eq!(e.usage.prompt, Some(8));
    let models = ollama::models::decode(ProviderId::Ollama, &fixture("ollama/tags.json")).unwrap();
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["llama3.2:latest", "nomic-embed-text:latest"]);
}
