//! Unit tests for Ollama request building.

use serde_json::{Value, json};

use super::*;
use crate::types::{Tool, ToolCall, ToolChoice};

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest::new("ollama/llama3.2".parse().unwrap(), messages)
}

fn body(req: &ChatRequest, stream: bool) -> Value {
    serde_json::to_value(build(req.model.provider.spec(), req, stream).unwrap()).unwrap()
}

#[test]
fn stream_false_is_explicit_and_roles_map() {
    let r = request(vec![
        Message::text(Role::Developer, "be terse"),
        Message {
            content: vec![
                Part::Text { text: "a ".into() },
                Part::Text {
                    text: " b\n".into(),
                },
            ],
            ..Message::user("")
        },
    ]);
    let b = body(&r, false);
    assert_eq!(b["stream"], false);
    assert_eq!(body(&r, true)["stream"], true);
    assert_eq!(
        b,
        json!({"model": "llama3.2", "stream": false, "messages": [
            {"role": "system", "content": "be terse"},
            {"role": "user", "content": "a  b\n"}
        ]})
    );
}

#[test]
fn tool_calls_are_objects_and_results_name_their_tool() {
    let r = request(vec![
        Message::user("weather?"),
        Message {
            content: vec![Part::Reasoning {
                text: "need a tool".into(),
                signature: None,
            }],
            tool_calls: vec![
                ToolCall::new("call_0", "get_weather", "{\"city\":\"Tokyo\"}"),
                ToolCall::new("call_1", "get_time", ""),
            ],
            ..Message::assistant("")
        },
        Message::tool_result("call_1", "12:00"),
        Message::tool_result("call_0", "{\"temp_c\":21}"),
    ]);
    let b = body(&r, false);
    assert_eq!(
        b["messages"][1],
        json!({"role": "assistant", "content": "", "thinking": "need a tool", "tool_calls": [
            {"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}},
            {"function": {"name": "get_time", "arguments": {}}}
        ]})
    );
    assert_eq!(
        b["messages"][2],
        json!({"role": "tool", "content": "12:00", "tool_name": "get_time"})
    );
    assert_eq!(b["messages"][3]["tool_name"], "get_weather");
    let orphan = body(&request(vec![Message::tool_result("zz", "x")]), false);
    assert!(orphan["messages"][0].get("tool_name").is_none());
}

#[test]
fn images_are_raw_base64_and_urls_unsupported() {
    let img = |url: &str| Message {
        content: vec![
            Part::Text {
                text: "what is this?".into(),
            },
            Part::Image {
                source: ImageSource::Url { url: url.into() },
                detail: None,
            },
        ],
        ..Message::user("")
    };
    let b = body(&request(vec![img("data:image/png;base64,iVBORw0")]), false);
    assert_eq!(b["messages"][0]["images"], json!(["iVBORw0"]));
    assert_eq!(b["messages"][0]["content"], "what is this?");
    let r = request(vec![img("https://example.com/cat.png")]);
    assert!(matches!(
        build(r.model.provider.spec(), &r, false),
        Err(Error::Unsupported(_))
    ));
}

#[test]
fn tools_format_options_and_extra() {
    let mut r = request(vec![Message::user("q")]);
    r.tools = vec![Tool {
        name: "get_weather".into(),
        description: Some("weather".into()),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        strict: Some(true),
    }];
    r.tool_choice = Some(ToolChoice::Required);
    r.max_tokens = Some(256);
    r.temperature = Some(0.5);
    r.top_p = Some(0.25);
    r.stop = vec!["END".into()];
    r.seed = Some(42);
    r.response_format = ResponseFormat::JsonObject;
    r.extra.insert("keep_alive".into(), json!("5m"));
    r.extra.insert(
        "options".into(),
        json!({"num_ctx": 8192, "temperature": 0.0}),
    );
    r.extra.insert("stream".into(), json!(true));
    let b = body(&r, false);
    assert_eq!(
        b["tools"],
        json!([{"type": "function", "function": {"name": "get_weather", "description": "weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
    );
    assert!(b.get("tool_choice").is_none());
    assert_eq!(b["format"], "json");
    assert_eq!(
        b["options"],
        json!({"num_predict": 256, "temperature": 0.0, "top_p": 0.25, "stop": ["END"], "seed": 42, "num_ctx": 8192})
    );
    assert_eq!(b["keep_alive"], "5m");
    assert_eq!(b["stream"], false);
    r.response_format = ResponseFormat::JsonSchema {
        name: "a".into(),
        schema: json!({"type": "object", "properties": {"answer": {"type": "string"}}}),
        strict: None,
    };
    assert_eq!(
        body(&r, false)["format"]["properties"]["answer"]["type"],
        "string"
    );
}
