//! Unit tests for the OpenAI-family stream decoder.

use super::*;
use crate::types::{FinishReason, Usage};

fn run(provider: ProviderId, frames: &[&str]) -> (Vec<StreamEvent>, Result<Flow, Error>) {
    let mut s = StreamState::new(provider);
    let mut out = Vec::new();
    let mut last = Ok(Flow::Continue);
    for f in frames {
        last = s.on_data(f, &mut out);
        if !matches!(last, Ok(Flow::Continue)) {
            break;
        }
    }
    (out, last)
}

#[test]
fn tool_call_split_across_many_chunks() {
    let (out, flow) = run(
        ProviderId::OpenAi,
        &[
            r#"{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_4X","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]},"finish_reason":null}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Par"}}]},"finish_reason":null}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"is\"}"}}]},"finish_reason":null}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            "[DONE]",
        ],
    );
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::ToolCalls));
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
    assert_eq!(args, "{\"city\":\"Paris\"}");
    assert!(
        matches!(&out[1], StreamEvent::ToolCallDelta { id: Some(id), name: Some(n), .. } if id == "call_4X" && n == "get_weather")
    );
}

#[test]
fn calls_without_index_key_on_id_then_order() {
    let (out, _) = run(
        ProviderId::Xai,
        &[
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"b","function":{"name":"g","arguments":"{"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"b","function":{"arguments":"}"}}]}}]}"#,
        ],
    );
    let idx: Vec<u32> = out
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallDelta { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(idx, vec![0, 1, 1]);
}

#[test]
fn deepseek_reasoning_deltas() {
    let (out, flow) = run(
        ProviderId::DeepSeek,
        &[
            r#"{"id":"d","model":"deepseek-reasoner","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":"Let me"},"finish_reason":null}]}"#,
            r#"{"id":"d","choices":[{"index":0,"delta":{"content":null,"reasoning_content":" think"},"finish_reason":null}]}"#,
            r#"{"id":"d","choices":[{"index":0,"delta":{"content":"42","reasoning_content":null},"finish_reason":null}]}"#,
            r#"{"id":"d","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29,"prompt_cache_hit_tokens":0,"completion_tokens_details":{"reasoning_tokens":15}}}"#,
            "[DONE]",
        ],
    );
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::Stop));
    assert!(matches!(&out[1], StreamEvent::ReasoningDelta { text, .. } if text == "Let me"));
    assert!(matches!(&out[3], StreamEvent::TextDelta { text } if text == "42"));
    assert!(matches!(
        &out[4],
        StreamEvent::Usage(Usage {
            reasoning: Some(15),
            cached_prompt: Some(0),
            ..
        })
    ));
}

#[test]
fn groq_x_groq_usage() {
    let (out, _) = run(
        ProviderId::Groq,
        &[
            r#"{"id":"g","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"x_groq":{"id":"req_1"}}"#,
            r#"{"id":"g","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"queue_time":0.01,"prompt_tokens":5,"completion_tokens":1,"total_tokens":6,"total_time":0.02}}}"#,
        ],
    );
    assert!(matches!(
        out.last(),
        Some(StreamEvent::Usage(Usage {
            prompt: Some(5),
            total: Some(6),
            ..
        }))
    ));
}

#[test]
fn openrouter_cost_and_mid_stream_error() {
    let (out, _) = run(
        ProviderId::OpenRouter,
        &[
            r#"{"id":"o","provider":"OpenAI","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"cost":0.0001,"cost_details":{"upstream_inference_cost":null}}}"#,
        ],
    );
    assert!(
        matches!(out.last(), Some(StreamEvent::Usage(Usage { cost: Some(c), .. })) if *c == 0.0001)
    );
    let (_, flow) = run(
        ProviderId::OpenRouter,
        &[
            r#"{"object":"chat.completion.chunk","error":{"code":"server_error","message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}"#,
        ],
    );
    let err = flow.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServerError);
    assert!(err.to_string().contains("Provider disconnected"));
    let (_, flow) = run(
        ProviderId::OpenRouter,
        &[r#"{"error":{"code":429,"message":"slow down"}}"#],
    );
    assert_eq!(flow.unwrap_err().code(), ErrorCode::RateLimit);
}

#[test]
fn unknown_fields_and_reasons_are_tolerated() {
    let (out, flow) = run(
        ProviderId::OpenAi,
        &[
            r#"{"id":"x","obfuscation":"zz","choices":[{"index":0,"delta":{"content":"a","brand_new":1},"logprobs":null,"finish_reason":"future_reason"}]}"#,
            "[DONE]",
        ],
    );
    assert_eq!(
        flow.unwrap(),
        Flow::Done(FinishReason::Other("future_reason".into()))
    );
    assert!(matches!(&out[1], StreamEvent::TextDelta { text } if text == "a"));
}

#[test]
fn invalid_json_is_a_decode_error() {
    let (_, flow) = run(ProviderId::OpenAi, &[r#"{"id": "broken", "choices": ["#]);
    assert!(matches!(flow, Err(Error::Decode { .. })));
}

/// Escaped and plain strings, nulls and fields the decoder skips read the same as through the wire type.
#[test]
fn escaped_text_nulls_and_skipped_fields() {
    let (out, flow) = run(
        ProviderId::OpenAi,
        &[
            r#"{"id":"c\u00e9","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":null,"choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":null},"logprobs":null,"finish_reason":null}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"say \"hi\"\n"},"finish_reason":null}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"plain"},"finish_reason":"st\u006fp"}],"usage":null}"#,
            "[DONE]",
        ],
    );
    assert_eq!(flow.unwrap(), Flow::Done(FinishReason::Stop));
    assert_eq!(
        out,
        vec![
            StreamEvent::Start {
                id: "cé".into(),
                model: "m".into()
            },
            StreamEvent::TextDelta {
                text: "say \"hi\"\n".into()
            },
            StreamEvent::TextDelta {
                text: "plain".into()
            },
        ]
    );
}
