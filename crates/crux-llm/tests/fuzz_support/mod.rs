//! Strategies for hostile input: arbitrary bytes, JSON trees built from the wires' own vocabulary (so generated
//! bodies reach deep into the decoders), and mutations (truncation, byte flips, insertions) of valid seed bodies.

#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Keys the wires and inbound dialects use; generated objects draw their keys from here.
pub const KEYS: &[&str] = &[
    "id",
    "model",
    "object",
    "created",
    "choices",
    "index",
    "delta",
    "message",
    "role",
    "content",
    "text",
    "type",
    "finish_reason",
    "usage",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_tokens_details",
    "cached_tokens",
    "completion_tokens_details",
    "reasoning_tokens",
    "tool_calls",
    "function",
    "name",
    "arguments",
    "error",
    "code",
    "param",
    "content_block",
    "stop_reason",
    "stop_sequence",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "thinking",
    "signature",
    "partial_json",
    "input",
    "candidates",
    "parts",
    "finishReason",
    "usageMetadata",
    "promptTokenCount",
    "candidatesTokenCount",
    "totalTokenCount",
    "thoughtsTokenCount",
    "functionCall",
    "args",
    "thoughtSignature",
    "thought",
    "done",
    "done_reason",
    "eval_count",
    "prompt_eval_count",
    "response",
    "output",
    "output_text",
    "status",
    "item",
    "item_id",
    "output_index",
    "sequence_number",
    "summary",
    "reasoning_content",
    "refusal",
    "system",
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stream",
    "stream_options",
    "include_usage",
    "tools",
    "tool_choice",
    "response_format",
    "json_schema",
    "schema",
    "strict",
    "provider",
    "stop",
    "seed",
    "n",
    "user",
    "image_url",
    "url",
    "source",
    "media_type",
    "data",
    "tool_call_id",
    "tool_use_id",
    "is_error",
    "cache_control",
    "metadata",
    "reasoning_effort",
    "budget_tokens",
    "extra",
    "structured",
    "parameters",
    "description",
];

/// String values the wires give meaning to.
pub const WORDS: &[&str] = &[
    "assistant",
    "user",
    "system",
    "developer",
    "tool",
    "function",
    "text",
    "image",
    "image_url",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "stop",
    "length",
    "tool_calls",
    "content_filter",
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "STOP",
    "MAX_TOKENS",
    "SAFETY",
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
    "text_delta",
    "input_json_delta",
    "thinking_delta",
    "signature_delta",
    "[DONE]",
    "response.created",
    "response.output_text.delta",
    "response.completed",
    "response.failed",
    "response.incomplete",
    "completed",
    "json_object",
    "json_schema",
    "auto",
    "none",
    "required",
    "base64",
    "image/png",
    "data:image/png;base64,iVBORw0KGgo=",
    "overloaded_error",
    "rate_limit_error",
    "",
    " ",
    "\u{0}",
    "\u{feff}",
    "é",
    "😀",
];

/// A JSON value: leaves of every kind, arrays and objects keyed from [`KEYS`], a few levels deep.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => any::<i64>().prop_map(Value::from),
        1 => prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()].prop_map(Value::from),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        4 => prop::sample::select(WORDS).prop_map(|s| Value::String(s.to_owned())),
        2 => ".{0,24}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            1 => prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            3 => prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>())
            }),
        ]
    })
}

/// An object with the given keys present (values generated), plus generated extras: shapes that get past the
/// first field checks of a parser.
pub fn shaped(required: &'static [&'static str]) -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(json_value(), required.len()),
        json_value(),
    )
        .prop_map(move |(vals, extra)| {
            let mut m = match extra {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            for (k, v) in required.iter().zip(vals) {
                m.insert((*k).to_owned(), v);
            }
            Value::Object(m)
        })
}

/// One mutation of a byte string.
#[derive(Debug, Clone)]
pub enum Mutation {
    Truncate(prop::sample::Index),
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Remove(prop::sample::Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(any::<u8>(), 1..8)
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<prop::sample::Index>(), 1..16usize).prop_map(|(i, n)| Mutation::Remove(i, n)),
    ]
}

/// Apply mutations to `seed`.
pub fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for m in mutations {
        let len = out.len().max(1);
        match m {
            Mutation::Truncate(i) => out.truncate(i.index(len)),
            Mutation::Flip(i, b) if !out.is_empty() => {
                let at = i.index(out.len());
                out[at] ^= b | 1;
            }
            Mutation::Flip(..) => {}
            Mutation::Insert(i, bytes) => {
                let at = i.index(out.len() + 1);
                out.splice(at..at, bytes.iter().copied());
            }
            Mutation::Remove(i, n) if !out.is_empty() => {
                let at = i.index(out.len());
                let end = (at + n).min(out.len());
                out.drain(at..end);
            }
            Mutation::Remove(..) => {}
        }
    }
    out
}

/// A seed from `seeds`, mutated 0–3 times.
pub fn mutated(seeds: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(seeds),
        prop::collection::vec(mutation(), 0..4),
    )
        .prop_map(|(seed, ms)| mutate(seed.as_bytes(), &ms))
}

/// Hostile bodies: raw bytes, generated JSON, or mutated seeds.
pub fn body(seeds: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256),
        3 => json_value().prop_map(|v| v.to_string().into_bytes()),
        3 => mutated(seeds),
    ]
}

/// Split `bytes` at the given cut points (arbitrary chunking of a network body).
pub fn chunks(bytes: &[u8], cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut prev = 0;
    for a in at.into_iter().chain([bytes.len()]) {
        out.push(bytes[prev..a].to_vec());
        prev = a;
    }
    out
}
