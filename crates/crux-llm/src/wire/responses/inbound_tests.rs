//! Tests of the Responses dialect: inbound bodies → core, answers → `response` objects, core events → typed SSE.

use serde_json::{Value, json};

use super::*;
use crate::types::{ChatResponse, FinishReason, StreamEvent, StreamMetrics, Usage};
use crate::wire::responses::encode::EventEncoder;
use crate::wire::responses::output::{self, Meta};

#[test]
fn responses_inbound_maps_items_roles_tools_and_options() {
    let body = json!({
        "model": "anthropic/claude-3-5-haiku-latest",
        "instructions": "be terse",
        "input": [
            {"role": "developer", "content": "dev rule"},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": " exact\n text "},
                {"type": "input_image", "image_url": "https://e.x/a.png", "detail": "low"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "hmm"}],
             "encrypted_content": "opaque"},
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{\"a\":1}"},
            {"type": "function_call", "call_id": "call_2", "name": "g", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "42"},
            {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "ok"}]},
            {"role": "assistant", "content": [{"type": "output_text", "text": "done"}]},
            {"role": "system", "content": "sys"}
        ],
        "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": true},
                  {"type": "web_search"}],
        "tool_choice": {"type": "function", "name": "f"},
        "parallel_tool_calls": false,
        "reasoning": {"effort": "high", "summary": "auto"},
        "text": {"format": {"type": "json_schema", "name": "o", "schema": {"type": "object"}, "strict": true}},
        "include": ["reasoning.encrypted_content"],
        "max_output_tokens": 99,
        "store": false,
        "stream": true
    });
    let inb = to_core(body).unwrap();
    let m = &inb.req.messages;
    assert_eq!(m[0], Message::system("be terse"));
    assert_eq!(m[1].role, Role::Developer);
    assert_eq!(
        m[2].content[0],
        Part::Text {
            text: " exact\n text ".into()
        }
    );
    assert!(matches!(&m[2].content[1], Part::Image { detail: Some(d), .. } if d == "low"));
    assert_eq!(m[3].role, Role::Assistant);
    assert_eq!(
        m[3].content[0],
        Part::Reasoning {
            text: "hmm".into(),
            signature: None
        }
    );
    assert_eq!(m[3].tool_calls.len(), 2, "parallel calls join one turn");
    assert_eq!(m[4], Message::tool_result("call_1", "42"));
    assert_eq!(m[5], Message::tool_result("call_2", "ok"));
    assert_eq!(m[6].text_content(), "done");
    assert_eq!(m[7].role, Role::System);
    assert_eq!(inb.req.tools.len(), 1);
    assert_eq!(inb.req.tools[0].strict, Some(true));
    assert_eq!(inb.hosted_tools, vec!["web_search".to_owned()]);
    assert_eq!(inb.req.tool_choice, Some(ToolChoice::Function("f".into())));
    assert_eq!(inb.req.extra["parallel_tool_calls"], false);
    assert_eq!(inb.req.reasoning_effort.as_deref(), Some("high"));
    assert!(
        matches!(&inb.req.response_format, ResponseFormat::JsonSchema { name, strict: Some(true), .. } if name == "o")
    );
    assert!(inb.include_encrypted_reasoning);
    assert_eq!(inb.req.max_tokens, Some(99));
    assert!(inb.stream && !inb.store);
    assert_eq!(inb.echo["instructions"], "be terse");
    assert_eq!(inb.echo["store"], false);
}

#[test]
fn responses_inbound_string_input_defaults_and_errors() {
    let inb = to_core(json!({"model": "m", "input": "hi"})).unwrap();
    assert_eq!(inb.req.messages, vec![Message::user("hi")]);
    assert!(inb.store, "store defaults to true");
    assert!(!inb.stream);
    assert_eq!(inb.echo["tool_choice"], "auto");
    for (body, needle) in [
        (json!({"model": "m"}), "'input'"),
        (
            json!({"model": "m", "input": "x", "messages": []}),
            "'messages'",
        ),
        (
            json!({"model": "m", "input": [{"type": "function_call_output", "output": "1"}]}),
            "call_id",
        ),
        (
            json!({"model": "m", "input": [{"role": "robot", "content": "x"}]}),
            "robot",
        ),
        (
            json!({"model": "m", "input": "x", "tools": [{"type": "function", "function": {"name": "f"}}]}),
            "flat",
        ),
    ] {
        let err = to_core(body).unwrap_err();
        assert!(err.contains(needle), "{err}");
    }
}

fn meta() -> Meta {
    Meta {
        id: "resp_abc".into(),
        created_at: 7,
        model: "smart".into(),
        echo: to_core(json!({"model": "m", "input": "x"})).unwrap().echo,
        tools: Default::default(),
    }
}

