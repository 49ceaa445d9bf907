//! Unit tests for OpenAI-wire request building and vendor quirks.

use serde_json::{Value, json};

use super::*;
use crate::types::{ImageSource, Tool, ToolCall};

fn req(model: &str) -> ChatRequest {
    let mut r = ChatRequest::new(
        model.parse().unwrap(),
        vec![
            Message::text(Role::Developer, "be terse"),
            Message::user("  indented\n\tcode  \r\n"),
            Message {
                tool_calls: vec![ToolCall::new(
                    "call_abc123xyz",
                    "get_weather",
                    "{\"city\":\"Paris\"}",
                )],
                content: vec![],
                ..Message::assistant("")
            },
            Message::tool_result("call_abc123xyz", "{\"temp_c\":15}"),
        ],
    );
    r.tools = vec![Tool {
        name: "get_weather".into(),
        description: Some("weather".into()),
        parameters: json!({"type":"object","properties":{"city":{"type":"string"}}}),
        strict: None,
    }];
    r.max_tokens = Some(64);
    r.seed = Some(7);
    r
}

fn body(model: &str, stream: bool) -> Value {
    let r = req(model);
    serde_json::to_value(build(r.model.provider.spec(), &r, stream)).unwrap()
}

#[test]
fn openai_body_shape() {
    let b = body("openai/gpt-4o-mini", true);
    assert_eq!(b["model"], "gpt-4o-mini");
    assert_eq!(b["max_completion_tokens"], 64);
    assert!(b.get("max_tokens").is_none());
    assert_eq!(b["seed"], 7);
    assert_eq!(b["stream"], true);
    assert_eq!(b["stream_options"]["include_usage"], true);
    assert_eq!(b["messages"][0]["role"], "developer");
    assert_eq!(b["messages"][1]["content"], "  indented\n\tcode  \r\n");
    assert_eq!(b["messages"][2]["content"], Value::Null);
    assert_eq!(
        b["messages"][2]["tool_calls"][0]["function"]["arguments"],
        "{\"city\":\"Paris\"}"
    );
    assert_eq!(b["messages"][3]["tool_call_id"], "call_abc123xyz");
    assert_eq!(b["tools"][0]["type"], "function");
}

#[test]
fn non_stream_has_no_stream_options() {
    let b = body("openai/gpt-4o-mini", false);
    assert!(b.get("stream").is_none() && b.get("stream_options").is_none());
}

#[test]
fn mistral_quirks() {
    let b = body("mistral/mistral-large-latest", false);
    assert_eq!(b["random_seed"], 7);
    assert!(b.get("seed").is_none());
    assert_eq!(b["max_tokens"], 64);
    assert_eq!(b["messages"][0]["role"], "system");
    let id = b["messages"][2]["tool_calls"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 9);
    assert!(id.bytes().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(b["messages"][3]["tool_call_id"], id.as_str());
    assert_eq!(nine_char_id("abcDEF123"), "abcDEF123");
}

#[test]
fn deepseek_sends_reasoning_on_tool_turns() {
    let b = body("deepseek/deepseek-chat", false);
    assert_eq!(b["messages"][2]["reasoning_content"], "");
    assert!(b["messages"][1].get("reasoning_content").is_none());
}

#[test]
fn groq_drops_message_names() {
    let mut r = req("groq/llama-3.3-70b-versatile");
    r.messages[1].name = Some("alice".into());
    let b = serde_json::to_value(build(r.model.provider.spec(), &r, false)).unwrap();
    assert!(b["messages"][1].get("name").is_none());
    let mut r = req("openai/gpt-4o");
    r.messages[1].name = Some("alice".into());
    let b = serde_json::to_value(build(r.model.provider.spec(), &r, false)).unwrap();
    assert_eq!(b["messages"][1]["name"], "alice");
}

#[test]
fn response_formats_tool_choice_and_extra() {
    let mut r = req("openai/gpt-4o");
    r.response_format = ResponseFormat::JsonSchema {
        name: "answer".into(),
        schema: json!({"type":"object"}),
        strict: Some(true),
    };
    r.tool_choice = Some(ToolChoice::Function("get_weather".into()));
    r.extra.insert("parallel_tool_calls".into(), json!(false));
    r.extra.insert("model".into(), json!("hijack"));
    let b = serde_json::to_value(build(r.model.provider.spec(), &r, false)).unwrap();
    assert_eq!(b["response_format"]["type"], "json_schema");
    assert_eq!(b["response_format"]["json_schema"]["strict"], true);
    assert_eq!(b["tool_choice"]["function"]["name"], "get_weather");
    assert_eq!(b["parallel_tool_calls"], false);
    assert_eq!(b["model"], "gpt-4o");
    r.response_format = ResponseFormat::JsonObject;
    let b = serde_json::to_value(build(r.model.provider.spec(), &r, false)).unwrap();
    assert_eq!(b["response_format"], json!({"type":"json_object"}));
}

#[test]
fn images_become_parts() {
    let mut r = req("openai/gpt-4o");
    r.messages[1].content.push(Part::Image {
        source: ImageSource::Base64 {
            media_type: "image/png".into(),
            data: "AAAA".into(),
        },
        detail: None,
    });
    let b = serde_json::to_value(build(r.model.provider.spec(), &r, false)).unwrap();
    assert_eq!(b["messages"][1]["content"][0]["type"], "text");
    assert_eq!(
        b["messages"][1]["content"][1]["image_url"]["url"],
        "data:image/png;base64,AAAA"
    );
}
