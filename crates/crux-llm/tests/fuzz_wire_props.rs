//! Hostile input for every wire's response and stream decoders (OpenAI Chat Completions and its vendors, OpenAI
//! Responses, Anthropic, Gemini, Ollama): arbitrary bytes, generated JSON in the wires' vocabulary and mutated valid
//! bodies. Property: never panics; failures are typed `crux_llm::Error`s with an error code.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod fuzz_support;

use crux_llm::decode::{NdjsonDecoder, SseDecoder};
use crux_llm::wire::{Flow, Frame, StreamState, decode_chat};
use crux_llm::{ModelId, Wire};
use fuzz_support::{body, chunks, json_value};
use proptest::prelude::*;

/// One model per wire (and one OpenAI-wire vendor with quirks).
const MODELS: &[&str] = &[
    "openai/gpt-4o-mini",
    "openai/o3-mini",
    "anthropic/claude-3-5-haiku-latest",
    "gemini/gemini-2.0-flash",
    "ollama/llama3.2",
    "deepseek/deepseek-chat",
    "openrouter/meta-llama/llama-3.1-8b-instruct",
];

const RESPONSE_SEEDS: &[&str] = &[
    r#"{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hi","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#,
    r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t","name":"f","input":{}},{"type":"thinking","thinking":"x","signature":"s"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}"#,
    r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"},{"functionCall":{"name":"f","args":{}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2}}"#,
    r#"{"model":"llama3.2","message":{"role":"assistant","content":"hi","tool_calls":[{"function":{"name":"f","arguments":{}}}]},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1}"#,
    r#"{"id":"resp_1","object":"response","status":"completed","model":"o3","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]},{"type":"function_call","call_id":"c","name":"f","arguments":"{}"}],"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2}}"#,
    r#"{"error":{"message":"bad","type":"invalid_request_error","code":"x"}}"#,
];

const STREAM_SEEDS: &[&str] = &[
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"h\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"t\",\"function\":{\"name\":\"f\",\"arguments\":\"{\"}}]},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\ndata: [DONE]\n\n",
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"h\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":1}}\r\n\r\n",
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"h\",\"sequence_number\":1}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n",
    "{\"message\":{\"role\":\"assistant\",\"content\":\"h\"},\"done\":false}\n{\"done\":true,\"done_reason\":\"stop\",\"eval_count\":1}\n",
    "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"o\"}}\n\n",
];

fn model(i: &prop::sample::Index) -> ModelId {
    MODELS[i.index(MODELS.len())].parse().unwrap()
}

/// Feed a whole body to a fresh stream state for `model`, as the client does; never panics.
fn feed(model: &ModelId, bytes: &[u8], cuts: &[prop::sample::Index]) {
    let mut state = StreamState::new(model);
    let mut events = Vec::new();
    let ndjson = crux_llm::wire::wire_for(model) == Wire::Ollama;
    let mut sse = SseDecoder::new(1 << 20);
    let mut lines = NdjsonDecoder::new(1 << 20);
    for chunk in chunks(bytes, cuts) {
        if ndjson {
            let mut out = Vec::new();
            if lines.push(&chunk, &mut out).is_err() {
                return;
            }
            for l in &out {
                match state.on_frame(Frame::Line(l), &mut events) {
                    Ok(Flow::Done(_)) => return,
                    Ok(Flow::Continue) => {}
                    Err(e) => {
                        let _ = e.code();
                        return;
                    }
                }
            }
        } else {
            let mut out = Vec::new();
            if sse.push(&chunk, &mut out).is_err() {
                return;
            }
            for ev in &out {
                match state.on_frame(Frame::Sse(ev), &mut events) {
                    Ok(Flow::Done(_)) => return,
                    Ok(Flow::Continue) => {}
                    Err(e) => {
                        let _ = e.code();
                        return;
                    }
                }
            }
        }
    }
    if let Err(e) = state.on_eof(&mut events) {
        let _ = e.code();
    }
}

/// Generated frames: an SSE stream (event names from the wires) or NDJSON lines of generated JSON.
fn generated_stream() -> impl Strategy<Value = Vec<u8>> {
    let event = prop_oneof![
        Just(None),
        prop::sample::select(fuzz_support::WORDS).prop_map(Some),
    ];
    prop::collection::vec((event, json_value()), 0..8).prop_map(|frames| {
        let mut out = String::new();
        for (ev, v) in frames {
            if let Some(e) = ev {
                out.push_str(&format!("event: {e}\n"));
            }
            out.push_str(&format!("data: {v}\n\n"));
            out.push_str(&format!("{v}\n"));
        }
        out.into_bytes()
    })
}

proptest! {
    #[test]
    fn response_decoders_never_panic(m in any::<prop::sample::Index>(), bytes in body(RESPONSE_SEEDS)) {
        let model = model(&m);
        if let Err(e) = decode_chat(&model, &bytes) {
            let _ = e.code();
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn stream_decoders_never_panic(
        m in any::<prop::sample::Index>(),
        bytes in prop_oneof![body(STREAM_SEEDS), generated_stream()],
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        feed(&model(&m), &bytes, &cuts);
    }
}