#[test]
fn responses_output_object_has_items_and_usage() {
    let resp = ChatResponse {
        id: "up".into(),
        model: "x".into(),
        provider: "anthropic".into(),
        message: Message {
            content: vec![
                Part::Reasoning {
                    text: "think".into(),
                    signature: Some("sig".into()),
                },
                Part::Text { text: "hi".into() },
            ],
            tool_calls: vec![ToolCall::new("call_1", "f", "{}")],
            ..Message::assistant("")
        },
        finish: FinishReason::ToolCalls,
        usage: Usage {
            prompt: Some(10),
            completion: Some(5),
            cached_prompt: Some(4),
            reasoning: Some(2),
            ..Usage::default()
        },
        latency: std::time::Duration::ZERO,
    };
    let v = output::response(&resp, &meta());
    assert_eq!(v["id"], "resp_abc");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["model"], "smart");
    let types: Vec<&str> = v["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["reasoning", "message", "function_call"]);
    assert_eq!(v["output"][1]["content"][0]["text"], "hi");
    assert_eq!(v["output"][2]["call_id"], "call_1");
    assert_eq!(v["usage"]["input_tokens_details"]["cached_tokens"], 4);
    assert_eq!(v["usage"]["output_tokens_details"]["reasoning_tokens"], 2);
    assert_eq!(v["usage"]["total_tokens"], 15);
}

fn events(out: &[u8]) -> Vec<Value> {
    crate::wire::responses::encode::decode_events(out)
}

#[test]
fn responses_encoder_emits_the_typed_sequence() {
    let completed = std::sync::Arc::new(std::sync::Mutex::new(None));
    let sink = std::sync::Arc::clone(&completed);
    let mut enc = EventEncoder::new(meta())
        .on_complete(Box::new(move |v| *sink.lock().unwrap() = Some(v.clone())));
    let mut out = Vec::new();
    let call = |id: Option<&str>, args: &str| StreamEvent::ToolCallDelta {
        index: 0,
        id: id.map(str::to_owned),
        name: id.map(|_| "f".to_owned()),
        args_fragment: args.into(),
        signature: None,
    };
    for ev in [
        StreamEvent::Start {
            id: "u".into(),
            model: "x".into(),
        },
        StreamEvent::TextDelta { text: "Hel".into() },
        StreamEvent::TextDelta { text: "lo".into() },
        call(Some("call_1"), ""),
        call(None, "{\"a\""),
        call(None, ":1}"),
        StreamEvent::Usage(Usage {
            prompt: Some(3),
            completion: Some(2),
            ..Usage::default()
        }),
        StreamEvent::Finish {
            reason: FinishReason::ToolCalls,
            metrics: StreamMetrics::default(),
        },
    ] {
        enc.encode(&ev, &mut out);
    }
    let evs = events(&out);
    let kinds: Vec<&str> = evs.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["sequence_number"], i);
    }
    assert_eq!(evs[6]["text"], "Hello");
    assert_eq!(evs[9]["output_index"], 1);
    assert_eq!(evs[9]["item"]["call_id"], "call_1");
    assert_eq!(evs[12]["arguments"], "{\"a\":1}");
    let done = &evs[14]["response"];
    assert_eq!(done["output"].as_array().unwrap().len(), 2);
    assert_eq!(done["usage"]["total_tokens"], 5);
    assert_eq!(completed.lock().unwrap().as_ref(), Some(done));
}

#[test]
fn responses_encoder_incomplete_and_in_band_error() {
    let mut enc = EventEncoder::new(meta());
    let mut out = Vec::new();
    enc.encode(&StreamEvent::TextDelta { text: "a".into() }, &mut out);
    enc.encode(
        &StreamEvent::Finish {
            reason: FinishReason::Length,
            metrics: StreamMetrics::default(),
        },
        &mut out,
    );
    let evs = events(&out);
    let last = evs.last().unwrap();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(
        last["response"]["incomplete_details"]["reason"],
        "max_output_tokens"
    );

    let mut enc = EventEncoder::new(meta());
    let mut out = Vec::new();
    enc.encode(&StreamEvent::TextDelta { text: "a".into() }, &mut out);
    enc.error("boom", "server_error", &mut out);
    let evs = events(&out);
    let n = evs.len();
    assert_eq!(evs[n - 2]["type"], "error");
    assert_eq!(evs[n - 2]["message"], "boom");
    assert_eq!(evs[n - 1]["type"], "response.failed");
    assert_eq!(evs[n - 1]["response"]["error"]["code"], "server_error");
    assert_eq!(evs[n - 1]["sequence_number"], n - 1);
}
