//! Tests of Codex-style tools on other wires: namespaces flattened and custom tools as one-string functions, the
//! history mapped in, and calls mapped back to `function_call` (with `namespace`) and `custom_tool_call`, streamed
//! and not.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::types::{
    ChatResponse, FinishReason, Message, StreamEvent, StreamMetrics, ToolCall, Usage,
};
use crate::wire::responses::encode::EventEncoder;
use crate::wire::responses::inbound::{Inbound, to_core};
use crate::wire::responses::output::{self, Meta};

fn codex_body() -> Value {
    json!({
        "model": "anthropic/claude-sonnet-4-5",
        "input": [
            {"type": "message", "role": "user", "content": "go"},
            {"type": "function_call", "call_id": "c1", "name": "wait_agent", "namespace": "multi_agent_v1",
             "arguments": "{\"id\":\"a\"}"},
            {"type": "function_call_output", "call_id": "c1", "output": "waited"},
            {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin Patch\n"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": "patched"}
        ],
        "tools": [
            {"type": "function", "name": "exec_command", "parameters": {"type": "object"}, "strict": false},
            {"type": "namespace", "name": "multi_agent_v1", "description": "agents", "tools": [
                {"type": "function", "name": "wait_agent", "description": "wait",
                 "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}},
                {"type": "function", "name": "spawn_agent", "parameters": {"type": "object"}}]},
            {"type": "custom", "name": "apply_patch", "description": "Patch files.",
             "format": {"type": "grammar", "syntax": "lark", "definition": "start: \"*** Begin Patch\""}},
            {"type": "web_search", "external_web_access": false}
        ],
        "tool_choice": "auto", "store": false
    })
}

fn parsed() -> Inbound {
    to_core(codex_body()).unwrap()
}

#[test]
fn namespaces_flatten_custom_tools_take_one_string_and_hosted_tools_are_listed() {
    let inb = parsed();
    let names: Vec<&str> = inb.req.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "exec_command",
            "multi_agent_v1__wait_agent",
            "multi_agent_v1__spawn_agent",
            "apply_patch"
        ]
    );
    let patch = &inb.req.tools[3];
    assert_eq!(patch.parameters["required"], json!(["input"]));
    assert_eq!(patch.parameters["properties"]["input"]["type"], "string");
    let d = patch.description.as_deref().unwrap();
    assert!(
        d.starts_with("Patch files.")
            && d.contains("lark grammar")
            && d.contains("*** Begin Patch"),
        "{d}"
    );
    assert_eq!(inb.hosted_tools, vec!["web_search".to_owned()]);
    assert_eq!(inb.forced_hosted, None);
    let wait = inb.tools.origin("multi_agent_v1__wait_agent").unwrap();
    assert_eq!(
        (wait.namespace.as_deref(), wait.name.as_str(), wait.custom),
        (Some("multi_agent_v1"), "wait_agent", false)
    );
    assert!(inb.tools.is_custom("apply_patch"));
    assert!(
        inb.tools.origin("exec_command").is_none(),
        "plain functions need no mapping"
    );
}

#[test]
fn history_items_map_to_the_flattened_calls() {
    let m = parsed().req.messages;
    assert_eq!(
        m[1].tool_calls[0],
        ToolCall::new("c1", "multi_agent_v1__wait_agent", "{\"id\":\"a\"}")
    );
    assert_eq!(m[2], Message::tool_result("c1", "waited"));
    assert_eq!(
        m[3].tool_calls[0],
        ToolCall::new("c2", "apply_patch", custom_arguments("*** Begin Patch\n"))
    );
    assert_eq!(m[4], Message::tool_result("c2", "patched"));
}

#[test]
fn names_keep_to_every_wire_limit_and_stay_stable() {
    assert_eq!(flat_name(Some("ns"), "f"), "ns__f");
    assert_eq!(flat_name(None, "a.b c"), "a_b_c");
    let long = flat_name(Some(&"n".repeat(40)), &"f".repeat(40));
    assert_eq!(long.len(), 64);
    assert_eq!(long, flat_name(Some(&"n".repeat(40)), &"f".repeat(40)));
    assert_ne!(long, flat_name(Some(&"n".repeat(40)), &"f".repeat(41)));
    assert!(
        long.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    );
}

#[test]
fn tool_choice_names_a_flattened_tool_or_demands_a_hosted_one() {
    let mut body = codex_body();
    body["tool_choice"] = json!({"type": "custom", "name": "apply_patch"});
    assert_eq!(
        to_core(body.clone()).unwrap().req.tool_choice,
        Some(crate::types::ToolChoice::Function("apply_patch".into()))
    );
    body["tool_choice"] = json!({"type": "web_search"});
    assert_eq!(
        to_core(body).unwrap().forced_hosted.as_deref(),
        Some("web_search")
    );
}

