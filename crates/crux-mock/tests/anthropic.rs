//! Integration tests: the Anthropic Messages wire (replies, streaming event sequence, tools,
//! thinking signatures, structured output, cache usage).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{TRICKY, anthropic, body_json, read_events};

fn user(text: &str) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 256,
           "messages": [{"role": "user", "content": text}]})
}

fn weather_tool() -> Value {
    json!([{"name": "get_weather", "description": "Current weather",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"},
            "days": {"type": "integer"}}, "required": ["city"]}}])
}

#[tokio::test]
async fn non_stream_reply_echoes_text_verbatim() {
    let server = MockServer::start().await.unwrap();
    let resp = anthropic(&server, &user(TRICKY), &[]).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_mock_")
    );
    let v = body_json(resp).await;
    assert!(v["id"].as_str().unwrap().starts_with("msg_mock_"));
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["model"], "claude-sonnet-4-5");
    assert_eq!(
        v["content"],
        json!([{"type": "text", "text": format!("Mock reply: {TRICKY}")}])
    );
    assert_eq!(v["stop_reason"], "end_turn");
    assert!(v["stop_sequence"].is_null());
    assert_eq!(
        v["usage"],
        json!({"input_tokens": 7, "output_tokens": 8, "cache_creation_input_tokens": 0,
               "cache_read_input_tokens": 0})
    );
}

#[tokio::test]
async fn system_and_text_blocks_are_read() {
    let server = MockServer::start().await.unwrap();
    let body = json!({"model": "m", "max_tokens": 100,
        "system": [{"type": "text", "text": "be terse", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "a"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": "AA=="}},
            {"type": "text", "text": " b "}]}]});
    let v = body_json(anthropic(&server, &body, &[]).await).await;
    assert_eq!(v["content"][0]["text"], "Mock reply: a\n b ");
    // system (2 words + 1) + user (2 words + 1)
    assert_eq!(v["usage"]["input_tokens"], 6);
}

