//! Unit tests for Anthropic request building: system, merging, tool blocks, thinking replay, max_tokens.

use serde_json::{Value, json};

use super::*;
use crate::types::{Tool, ToolCall};

fn body(req: &ChatRequest) -> Value {
    serde_json::to_value(build(req.model.provider.spec(), req, false).unwrap()).unwrap()
}

fn history() -> ChatRequest {
    ChatRequest::new(
        "anthropic/claude-sonnet-4-5".parse().unwrap(),
        vec![
            Message::system("sys one"),
            Message::user("first"),
            Message::user("  second\n\tindented"),
            Message {
                content: vec![
                    Part::Reasoning {
                        text: "plan".into(),
                        signature: Some("sig".into()),
                    },
                    Part::Text {
                        text: "calling".into(),
                    },
                ],
                tool_calls: vec![
                    ToolCall::new("toolu_1", "get_weather", r#"{"city":"Paris"}"#),
                    ToolCall::new("toolu_2", "get_time", ""),
                ],
                ..Message::assistant("")
            },
            Message::tool_result("toolu_1", "15C"),
            Message::tool_result("toolu_2", "noon"),
            Message::user("thanks"),
        ],
    )
}

#[test]
fn system_is_top_level_and_roles_alternate() {
    let b = body(&history());
    assert_eq!(b["system"], json!([{"type": "text", "text": "sys one"}]));
    let msgs = b["messages"].as_array().unwrap();
    let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(msgs[0]["content"][1]["text"], "  second\n\tindented");
    assert_eq!(
        msgs[1]["content"][0],
        json!({"type": "thinking", "thinking": "plan", "signature": "sig"})
    );
    assert_eq!(msgs[1]["content"][2]["input"], json!({"city": "Paris"}));
    assert_eq!(msgs[1]["content"][3]["input"], json!({}));
    let last = msgs[2]["content"].as_array().unwrap();
    assert_eq!(last[0]["type"], "tool_result");
    assert_eq!(last[0]["tool_use_id"], "toolu_1");
    assert_eq!(last[1]["tool_use_id"], "toolu_2");
    assert_eq!(last[2], json!({"type": "text", "text": "thanks"}));
}

#[test]
fn max_tokens_always_sent() {
    let mut r = history();
    assert_eq!(body(&r)["max_tokens"], 64_000);
    r.model = "anthropic/claude-3-5-haiku-latest".parse().unwrap();
    assert_eq!(body(&r)["max_tokens"], 8192);
    r.model = "anthropic/some-future-model".parse().unwrap();
    assert_eq!(body(&r)["max_tokens"], DEFAULT_MAX_TOKENS);
    r.max_tokens = Some(77);
    assert_eq!(body(&r)["max_tokens"], 77);
}

#[test]
fn tools_choice_schema_temperature_and_extra() {
    let mut r = history();
    r.tools = vec![Tool {
        name: "get_weather".into(),
        description: None,
        parameters: json!({"type": "object"}),
        strict: None,
    }];
    r.tool_choice = Some(ToolChoice::Required);
    r.temperature = Some(1.7);
    r.response_format = ResponseFormat::JsonSchema {
        name: "x".into(),
        schema: json!({"type": "object"}),
        strict: None,
    };
    r.extra.insert("top_k".into(), json!(5));
    r.stop = vec!["END".into()];
    let b = body(&r);
    assert_eq!(b["tools"][0]["input_schema"], json!({"type": "object"}));
    assert_eq!(b["tool_choice"], json!({"type": "any"}));
    assert_eq!(b["temperature"], 1.0);
    assert_eq!(b["output_config"]["format"]["type"], "json_schema");
    assert_eq!(b["top_k"], 5);
    assert_eq!(b["stop_sequences"], json!(["END"]));
}

#[test]
fn unsigned_reasoning_is_dropped_and_images_convert() {
    let r = ChatRequest::new(
        "anthropic/claude-3-5-haiku-latest".parse().unwrap(),
        vec![
            Message {
                content: vec![
                    Part::Text {
                        text: "look".into(),
                    },
                    Part::Image {
                        source: ImageSource::Url {
                            url: "data:image/png;base64,AAA".into(),
                        },
                        detail: None,
                    },
                ],
                ..Message::user("")
            },
            Message {
                content: vec![
                    Part::Reasoning {
                        text: "r1 thoughts".into(),
                        signature: None,
                    },
                    Part::Text { text: "ok".into() },
                ],
                ..Message::assistant("")
            },
        ],
    );
    let b = body(&r);
    assert_eq!(
        b["messages"][0]["content"][1]["source"],
        json!({"type": "base64", "media_type": "image/png", "data": "AAA"})
    );
    assert_eq!(
        b["messages"][1]["content"],
        json!([{"type": "text", "text": "ok"}])
    );
}

#[test]
fn reasoning_effort_enables_thinking() {
    let mut r = history();
    r.max_tokens = Some(1000);
    r.reasoning_effort = Some("medium".into());
    let b = body(&r);
    assert_eq!(
        b["thinking"],
        json!({"type": "enabled", "budget_tokens": 4096})
    );
    assert!(b["max_tokens"].as_u64().unwrap() > 4096);
}
