//! Gemini 3 wants each function call's `thoughtSignature` back on the next turn. Through the OpenAI, Anthropic and Responses
//! dialects (which have no field for it) the signature rides in the tool-call id the client echoes, so the second
//! turn of a tool conversation is accepted — streamed and not.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use harness::{Gateway, sse};
use serde_json::{Value, json};

const MODEL: &str = "gemini/gemini-3-pro-preview";

fn tools_openai() -> Value {
    json!([{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}])
}

/// The tool call of the first turn: (id, name, arguments), from a plain or a streamed answer.
fn openai_call(text: &str, stream: bool) -> (String, String) {
    if !stream {
        let v: Value = serde_json::from_str(text).unwrap();
        let c = &v["choices"][0]["message"]["tool_calls"][0];
        return (
            c["id"].as_str().unwrap().to_owned(),
            c["function"]["arguments"].as_str().unwrap().to_owned(),
        );
    }
    let mut id = String::new();
    let mut args = String::new();
    for (_, data) in sse(text) {
        let Ok(v) = serde_json::from_str::<Value>(&data) else {
            continue;
        };
        if let Some(c) = v["choices"][0]["delta"]["tool_calls"].get(0) {
            if let Some(i) = c["id"].as_str() {
                id = i.to_owned();
            }
            args.push_str(c["function"]["arguments"].as_str().unwrap_or(""));
        }
    }
    (id, args)
}

#[tokio::test]
async fn openai_dialect_second_turn_is_accepted_by_gemini_3() {
    let g = Gateway::start().await;
    for stream in [false, true] {
        let mut messages = vec![json!({"role": "user", "content": "use lookup for crux"})];
        let first = json!({"model": MODEL, "stream": stream, "messages": messages, "tools": tools_openai()});
        let (status, _, text) = g.post("/v1/chat/completions", "k", &first).await;
        assert_eq!(status, 200, "{text}");
        let (id, args) = openai_call(&text, stream);
        assert!(id.contains("__ts_"), "the signature rides in the id: {id}");
        messages.push(json!({"role": "assistant", "content": null,
            "tool_calls": [{"id": id, "type": "function", "function": {"name": "lookup", "arguments": args}}]}));
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": "found"}));
        let second = json!({"model": MODEL, "stream": stream, "messages": messages, "tools": tools_openai()});
        let (status, _, text) = g.post("/v1/chat/completions", "k", &second).await;
        assert_eq!(status, 200, "stream={stream}: {text}");
        assert!(text.contains("found"), "{text}");
    }
}

#[tokio::test]
async fn anthropic_dialect_second_turn_is_accepted_by_gemini_3() {
    let g = Gateway::start().await;
    let tools = json!([{"name": "lookup", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}]);
    let mut messages = vec![json!({"role": "user", "content": "use lookup for crux"})];
    let first = json!({"model": MODEL, "max_tokens": 100, "messages": messages, "tools": tools});
    let (status, _, text) = g.post("/v1/messages", "k", &first).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let call = v["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "tool_use")
        .unwrap()
        .clone();
    let id = call["id"].as_str().unwrap().to_owned();
    assert!(
        id.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "a valid Anthropic id: {id}"
    );
    messages.push(json!({"role": "assistant", "content": [call]}));
    messages.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": "found"}]}));
    let second = json!({"model": MODEL, "max_tokens": 100, "messages": messages, "tools": tools});
    let (status, _, text) = g.post("/v1/messages", "k", &second).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("found"), "{text}");
}

/// The call of a Responses answer: (call_id, arguments), from a plain or a streamed answer.
fn responses_call(text: &str, stream: bool) -> (String, String) {
    let item = if stream {
        sse(text)
            .into_iter()
            .filter_map(|(_, data)| serde_json::from_str::<Value>(&data).ok())
            .find(|v| {
                v["type"] == "response.output_item.done" && v["item"]["type"] == "function_call"
            })
            .map(|v| v["item"].clone())
            .unwrap()
    } else {
        let v: Value = serde_json::from_str(text).unwrap();
        v["output"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["type"] == "function_call")
            .cloned()
            .unwrap()
    };
    (
        item["call_id"].as_str().unwrap().to_owned(),
        item["arguments"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn responses_dialect_second_turn_is_accepted_by_gemini_3() {
    let g = Gateway::start().await;
    let tools = json!([{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}]);
    for stream in [false, true] {
        let mut input =
            vec![json!({"type": "message", "role": "user", "content": "use lookup for crux"})];
        let first = json!({"model": MODEL, "stream": stream, "store": false, "input": input, "tools": tools});
        let (status, _, text) = g.post("/v1/responses", "k", &first).await;
        assert_eq!(status, 200, "{text}");
        let (call_id, args) = responses_call(&text, stream);
        assert!(
            call_id.contains("__ts_"),
            "the signature rides in the call id: {call_id}"
        );
        input.push(json!({"type": "function_call", "call_id": call_id, "name": "lookup", "arguments": args}));
        input.push(json!({"type": "function_call_output", "call_id": call_id, "output": "found"}));
        let second = json!({"model": MODEL, "stream": stream, "store": false, "input": input, "tools": tools});
        let (status, _, text) = g.post("/v1/responses", "k", &second).await;
        assert_eq!(status, 200, "stream={stream}: {text}");
        assert!(text.contains("found"), "{text}");
    }
}
