//! Integration tests: the OpenAI Responses wire (replies, streaming events, function calls,
//! reasoning items, structured output, incomplete responses).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{TRICKY, body_json, read_events, responses};

fn input(text: &str) -> Value {
    json!({"model": "gpt-4.1", "input": text})
}

fn weather_tool() -> Value {
    json!([{"type": "function", "name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}, "strict": true}])
}

fn output_text(v: &Value) -> String {
    let msg = v["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "message")
        .unwrap();
    msg["content"][0]["text"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn non_stream_reply_echoes_text_verbatim() {
    let server = MockServer::start().await.unwrap();
    let resp = responses(&server, &input(TRICKY), &[]).await;
    assert_eq!(resp.status(), 200);
    let v = body_json(resp).await;
    assert!(v["id"].as_str().unwrap().starts_with("resp_mock_"));
    assert_eq!(v["object"], "response");
    assert!(v["created_at"].as_u64().unwrap() > 0);
    assert_eq!(v["status"], "completed");
    assert_eq!(v["model"], "gpt-4.1");
    assert!(v["incomplete_details"].is_null());
    assert!(v["error"].is_null());
    let item = &v["output"][0];
    assert_eq!(item["type"], "message");
    assert!(item["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(item["role"], "assistant");
    assert_eq!(item["status"], "completed");
    assert_eq!(
        item["content"],
        json!([{"type": "output_text", "text": format!("Mock reply: {TRICKY}"),
                "annotations": []}])
    );
    assert_eq!(
        v["usage"],
        json!({"input_tokens": 7, "input_tokens_details": {"cached_tokens": 0},
               "output_tokens": 8, "output_tokens_details": {"reasoning_tokens": 0},
               "total_tokens": 15})
    );
}

#[tokio::test]
async fn input_items_instructions_and_root_path() {
    let server = MockServer::start().await.unwrap();
    let body = json!({"model": "gpt-4.1", "instructions": "be terse", "store": false,
        "input": [
            {"role": "developer", "content": "dev"},
            {"role": "user", "content": "first"},
            {"type": "message", "role": "assistant",
             "content": [{"type": "output_text", "text": "earlier"}]},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "a"},
                {"type": "input_image", "image_url": "https://example.com/a.png"},
                {"type": "input_text", "text": "b"}]}]});
    let resp = support::post_with(
        &server,
        "/responses",
        &body,
        &[("authorization", "Bearer k")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let v = body_json(resp).await;
    assert_eq!(output_text(&v), "Mock reply: a\nb");
    assert_eq!(v["instructions"], "be terse");
    assert_eq!(v["store"], false);
}

#[tokio::test]
async fn stream_event_sequence() {
    let server = MockServer::start().await.unwrap();
    let mut body = input(TRICKY);
    body["stream"] = json!(true);
    let resp = responses(&server, &body, &[]).await;
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let s = read_events(resp).await;
    assert!(!s.error);
    assert!(!s.raw.contains("[DONE]"));
    let mut expected = vec![
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ];
    expected.extend(["response.output_text.delta"; 8]);
    expected.extend([
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]);
    assert_eq!(s.names(), expected);
    for (i, e) in s.events.iter().enumerate() {
        let v = e.json();
        assert_eq!(v["type"], e.name.as_str());
        assert_eq!(v["sequence_number"], i);
    }
    let created = &s.named("response.created")[0]["response"];
    assert_eq!(created["status"], "in_progress");
    assert_eq!(created["output"], json!([]));
    let deltas = s.named("response.output_text.delta");
    let item_id = deltas[0]["item_id"].clone();
    assert!(item_id.as_str().unwrap().starts_with("msg_"));
    let text: String = deltas
        .iter()
        .map(|d| {
            assert_eq!(d["item_id"], item_id);
            assert_eq!(d["output_index"], 0);
            assert_eq!(d["content_index"], 0);
            d["delta"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(text, format!("Mock reply: {TRICKY}"));
    assert_eq!(s.named("response.output_text.done")[0]["text"], text);
    let done = &s.named("response.completed")[0]["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(output_text(done), text);
    assert_eq!(done["usage"]["total_tokens"], 15);
    assert!(server.wait_for_streams(1, support::LIMIT).await);
    let rec = &server.streams()[0];
    assert!(rec.completed);
    assert_eq!(rec.path, "/v1/responses");
    assert_eq!(rec.chunks_sent, s.events.len());
}

#[tokio::test]
async fn function_call_and_output_round_trip() {
    let server = MockServer::start().await.unwrap();
    let mut body = input("call get_weather for Paris");
    body["tools"] = weather_tool();
    let v = body_json(responses(&server, &body, &[]).await).await;
    assert_eq!(v["status"], "completed");
    let call = v["output"][0].clone();
    assert_eq!(call["type"], "function_call");
    assert!(call["id"].as_str().unwrap().starts_with("fc_"));
    let call_id = call["call_id"].as_str().unwrap().to_owned();
    assert!(call_id.starts_with("call_"), "{call_id}");
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["status"], "completed");
    let args: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "mock"}));

    body["stream"] = json!(true);
    let s = read_events(responses(&server, &body, &[]).await).await;
    assert_eq!(
        s.names()[..3],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added"
        ]
    );
    let added = &s.named("response.output_item.added")[0]["item"];
    assert_eq!(added["type"], "function_call");
    assert_eq!(added["arguments"], "");
    let parts: Vec<String> = s
        .named("response.function_call_arguments.delta")
        .iter()
        .map(|d| d["delta"].as_str().unwrap().to_owned())
        .collect();
    assert!(parts.len() >= 3);
    let joined = parts.concat();
    assert_eq!(
        serde_json::from_str::<Value>(&joined).unwrap(),
        json!({"city": "mock"})
    );
    assert_eq!(
        s.named("response.function_call_arguments.done")[0]["arguments"],
        joined
    );
    assert_eq!(
        s.named("response.output_item.done")[0]["item"]["arguments"],
        joined
    );
    assert_eq!(s.names().last(), Some(&"response.completed"));

    let next = json!({"model": "gpt-4.1", "tools": weather_tool(), "input": [
        {"role": "user", "content": "call get_weather for Paris"},
        {"type": "function_call", "call_id": call_id, "name": "get_weather",
         "arguments": call["arguments"]},
        {"type": "function_call_output", "call_id": call_id, "output": "{\"temp_c\":15}"}]});
    let v = body_json(responses(&server, &next, &[]).await).await;
    assert_eq!(output_text(&v), "Tool result received: {\"temp_c\":15}");
}

#[tokio::test]
async fn reasoning_items_and_tokens() {
    let server = MockServer::start().await.unwrap();
    let mut body = json!({"model": "o4-mini", "input": "think hard",
        "reasoning": {"effort": "low"}, "include": ["reasoning.encrypted_content"]});
    let v = body_json(responses(&server, &body, &[]).await).await;
    let rs = v["output"][0].clone();
    assert_eq!(rs["type"], "reasoning");
    assert!(rs["id"].as_str().unwrap().starts_with("rs_"));
    assert_eq!(rs["summary"], json!([]));
    assert!(rs["encrypted_content"].is_string());
    assert_eq!(output_text(&v), "Mock reply: think hard");
    let reasoning = v["usage"]["output_tokens_details"]["reasoning_tokens"]
        .as_u64()
        .unwrap();
    assert!(reasoning > 0);
    assert_eq!(v["usage"]["output_tokens"], 4 + reasoning);
    // Reasoning items passed back in input are accepted.
    let next = json!({"model": "o4-mini", "input": [
        {"role": "user", "content": "think hard"}, rs,
        {"role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
        {"role": "user", "content": "again"}]});
    assert_eq!(responses(&server, &next, &[]).await.status(), 200);

    body["stream"] = json!(true);
    let s = read_events(responses(&server, &body, &[]).await).await;
    let added = s.named("response.output_item.added");
    assert_eq!(added[0]["item"]["type"], "reasoning");
    assert_eq!(added[0]["output_index"], 0);
    assert_eq!(added[1]["item"]["type"], "message");
    assert_eq!(added[1]["output_index"], 1);
    assert_eq!(s.named("response.output_text.delta")[0]["output_index"], 1);
    let done = &s.named("response.completed")[0]["response"];
    assert_eq!(
        done["usage"]["output_tokens_details"]["reasoning_tokens"],
        reasoning
    );
}

#[tokio::test]
async fn structured_output_formats() {
    let server = MockServer::start().await.unwrap();
    let mut body = input("extract");
    body["text"] = json!({"format": {"type": "json_schema", "name": "person", "strict": true,
        "schema": {"type": "object", "properties": {"name": {"type": "string"},
                   "age": {"type": "integer"}}, "required": ["name", "age"]}}});
    let v = body_json(responses(&server, &body, &[]).await).await;
    let parsed: Value = serde_json::from_str(&output_text(&v)).unwrap();
    assert_eq!(parsed, json!({"name": "mock", "age": 42}));
    body["text"] = json!({"format": {"type": "json_object"}});
    let v = body_json(responses(&server, &body, &[]).await).await;
    let parsed: Value = serde_json::from_str(&output_text(&v)).unwrap();
    assert_eq!(parsed, json!({"reply": "extract"}));
}

#[tokio::test]
async fn max_output_tokens_gives_incomplete() {
    let server = MockServer::start().await.unwrap();
    let mut body = input("one two three four");
    body["max_output_tokens"] = json!(3);
    let v = body_json(responses(&server, &body, &[]).await).await;
    assert_eq!(v["status"], "incomplete");
    assert_eq!(
        v["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(output_text(&v), "Mock reply: one");
    assert_eq!(v["output"][0]["status"], "incomplete");
    body["stream"] = json!(true);
    let s = read_events(responses(&server, &body, &[]).await).await;
    assert_eq!(s.names().last(), Some(&"response.incomplete"));
    let last = &s.named("response.incomplete")[0]["response"];
    assert_eq!(last["status"], "incomplete");
    assert_eq!(last["usage"]["output_tokens"], 3);
}