#[tokio::test]
async fn stream_event_sequence() {
    let server = MockServer::start().await.unwrap();
    let mut body = user(TRICKY);
    body["stream"] = json!(true);
    let resp = anthropic(&server, &body, &[]).await;
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let s = read_events(resp).await;
    assert!(!s.error);
    assert!(!s.raw.contains("[DONE]"));
    assert!(
        s.raw
            .contains("event: ping\ndata: {\"type\": \"ping\"}\n\n")
    );
    let names = s.names();
    let words = 8;
    assert_eq!(names.len(), 2 + 1 + words + 1 + 1 + 2);
    assert_eq!(
        &names[..3],
        ["message_start", "ping", "content_block_start"]
    );
    assert_eq!(
        &names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert_eq!(names.iter().filter(|n| **n == "ping").count(), 2);
    let mid_ping = names.iter().rposition(|n| *n == "ping").unwrap();
    assert!(mid_ping > 3 && mid_ping < names.len() - 3, "{names:?}");
    for e in &s.events {
        assert_eq!(e.json()["type"], e.name.as_str());
    }
    let start = &s.named("message_start")[0]["message"];
    assert_eq!(start["content"], json!([]));
    assert!(start["stop_reason"].is_null());
    assert_eq!(start["usage"]["input_tokens"], 7);
    assert_eq!(start["usage"]["output_tokens"], 1);
    assert_eq!(start["usage"]["cache_read_input_tokens"], 0);
    assert_eq!(
        s.named("content_block_start")[0]["content_block"],
        json!({"type": "text", "text": ""})
    );
    let text: String = s
        .named("content_block_delta")
        .iter()
        .map(|d| {
            assert_eq!(d["delta"]["type"], "text_delta");
            d["delta"]["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(text, format!("Mock reply: {TRICKY}"));
    let delta = &s.named("message_delta")[0];
    assert_eq!(
        delta["delta"],
        json!({"stop_reason": "end_turn", "stop_sequence": null})
    );
    assert_eq!(delta["usage"]["output_tokens"], 8);
    assert!(server.wait_for_streams(1, support::LIMIT).await);
    let rec = &server.streams()[0];
    assert!(rec.completed && !rec.client_disconnected);
    assert_eq!(rec.path, "/v1/messages");
    assert_eq!(rec.chunks_sent, s.events.len());
}

#[tokio::test]
async fn tool_call_and_result_round_trip() {
    let server = MockServer::start().await.unwrap();
    let mut body = user("Please call get_weather for Paris");
    body["tools"] = weather_tool();
    body["tool_choice"] = json!({"type": "auto"});
    let v = body_json(anthropic(&server, &body, &[]).await).await;
    assert_eq!(v["stop_reason"], "tool_use");
    let call = &v["content"][0];
    assert_eq!(call["type"], "tool_use");
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["input"], json!({"city": "mock", "days": 42}));
    let id = call["id"].as_str().unwrap();
    assert!(id.starts_with("toolu_"), "{id}");

    // Streamed: input_json_delta fragments concatenate to the same JSON.
    body["stream"] = json!(true);
    let s = read_events(anthropic(&server, &body, &[]).await).await;
    let start = &s.named("content_block_start")[0]["content_block"];
    assert_eq!(start["type"], "tool_use");
    assert_eq!(start["input"], json!({}));
    assert!(start["id"].as_str().unwrap().starts_with("toolu_"));
    let parts: Vec<String> = s
        .named("content_block_delta")
        .iter()
        .map(|d| {
            assert_eq!(d["delta"]["type"], "input_json_delta");
            d["delta"]["partial_json"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(parts.len() >= 3);
    assert!(
        parts
            .iter()
            .all(|p| serde_json::from_str::<Value>(p).is_err())
    );
    let input: Value = serde_json::from_str(&parts.concat()).unwrap();
    assert_eq!(input, json!({"city": "mock", "days": 42}));
    assert_eq!(
        s.named("message_delta")[0]["delta"]["stop_reason"],
        "tool_use"
    );

    // Round trip: tool_result (string, then array of text blocks) gets acknowledged.
    for content in [json!("15 C"), json!([{"type": "text", "text": "15 C"}])] {
        let mut next = user("Please call get_weather for Paris");
        next["tools"] = weather_tool();
        next["messages"].as_array_mut().unwrap().extend([
            json!({"role": "assistant", "content": [call.clone()]}),
            json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id,
                    "content": content}, {"type": "text", "text": "thanks"}]}),
        ]);
        let resp = anthropic(&server, &next, &[]).await;
        assert_eq!(resp.status(), 200);
        // A trailing text block makes the user the last speaker.
        assert_eq!(
            body_json(resp).await["content"][0]["text"],
            "Mock reply: thanks"
        );
        next["messages"][2]["content"].as_array_mut().unwrap().pop();
        let v = body_json(anthropic(&server, &next, &[]).await).await;
        assert_eq!(v["content"][0]["text"], "Tool result received: 15 C");
        assert_eq!(v["stop_reason"], "end_turn");
    }
}

#[tokio::test]
async fn thinking_signature_round_trip_and_forgery() {
    let server = MockServer::start().await.unwrap();
    let question = "Please use the tool get_weather for the city of Paris, thank you";
    let mut body = user(question);
    body["max_tokens"] = json!(4096);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    body["tools"] = weather_tool();
    let v = body_json(anthropic(&server, &body, &[]).await).await;
    let thinking = v["content"][0].clone();
    assert_eq!(thinking["type"], "thinking");
    let quoted: String = question.chars().take(40).collect();
    assert_eq!(
        thinking["thinking"],
        format!("Mock thinking about: {quoted}")
    );
    assert!(!thinking["signature"].as_str().unwrap().is_empty());
    let call = v["content"][1].clone();
    assert_eq!(call["type"], "tool_use");

    let mut next = body.clone();
    next["messages"].as_array_mut().unwrap().extend([
        json!({"role": "assistant", "content": [thinking.clone(), call.clone()]}),
        json!({"role": "user", "content": [{"type": "tool_result",
            "tool_use_id": call["id"], "content": "sunny"}]}),
    ]);
    let resp = anthropic(&server, &next, &[]).await;
    assert_eq!(resp.status(), 200);
    let v = body_json(resp).await;
    assert_eq!(v["content"][0]["type"], "thinking");
    assert_eq!(v["content"][1]["text"], "Tool result received: sunny");

    next["messages"][1]["content"][0]["signature"] = json!("Zm9yZ2Vk");
    let resp = anthropic(&server, &next, &[]).await;
    assert_eq!(resp.status(), 400);
    let v = body_json(resp).await;
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid `signature` in `thinking` block")
    );

    // Streamed thinking: thinking deltas, one signature delta, then the tool block.
    body["stream"] = json!(true);
    let s = read_events(anthropic(&server, &body, &[]).await).await;
    let starts = s.named("content_block_start");
    assert_eq!(
        starts[0]["content_block"],
        json!({"type": "thinking", "thinking": "", "signature": ""})
    );
    assert_eq!(starts[1]["index"], 1);
    assert_eq!(starts[1]["content_block"]["type"], "tool_use");
    let deltas = s.named("content_block_delta");
    let kinds: Vec<&str> = deltas
        .iter()
        .map(|d| d["delta"]["type"].as_str().unwrap())
        .collect();
    let sig_at = kinds.iter().position(|k| *k == "signature_delta").unwrap();
    assert!(kinds[..sig_at].iter().all(|k| *k == "thinking_delta"));
    assert!(kinds[sig_at + 1..].iter().all(|k| *k == "input_json_delta"));
    let streamed: String = deltas[..sig_at]
        .iter()
        .map(|d| d["delta"]["thinking"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(streamed, format!("Mock thinking about: {quoted}"));
    // The streamed signature is accepted in history too.
    let sig = deltas[sig_at]["delta"]["signature"].clone();
    next["messages"][1]["content"][0]["signature"] = sig;
    next["messages"][1]["content"][0]["thinking"] = json!(streamed);
    assert_eq!(anthropic(&server, &next, &[]).await.status(), 200);
}

#[tokio::test]
async fn json_schema_output_and_forced_tool() {
    let server = MockServer::start().await.unwrap();
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"},
        "age": {"type": "integer"}}, "required": ["name", "age"]});
    let mut body = user("extract the person");
    body["output_config"] = json!({"format": {"type": "json_schema", "schema": schema}});
    let v = body_json(anthropic(&server, &body, &[]).await).await;
    let text = v["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        json!({"name": "mock", "age": 42})
    );

    let mut body = user("extract the person");
    body["tools"] = json!([{"name": "record", "input_schema": schema}]);
    body["tool_choice"] = json!({"type": "tool", "name": "record"});
    let v = body_json(anthropic(&server, &body, &[]).await).await;
    assert_eq!(v["content"][0]["name"], "record");
    assert_eq!(v["content"][0]["input"], json!({"name": "mock", "age": 42}));
}

