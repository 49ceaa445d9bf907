//! Integration tests: deterministic chat replies (non-stream, stream, tools, formats, usage).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{TRICKY, body_json, chat, read_sse, user};

fn weather_tool() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"},
            "days": {"type": "integer"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"]}}}])
}

#[tokio::test]
async fn non_stream_reply_echoes_text_verbatim() {
    let server = MockServer::start().await.unwrap();
    let resp = chat(&server, &user(TRICKY), &[]).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req-chatcmpl-mock-")
    );
    let v = body_json(resp).await;
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "gpt-4o-mini");
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-mock-"));
    assert!(v["created"].as_u64().unwrap() > 0);
    assert!(v["system_fingerprint"].is_string());
    let choice = &v["choices"][0];
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(
        choice["message"]["content"],
        format!("Mock reply: {TRICKY}")
    );
    assert_eq!(choice["finish_reason"], "stop");
    let usage = &v["usage"];
    // 6 words + 1 message; reply = 2 + 6 words.
    assert_eq!(usage["prompt_tokens"], 7);
    assert_eq!(usage["completion_tokens"], 8);
    assert_eq!(usage["total_tokens"], 15);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 0);
}

#[tokio::test]
async fn content_parts_are_joined_and_root_path_works() {
    let server = MockServer::start().await.unwrap();
    let body = json!({"model": "m", "messages": [
        {"role": "system", "content": [{"type": "text", "text": "sys"}]},
        {"role": "user", "content": [{"type": "text", "text": "a"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
            {"type": "text", "text": " b "}]}]});
    let resp = support::post(&server, "/chat/completions", &body, &[]).await;
    let v = body_json(resp).await;
    assert_eq!(v["choices"][0]["message"]["content"], "Mock reply: a\n b ");
}

#[tokio::test]
async fn stream_chunks_concatenate_and_end_with_done() {
    let server = MockServer::start().await.unwrap();
    let mut body = user(TRICKY);
    body["stream"] = json!(true);
    let resp = chat(&server, &body, &[]).await;
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let sse = read_sse(resp).await;
    assert!(!sse.error);
    assert!(sse.done());
    let chunks = sse.json();
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    // role chunk, one chunk per word of "Mock reply: <6 words>", finish chunk
    assert_eq!(chunks.len(), 1 + 8 + 1);
    assert_eq!(sse.text(), format!("Mock reply: {TRICKY}"));
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["delta"], json!({}));
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert!(server.wait_for_streams(1, support::LIMIT).await);
    let rec = &server.streams()[0];
    assert!(rec.completed && !rec.client_disconnected);
    assert_eq!(rec.chunks_sent, chunks.len() + 1);
    assert_eq!(rec.path, "/v1/chat/completions");
}

#[tokio::test]
async fn usage_chunk_only_with_include_usage() {
    let server = MockServer::start().await.unwrap();
    let mut body = user("count these words");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let sse = read_sse(chat(&server, &body, &[]).await).await;
    let chunks = sse.json();
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 4);
    assert_eq!(last["usage"]["completion_tokens"], 5);
    assert_eq!(last["usage"]["total_tokens"], 9);
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c["usage"].is_null())
    );
    assert!(sse.done());

    body["stream_options"] = json!({"include_usage": false});
    let sse = read_sse(chat(&server, &body, &[]).await).await;
    assert!(sse.json().iter().all(|c| c.get("usage").is_none()));
}

