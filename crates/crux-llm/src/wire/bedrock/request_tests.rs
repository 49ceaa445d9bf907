//! Unit tests for Converse request building: system blocks, merged turns, tool blocks and results, the
//! structured-output tool, cache points, reasoning, and where unmodelled fields go.

use serde_json::{Value, json};

use super::request::build;
use crate::model_id::ModelId;
use crate::providers::ProviderId;
use crate::types::{
    CacheBreakpoint, CacheTtl, ChatRequest, ImageSource, Message, Part, ResponseFormat, Tool,
    ToolCall, ToolChoice,
};

const CLAUDE: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

fn req(messages: Vec<Message>) -> ChatRequest {
    ChatRequest::new(ModelId::new(ProviderId::OpenAi, CLAUDE), messages)
}

fn body(r: &ChatRequest) -> Value {
    build(ProviderId::OpenAi.spec(), r).unwrap()
}

fn weather() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Weather by city".into()),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        strict: None,
    }
}

#[test]
fn history_becomes_alternating_turns_with_tool_blocks() {
    let mut r = req(vec![
        Message::system("be brief"),
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
            tool_calls: vec![ToolCall::new("t1", "get_weather", r#"{"city":"Paris"}"#)],
            ..Message::assistant("")
        },
        Message::tool_result("t1", "15C"),
        Message::user("thanks"),
    ]);
    r.tools = vec![weather()];
    r.tool_choice = Some(ToolChoice::Required);
    r.max_tokens = Some(300);
    r.temperature = Some(1.7);
    r.stop = vec!["END".into()];
    let b = body(&r);
    assert_eq!(b["system"], json!([{"text": "be brief"}]));
    let m = b["messages"].as_array().unwrap();
    assert_eq!(m.len(), 3);
    assert_eq!(
        m[0],
        json!({"role": "user", "content": [{"text": "first"}, {"text": "  second\n\tindented"}]})
    );
    assert_eq!(
        m[1]["content"],
        json!([
            {"reasoningContent": {"reasoningText": {"text": "plan", "signature": "sig"}}},
            {"text": "calling"},
            {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}},
        ])
    );
    assert_eq!(
        m[2]["content"],
        json!([{"toolResult": {"toolUseId": "t1", "content": [{"text": "15C"}]}}, {"text": "thanks"}])
    );
    assert_eq!(
        b["inferenceConfig"],
        json!({"maxTokens": 300, "temperature": 1.0, "stopSequences": ["END"]})
    );
    assert_eq!(b["toolConfig"]["toolChoice"], json!({"any": {}}));
    assert_eq!(
        b["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"],
        weather().parameters
    );
    for key in ["model", "stream", "max_tokens", "tools"] {
        assert!(b.get(key).is_none(), "{key}");
    }
}

#[test]
fn a_history_with_tools_no_longer_offered_still_declares_them() {
    let r = req(vec![
        Message::user("go"),
        Message {
            tool_calls: vec![ToolCall::new("t1", "lookup", "")],
            ..Message::assistant("")
        },
        Message::tool_result("t1", ""),
    ]);
    let b = body(&r);
    assert_eq!(
        b["toolConfig"]["tools"],
        json!([{"toolSpec": {"name": "lookup", "inputSchema": {"json": {"type": "object"}}}}])
    );
    assert_eq!(
        b["messages"][1]["content"][0]["toolUse"]["input"],
        json!({})
    );
}

#[test]
fn structured_output_is_a_forced_tool() {
    let mut r = req(vec![Message::user("weather?")]);
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}});
    r.response_format = ResponseFormat::JsonSchema {
        name: "w".into(),
        schema: schema.clone(),
        strict: Some(true),
    };
    let b = body(&r);
    assert_eq!(
        b["toolConfig"]["toolChoice"],
        json!({"tool": {"name": super::JSON_TOOL}})
    );
    assert_eq!(
        b["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"],
        schema
    );
}

#[test]
fn cache_breakpoints_become_cache_points() {
    let mut r = req(vec![
        Message::system("long rules"),
        Message::user("doc"),
        Message::assistant("ok"),
        Message::user("question"),
    ]);
    r.cache = vec![
        CacheBreakpoint {
            messages: 1,
            ttl: CacheTtl::FiveMinutes,
        },
        CacheBreakpoint {
            messages: 3,
            ttl: CacheTtl::FiveMinutes,
        },
    ];
    let b = body(&r);
    let point = json!({"cachePoint": {"type": "default"}});
    assert_eq!(b["system"][1], point);
    assert_eq!(b["messages"][1]["content"][1], point);
}

#[test]
fn unmodelled_fields_reach_the_model_or_the_top_level() {
    let mut r = req(vec![Message::user("hi")]);
    r.reasoning_effort = Some("low".into());
    r.extra.insert("top_k".into(), json!(5));
    r.extra
        .insert("performanceConfig".into(), json!({"latency": "optimized"}));
    r.extra.insert(
        "additionalModelRequestFields".into(),
        json!({"anthropic_beta": ["x"]}),
    );
    let b = body(&r);
    assert_eq!(
        b["additionalModelRequestFields"],
        json!({"top_k": 5, "anthropic_beta": ["x"], "thinking": {"type": "enabled", "budget_tokens": 1024}})
    );
    assert_eq!(b["performanceConfig"], json!({"latency": "optimized"}));
    assert_eq!(b["inferenceConfig"]["maxTokens"], 2048);
}

#[test]
fn images_are_inline_bytes_only() {
    let image = |source| Message {
        content: vec![Part::Image {
            source,
            detail: None,
        }],
        ..Message::user("")
    };
    let b = body(&req(vec![image(ImageSource::Url {
        url: "data:image/jpg;base64,AAAA".into(),
    })]));
    assert_eq!(
        b["messages"][0]["content"][0],
        json!({"image": {"format": "jpeg", "source": {"bytes": "AAAA"}}})
    );
    let r = req(vec![image(ImageSource::Url {
        url: "https://example.com/cat.png".into(),
    })]);
    let err = build(ProviderId::OpenAi.spec(), &r).unwrap_err();
    assert!(err.to_string().contains("inline bytes"), "{err}");
}