fn meta(inb: &Inbound) -> Meta {
    Meta {
        id: "resp_t".into(),
        created_at: 1,
        model: "m".into(),
        echo: inb.echo.clone(),
        tools: inb.tools.clone(),
    }
}

#[test]
fn calls_map_back_to_namespaced_function_calls_and_custom_tool_calls() {
    let inb = parsed();
    let mut message = Message::assistant("");
    message.content.clear();
    message.tool_calls = vec![
        ToolCall::new("k1", "multi_agent_v1__wait_agent", "{\"id\":\"b\"}"),
        ToolCall::new(
            "k2",
            "apply_patch",
            "{\"input\":\"*** Begin Patch\\n*** End Patch\"}",
        ),
        ToolCall::new("k3", "exec_command", "{\"cmd\":\"ls\"}"),
    ];
    let resp = ChatResponse {
        id: "u".into(),
        model: "x".into(),
        provider: "anthropic".into(),
        message,
        finish: FinishReason::ToolCalls,
        usage: Usage::default(),
        latency: Duration::ZERO,
    };
    let v = output::response(&resp, &meta(&inb));
    let out = v["output"].as_array().unwrap();
    assert_eq!(out[0]["type"], "function_call");
    assert_eq!(
        (out[0]["name"].as_str(), out[0]["namespace"].as_str()),
        (Some("wait_agent"), Some("multi_agent_v1"))
    );
    assert_eq!(out[0]["arguments"], "{\"id\":\"b\"}");
    assert_eq!(out[1]["type"], "custom_tool_call");
    assert_eq!(out[1]["name"], "apply_patch");
    assert_eq!(out[1]["input"], "*** Begin Patch\n*** End Patch");
    assert_eq!(out[1]["call_id"], "k2");
    assert_eq!(out[2]["name"], "exec_command");
    assert!(out[2].get("namespace").is_none());
}

#[test]
fn streamed_calls_map_back_too() {
    let inb = parsed();
    let mut enc = EventEncoder::new(meta(&inb));
    let mut out = Vec::new();
    let delta =
        |index, id: Option<&str>, name: Option<&str>, args: &str| StreamEvent::ToolCallDelta {
            index,
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            args_fragment: args.into(),
            signature: None,
        };
    for ev in [
        StreamEvent::Start {
            id: "u".into(),
            model: "x".into(),
        },
        delta(
            0,
            Some("k1"),
            Some("multi_agent_v1__wait_agent"),
            "{\"id\":",
        ),
        delta(0, None, None, "\"b\"}"),
        delta(1, Some("k2"), Some("apply_patch"), "{\"input\":\"line1\\n"),
        delta(1, None, None, "line2\"}"),
        StreamEvent::Finish {
            reason: FinishReason::ToolCalls,
            metrics: StreamMetrics::default(),
        },
    ] {
        enc.encode(&ev, &mut out);
    }
    let evs = crate::wire::responses::encode::decode_events(&out);
    let kinds: Vec<&str> = evs.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let added: Vec<&Value> = evs
        .iter()
        .filter(|e| e["type"] == "response.output_item.added")
        .map(|e| &e["item"])
        .collect();
    assert_eq!(added[0]["type"], "function_call");
    assert_eq!(
        (added[0]["name"].as_str(), added[0]["namespace"].as_str()),
        (Some("wait_agent"), Some("multi_agent_v1"))
    );
    assert_eq!(added[1]["type"], "custom_tool_call");
    assert_eq!(added[1]["input"], "");
    let arg_deltas = kinds
        .iter()
        .filter(|k| **k == "response.function_call_arguments.delta")
        .count();
    assert_eq!(
        arg_deltas, 2,
        "only the function's arguments stream as JSON: {kinds:?}"
    );
    let input_done = evs
        .iter()
        .find(|e| e["type"] == "response.custom_tool_call_input.done")
        .unwrap();
    assert_eq!(input_done["input"], "line1\nline2");
    let custom_delta = evs
        .iter()
        .find(|e| e["type"] == "response.custom_tool_call_input.delta")
        .unwrap();
    assert_eq!(custom_delta["delta"], "line1\nline2");
    let done = evs
        .iter()
        .find(|e| e["type"] == "response.completed")
        .unwrap();
    let output = done["response"]["output"].as_array().unwrap();
    assert_eq!(output[0]["namespace"], "multi_agent_v1");
    assert_eq!(output[0]["arguments"], "{\"id\":\"b\"}");
    assert_eq!(output[1]["type"], "custom_tool_call");
    assert_eq!(output[1]["input"], "line1\nline2");
    // Sequence numbers still count from 0 without gaps.
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["sequence_number"], i);
    }
}
