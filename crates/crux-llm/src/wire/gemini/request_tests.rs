//! Unit tests for Gemini request building.

use serde_json::{Value, json};

use super::*;
use crate::types::{ImageSource, Message, Tool, ToolCall};

fn body(req: &ChatRequest) -> Value {
    serde_json::to_value(build(req.model.provider.spec(), req).unwrap()).unwrap()
}

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest::new("gemini/gemini-2.5-flash".parse().unwrap(), messages)
}

fn weather_call(id: &str, sig: Option<&str>) -> Message {
    Message {
        content: vec![],
        tool_calls: vec![ToolCall {
            signature: sig.map(str::to_owned),
            ..ToolCall::new(id, "get_weather", "{\"city\":\"Paris\"}")
        }],
        ..Message::assistant("")
    }
}

#[test]
fn paths_never_carry_the_key() {
    assert_eq!(
        path("gemini-2.5-flash", false),
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(
        path("models/gemini-2.5-flash", true),
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
}

#[test]
fn system_and_developer_become_system_instruction_in_order() {
    let b = body(&request(vec![
        Message::system("be terse"),
        Message::user("  hi\n\t"),
        Message::text(Role::Developer, "use metric"),
        Message::assistant("hello"),
    ]));
    assert_eq!(
        b["systemInstruction"],
        json!({"parts": [{"text": "be terse"}, {"text": "use metric"}]})
    );
    assert_eq!(
        b["contents"],
        json!([{"role": "user", "parts": [{"text": "  hi\n\t"}]}, {"role": "model", "parts": [{"text": "hello"}]}])
    );
    for absent in ["tools", "toolConfig", "generationConfig"] {
        assert!(b.get(absent).is_none(), "{absent}");
    }
}

#[test]
fn function_response_takes_the_name_of_the_matching_call() {
    let b = body(&request(vec![
        Message::user("weather?"),
        Message {
            tool_calls: vec![
                ToolCall::new("c1", "get_weather", "{\"city\":\"Paris\"}"),
                ToolCall::new("c2", "get_time", "{}"),
            ],
            content: vec![],
            ..Message::assistant("")
        },
        Message::tool_result("c2", "12:00"),
        Message::tool_result("c1", "{\"temp_c\":15}"),
        Message::user("thanks"),
    ]));
    let contents = b["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 4, "{contents:?}");
    assert_eq!(
        contents[1]["parts"],
        json!([
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "get_time", "args": {}}}
        ])
    );
    assert_eq!(
        contents[2],
        json!({"role": "user", "parts": [
            {"functionResponse": {"name": "get_time", "response": {"result": "12:00"}}},
            {"functionResponse": {"name": "get_weather", "response": {"temp_c": 15}}}
        ]})
    );
    assert_eq!(contents[3]["parts"][0]["text"], "thanks");
}

#[test]
fn non_object_results_are_wrapped_and_unknown_calls_fail() {
    let b = body(&request(vec![
        weather_call("c1", None),
        Message::tool_result("c1", "[1,2]"),
    ]));
    assert_eq!(
        b["contents"][1]["parts"][0]["functionResponse"]["response"],
        json!({"result": [1, 2]})
    );
    let orphan = request(vec![Message::tool_result("nope", "x")]);
    assert!(matches!(
        build(orphan.model.provider.spec(), &orphan),
        Err(Error::Unsupported(_))
    ));
}

#[test]
fn reused_call_ids_resolve_to_the_latest_call() {
    let mut second = weather_call("call_0", None);
    second.tool_calls[0].name = "get_time".into();
    let b = body(&request(vec![
        weather_call("call_0", None),
        Message::tool_result("call_0", "1"),
        second,
        Message::tool_result("call_0", "2"),
    ]));
    assert_eq!(
        b["contents"][1]["parts"][0]["functionResponse"]["name"],
        "get_weather"
    );
    assert_eq!(
        b["contents"][3]["parts"][0]["functionResponse"]["name"],
        "get_time"
    );
}

#[test]
fn thought_signatures_round_trip() {
    let assistant = Message {
        content: vec![
            Part::Reasoning {
                text: "thinking...".into(),
                signature: Some("sigA".into()),
            },
            Part::Text {
                text: "Let me check.".into(),
            },
            Part::Reasoning {
                text: String::new(),
                signature: Some("sigB".into()),
            },
        ],
        ..weather_call("c1", Some("sigC"))
    };
    let b = body(&request(vec![Message::user("q"), assistant]));
    assert_eq!(
        b["contents"][1]["parts"],
        json!([
            {"text": "Let me check.", "thoughtSignature": "sigA"},
            {"text": "", "thoughtSignature": "sigB"},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "sigC"}
        ])
    );
}

