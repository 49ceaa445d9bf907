//! Integration tests: the `[[chain]]` marker makes the mock call several tools, one per turn, before answering.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{body_json, chat};

fn tools() -> Value {
    let tool = |name: &str| {
        json!({"type": "function", "function": {"name": name, "parameters": {"type": "object",
            "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
    };
    json!([tool("get_time"), tool("get_weather")])
}

fn call_of(v: &Value) -> (String, String) {
    let call = &v["choices"][0]["message"]["tool_calls"][0];
    (
        call["id"].as_str().unwrap().to_owned(),
        call["function"]["name"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn chained_tools_are_called_in_the_order_named() {
    let server = MockServer::start().await.unwrap();
    let prompt = "First get_weather for Paris, then get_time there. [[chain]]";
    let mut messages = vec![json!({"role": "user", "content": prompt})];
    let mut names = Vec::new();
    for round in 0..2 {
        let body = json!({"model": "gpt-4o", "tools": tools(), "messages": messages});
        let v = body_json(chat(&server, &body, &[]).await).await;
        assert_eq!(
            v["choices"][0]["finish_reason"], "tool_calls",
            "round {round}"
        );
        let (id, name) = call_of(&v);
        messages.push(v["choices"][0]["message"].clone());
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": format!("{name} ok")}));
        names.push(name);
    }
    assert_eq!(names, ["get_weather", "get_time"]);
    let body = json!({"model": "gpt-4o", "tools": tools(), "messages": messages});
    let v = body_json(chat(&server, &body, &[]).await).await;
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Tool result received: get_time ok"
    );
}

#[tokio::test]
async fn chain_respects_tool_choice_none() {
    let server = MockServer::start().await.unwrap();
    let body = json!({"model": "gpt-4o", "tools": tools(), "tool_choice": "none",
        "messages": [{"role": "user", "content": "get_time [[chain]]"}]});
    let v = body_json(chat(&server, &body, &[]).await).await;
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
}
