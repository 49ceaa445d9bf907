//! Divan benches: one OpenAI request encode and one response decode (the per-request CPU cost of the wire layer).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use crux_llm::wire::openai::{request, response, stream, types};
use crux_llm::{ChatRequest, Message, ProviderId, Tool};
use divan::{Bencher, black_box};
use serde_json::json;

fn main() {
    divan::main();
}

fn sample_request() -> ChatRequest {
    let mut messages = vec![Message::system(
        "You are a careful assistant. Answer briefly.",
    )];
    for i in 0..6 {
        messages.push(Message::user(format!(
            "Question {i}: explain how a hash map resolves collisions."
        )));
        messages.push(Message::assistant(format!(
            "Answer {i}: open addressing or chaining; each has trade-offs in locality and deletion."
        )));
    }
    messages.push(Message::user(
        "Now summarise the discussion in two sentences.",
    ));
    let mut req = ChatRequest::new("openai/gpt-4o-mini".parse().unwrap(), messages);
    req.tools = vec![Tool {
        name: "lookup".into(),
        description: Some("Look up a term".into()),
        parameters: json!({"type":"object","properties":{"term":{"type":"string"}},"required":["term"]}),
        strict: None,
    }];
    req.max_tokens = Some(256);
    req
}

const RESPONSE: &str = r#"{"id":"chatcmpl-123","object":"chat.completion","created":1727346182,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_143bb8492c","choices":[{"index":0,"logprobs":null,"finish_reason":"stop","message":{"role":"assistant","content":"Hash maps resolve collisions by chaining entries in buckets or probing for another free slot. Chaining tolerates high load; open addressing has better cache locality.","refusal":null,"annotations":[]}}],"usage":{"prompt_tokens":182,"completion_tokens":33,"total_tokens":215,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"#;

#[divan::bench]
fn encode_request(bencher: Bencher) {
    let req = sample_request();
    let spec = ProviderId::OpenAi.spec();
    bencher.bench(|| serde_json::to_vec(&request::build(spec, black_box(&req), false)).unwrap());
}

#[divan::bench]
fn decode_response(bencher: Bencher) {
    bencher.bench(|| {
        let body: types::ChatCompletion = serde_json::from_str(black_box(RESPONSE)).unwrap();
        response::decode(body)
    });
}

#[divan::bench]
fn decode_stream_chunk(bencher: Bencher) {
    let chunk = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1727346170,"model":"gpt-4o","system_fingerprint":"fp_x","choices":[{"index":0,"delta":{"content":" collisions"},"logprobs":null,"finish_reason":null}]}"#;
    let mut state = stream::StreamState::new(ProviderId::OpenAi);
    let mut out = Vec::with_capacity(4);
    bencher.bench_local(|| {
        out.clear();
        state.on_data(black_box(chunk), &mut out).unwrap();
    });
}