#[test]
fn invalid_arguments_are_kept_raw() {
    let mut call = weather_call("c1", None);
    call.tool_calls[0].arguments = "{\"city\": Par".into();
    let b = body(&request(vec![call]));
    assert_eq!(
        b["contents"][0]["parts"][0]["functionCall"]["args"],
        json!({"_raw": "{\"city\": Par"})
    );
}

#[test]
fn images_inline_and_by_uri() {
    let msg = Message {
        content: vec![
            Part::Image {
                source: ImageSource::Base64 {
                    media_type: "image/png".into(),
                    data: "iVBO".into(),
                },
                detail: None,
            },
            Part::Image {
                source: ImageSource::Url {
                    url: "data:image/jpeg;base64,/9j/".into(),
                },
                detail: None,
            },
            Part::Image {
                source: ImageSource::Url {
                    url: "https://example.com/cat.JPG?x=1".into(),
                },
                detail: Some("high".into()),
            },
        ],
        ..Message::user("")
    };
    let b = body(&request(vec![msg]));
    assert_eq!(
        b["contents"][0]["parts"],
        json!([
            {"inlineData": {"mimeType": "image/png", "data": "iVBO"}},
            {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}},
            {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.JPG?x=1"}}
        ])
    );
}

#[test]
fn tools_and_tool_choice_modes() {
    let mut r = request(vec![Message::user("q")]);
    r.tools = vec![
        Tool {
            name: "get_weather".into(),
            description: Some("Current weather".into()),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"], "additionalProperties": false, "$schema": "x"}),
            strict: Some(true),
        },
        Tool {
            name: "now".into(),
            description: None,
            parameters: json!({"type": "object", "properties": {}}),
            strict: None,
        },
    ];
    let expected = [
        (ToolChoice::Auto, json!({"mode": "AUTO"})),
        (ToolChoice::None, json!({"mode": "NONE"})),
        (ToolChoice::Required, json!({"mode": "ANY"})),
        (
            ToolChoice::Function("now".into()),
            json!({"mode": "ANY", "allowedFunctionNames": ["now"]}),
        ),
    ];
    for (choice, config) in expected {
        r.tool_choice = Some(choice);
        let b = body(&r);
        assert_eq!(b["toolConfig"]["functionCallingConfig"], config);
        assert_eq!(
            b["tools"],
            json!([{"functionDeclarations": [
                {"name": "get_weather", "description": "Current weather", "parameters":
                    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
                {"name": "now"}
            ]}])
        );
    }
}

#[test]
fn generation_config_and_json_modes() {
    let mut r = request(vec![Message::user("q")]);
    r.max_tokens = Some(512);
    r.temperature = Some(0.5);
    r.top_p = Some(0.25);
    r.stop = vec!["END".into()];
    r.seed = Some(7);
    r.response_format = ResponseFormat::JsonSchema {
        name: "answer".into(),
        schema: json!({"type": "object", "properties": {"a": {"type": ["string", "null"]}},
            "additionalProperties": false}),
        strict: Some(true),
    };
    let b = body(&r);
    assert_eq!(
        b["generationConfig"],
        json!({"maxOutputTokens": 512, "temperature": 0.5, "topP": 0.25, "stopSequences": ["END"], "seed": 7,
            "responseMimeType": "application/json",
            "responseSchema": {"type": "object", "properties": {"a": {"type": "string", "nullable": true}}}})
    );
    r.response_format = ResponseFormat::JsonObject;
    let b = body(&r);
    assert_eq!(
        b["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert!(b["generationConfig"].get("responseSchema").is_none());
    r.stop = (0..6).map(|i| i.to_string()).collect();
    assert!(matches!(
        build(r.model.provider.spec(), &r),
        Err(Error::Unsupported(_))
    ));
}

#[test]
fn extra_passes_through_and_merges_generation_config() {
    let mut r = request(vec![Message::user("q")]);
    r.max_tokens = Some(64);
    r.temperature = Some(0.5);
    r.extra.insert(
        "safetySettings".into(),
        json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]),
    );
    r.extra.insert(
        "generationConfig".into(),
        json!({"thinkingConfig": {"thinkingBudget": 0}, "temperature": 1.0}),
    );
    r.extra.insert("contents".into(), json!("ignored"));
    let b = body(&r);
    assert_eq!(b["safetySettings"][0]["threshold"], "BLOCK_ONLY_HIGH");
    assert_eq!(
        b["generationConfig"],
        json!({"maxOutputTokens": 64, "temperature": 1.0, "thinkingConfig": {"thinkingBudget": 0}})
    );
    assert!(b["contents"].is_array());
    // The body is a valid JSON object without duplicate keys.
    let text = serde_json::to_string(&build(r.model.provider.spec(), &r).unwrap()).unwrap();
    assert_eq!(text.matches("\"generationConfig\"").count(), 1);
}
