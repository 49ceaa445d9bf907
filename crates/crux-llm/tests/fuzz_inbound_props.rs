//! Hostile input for every inbound parser the gateway runs on a caller's body: OpenAI Chat Completions, Anthropic
//! Messages, OpenAI Responses and the native `/api/chat` shape (`serde_json::from_slice` into the body type, then
//! `to_core`). Property: never panics; a rejected body is a typed error (serde's, or the `to_core` message the gateway
//! answers as a 400).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod fuzz_support;

use crux_llm::wire::anthropic::types::MessagesRequest;
use crux_llm::wire::native::inbound::ChatBody;
use crux_llm::wire::openai::types::ChatCompletionRequest;
use crux_llm::wire::{anthropic, native, openai, responses};
use fuzz_support::{body, shaped};
use proptest::prelude::*;
use serde_json::Value;

const OPENAI_SEEDS: &[&str] = &[
    r#"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"t","content":"r"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto","stream":true,"stream_options":{"include_usage":true},"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{}}},"max_tokens":5,"temperature":0.5,"stop":["x"]}"#,
    r#"{"model":"smart","messages":[{"role":"developer","content":"d"},{"role":"user","content":"u"}],"max_completion_tokens":3,"reasoning_effort":"low"}"#,
];

const ANTHROPIC_SEEDS: &[&str] = &[
    r#"{"model":"claude-3-5-haiku-latest","max_tokens":10,"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"t","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"r","is_error":false}]}],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto"},"stream":true,"thinking":{"type":"enabled","budget_tokens":1024}}"#,
    r#"{"model":"x","max_tokens":1,"messages":[{"role":"system","content":"inline system"},{"role":"user","content":"u"}]}"#,
];

const RESPONSES_SEEDS: &[&str] = &[
    r#"{"model":"gpt-5","instructions":"be brief","input":[{"type":"message","role":"developer","content":"d"},{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="}]},{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"e"},{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"r"}],"tools":[{"type":"function","name":"f","parameters":{"type":"object"}},{"type":"web_search"}],"tool_choice":"auto","parallel_tool_calls":true,"reasoning":{"effort":"low","summary":"auto"},"text":{"format":{"type":"json_schema","name":"n","schema":{}}},"include":["reasoning.encrypted_content"],"stream":true,"store":false,"max_output_tokens":5}"#,
    r#"{"model":"anthropic/claude-3-5-haiku-latest","input":"hi","previous_response_id":"resp_1","store":true}"#,
];

const NATIVE_SEEDS: &[&str] = &[
    r#"{"provider":"openai","model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":5,"temperature":1,"response_format":"json","json_schema":{"type":"object"},"tools":[{"name":"f","parameters":{}}],"extra":{"seed":1}}"#,
    r#"{"provider":"anthropic","model":"claude","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"x"}]}]}"#,
];

fn input(
    seeds: &'static [&'static str],
    required: &'static [&'static str],
) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => body(seeds),
        1 => shaped(required).prop_map(|v: Value| v.to_string().into_bytes()),
    ]
}

proptest! {
    #[test]
    fn openai_inbound_never_panics(bytes in input(OPENAI_SEEDS, &["model", "messages"])) {
        if let Ok(body) = serde_json::from_slice::<ChatCompletionRequest>(&bytes)
            && let Err(msg) = openai::inbound::to_core(body)
        {
            prop_assert!(!msg.is_empty());
        }
    }

    #[test]
    fn anthropic_inbound_never_panics(bytes in input(ANTHROPIC_SEEDS, &["model", "max_tokens", "messages"])) {
        if let Ok(body) = serde_json::from_slice::<MessagesRequest>(&bytes)
            && let Err(msg) = anthropic::inbound::to_core(body)
        {
            prop_assert!(!msg.is_empty());
        }
    }

    #[test]
    fn responses_inbound_never_panics(bytes in input(RESPONSES_SEEDS, &["model", "input"])) {
        if let Ok(body) = serde_json::from_slice::<Value>(&bytes)
            && let Err(msg) = responses::inbound::to_core(body)
        {
            prop_assert!(!msg.is_empty());
        }
    }

    #[test]
    fn native_inbound_never_panics(bytes in input(NATIVE_SEEDS, &["provider", "model", "messages"])) {
        if let Ok(body) = serde_json::from_slice::<ChatBody>(&bytes)
            && let Err(msg) = native::inbound::to_core(body)
        {
            prop_assert!(!msg.is_empty());
        }
    }
}