#[tokio::test]
async fn tool_call_non_stream() {
    let server = MockServer::start().await.unwrap();
    let mut body = user("What is the weather? use a Tool");
    body["tools"] = weather_tool();
    let v = body_json(chat(&server, &body, &[]).await).await;
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert!(choice["message"]["content"].is_null());
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["id"], "call00001");
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "mock", "days": 42, "unit": "c"}));

    // No trigger word and tool_choice auto → text; tool_choice required → tool call.
    let mut plain = user("hello");
    plain["tools"] = weather_tool();
    let v = body_json(chat(&server, &plain, &[]).await).await;
    assert_eq!(v["choices"][0]["message"]["content"], "Mock reply: hello");
    plain["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
    let v = body_json(chat(&server, &plain, &[]).await).await;
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"][0]["id"],
        "call00002"
    );
    body["tool_choice"] = json!("none");
    let v = body_json(chat(&server, &body, &[]).await).await;
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn tool_call_stream_fragments() {
    let server = MockServer::start().await.unwrap();
    let mut body = user("please call get_weather");
    body["tools"] = weather_tool();
    body["stream"] = json!(true);
    let sse = read_sse(chat(&server, &body, &[]).await).await;
    assert!(sse.done());
    let chunks = sse.json();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let first = &chunks[1]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(first["index"], 0);
    assert_eq!(first["id"], "call00001");
    assert_eq!(first["type"], "function");
    assert_eq!(first["function"]["name"], "get_weather");
    assert_eq!(first["function"]["arguments"], "");
    let mut args = String::new();
    let mut fragments = 0;
    for c in &chunks[2..] {
        if let Some(tc) = c["choices"][0]["delta"]["tool_calls"].get(0) {
            assert_eq!(tc["index"], 0);
            assert!(tc.get("id").is_none() && tc.get("type").is_none());
            args.push_str(tc["function"]["arguments"].as_str().unwrap());
            fragments += 1;
        }
    }
    assert!(fragments >= 3, "only {fragments} fragments");
    let parsed: Value = serde_json::from_str(&args).unwrap();
    assert_eq!(parsed["city"], "mock");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn tool_result_turn() {
    let server = MockServer::start().await.unwrap();
    let body = json!({"model": "gpt-4o", "tools": weather_tool(), "messages": [
        {"role": "user", "content": "Weather in Paris? use the tool"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call00001", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call00001", "content": "{\"temp_c\": 15}\n"}]});
    let v = body_json(chat(&server, &body, &[]).await).await;
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Tool result received: {\"temp_c\": 15}\n"
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn json_object_and_json_schema_outputs_parse() {
    let server = MockServer::start().await.unwrap();
    let mut body = user("say \"hi\"\n\\ please");
    body["response_format"] = json!({"type": "json_object"});
    let v = body_json(chat(&server, &body, &[]).await).await;
    let text = v["choices"][0]["message"]["content"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(text).unwrap();
    assert_eq!(parsed, json!({"reply": "say \"hi\"\n\\ please"}));

    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "out",
        "strict": true, "schema": {"type": "object", "properties": {
            "name": {"type": "string"}, "age": {"type": "integer"}, "score": {"type": "number"},
            "ok": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}},
            "kind": {"enum": ["a", "b"]}, "fixed": {"const": "x"},
            "pet": {"$ref": "#/$defs/Pet"}, "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
        "$defs": {"Pet": {"type": "object", "properties": {"legs": {"type": "integer"}}}}}}});
    let v = body_json(chat(&server, &body, &[]).await).await;
    let text = v["choices"][0]["message"]["content"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        parsed,
        json!({"name": "mock", "age": 42, "score": 4.2, "ok": true, "tags": ["mock"],
               "kind": "a", "fixed": "x", "pet": {"legs": 42}, "maybe": "mock"})
    );
}

#[tokio::test]
async fn max_tokens_truncates_with_length() {
    let server = MockServer::start().await.unwrap();
    let mut body = user("one two three four five");
    body["max_completion_tokens"] = json!(4);
    let v = body_json(chat(&server, &body, &[]).await).await;
    assert_eq!(v["choices"][0]["message"]["content"], "Mock reply: one two");
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["usage"]["completion_tokens"], 4);

    body["stream"] = json!(true);
    let sse = read_sse(chat(&server, &body, &[]).await).await;
    assert_eq!(sse.text(), "Mock reply: one two");
    assert_eq!(
        sse.json().last().unwrap()["choices"][0]["finish_reason"],
        "length"
    );
}