#[tokio::test]
async fn cache_read_fault_adjusts_usage() {
    let server = MockServer::start().await.unwrap();
    let body = user("one two three four five six seven [[mock cache_read=5]]");
    let v = body_json(anthropic(&server, &body, &[]).await).await;
    assert_eq!(v["usage"]["cache_read_input_tokens"], 5);
    assert_eq!(v["usage"]["input_tokens"], 8 - 5);
    let mut body = user("short");
    body["stream"] = json!(true);
    let s =
        read_events(anthropic(&server, &body, &[("x-mock-fault", "cache_read=100")]).await).await;
    let usage = &s.named("message_start")[0]["message"]["usage"];
    assert_eq!(usage["cache_read_input_tokens"], 100);
    assert_eq!(usage["input_tokens"], 0);
}

#[tokio::test]
async fn max_tokens_truncates_with_max_tokens_stop_reason() {
    let server = MockServer::start().await.unwrap();
    let mut body = user("one two three four");
    body["max_tokens"] = json!(3);
    let v = body_json(anthropic(&server, &body, &[]).await).await;
    assert_eq!(v["content"][0]["text"], "Mock reply: one");
    assert_eq!(v["stop_reason"], "max_tokens");
    // Final assistant prefill is accepted.
    body["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "assistant", "content": "Sure:"}));
    assert_eq!(anthropic(&server, &body, &[]).await.status(), 200);
}
