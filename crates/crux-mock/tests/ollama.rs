//! Integration tests: the Ollama native wire (NDJSON chat streams, non-streamed replies, tool
//! calls with object arguments, JSON output, validation, faults, tags/show/version/embed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{
    TRICKY, assert_mentions, body_json, get_with, ollama, ollama_user, post_with, read_raw,
};

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
            "required": ["city"]}}}])
}

fn text_of(lines: &[Value]) -> String {
    lines
        .iter()
        .filter_map(|l| l["message"]["content"].as_str())
        .collect()
}

#[tokio::test]
async fn non_stream_reply_echoes_text_verbatim() {
    let server = MockServer::start().await.unwrap();
    let mut body = ollama_user(TRICKY);
    body["stream"] = json!(false);
    let resp = ollama(&server, &body, &[]).await;
    assert_eq!(resp.status(), 200);
    let v = body_json(resp).await;
    assert_eq!(v["model"], "llama3.2");
    assert_eq!(
        v["message"],
        json!({"role": "assistant", "content": format!("Mock reply: {TRICKY}")})
    );
    assert_eq!(v["done"], true);
    assert_eq!(v["done_reason"], "stop");
    assert_eq!(v["prompt_eval_count"], 7);
    assert_eq!(v["eval_count"], 8);
    for k in [
        "total_duration",
        "load_duration",
        "prompt_eval_duration",
        "eval_duration",
    ] {
        assert!(v[k].as_u64().unwrap() > 0, "{k}");
    }
    let created = v["created_at"].as_str().unwrap();
    assert!(created.starts_with("20") && created.ends_with('Z') && created.contains('T'));
}

#[tokio::test]
async fn streams_ndjson_by_default() {
    let server = MockServer::start().await.unwrap();
    let resp = ollama(&server, &ollama_user(TRICKY), &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let raw = read_raw(resp).await;
    assert!(!raw.error);
    assert!(raw.text().ends_with('\n'));
    let lines = raw.ndjson();
    assert_eq!(lines.len(), raw.lines().len(), "every line is JSON");
    let (last, words) = lines.split_last().unwrap();
    assert_eq!(words.len(), 8);
    assert!(
        words
            .iter()
            .all(|l| l["done"] == false && l["model"] == "llama3.2")
    );
    assert_eq!(text_of(words), format!("Mock reply: {TRICKY}"));
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert_eq!(last["message"]["content"], "");
    assert_eq!(last["prompt_eval_count"], 7);
    assert_eq!(last["eval_count"], 8);
    assert!(server.wait_for_streams(1, Duration::from_secs(2)).await);
    assert!(server.streams()[0].completed);
    assert_eq!(server.streams()[0].path, "/api/chat");
}

#[tokio::test]
async fn tool_call_round_trip_with_object_arguments() {
    let server = MockServer::start().await.unwrap();
    let mut body = ollama_user("Use get_weather for Tokyo");
    body["tools"] = tools();
    body["stream"] = json!(false);
    let v = body_json(ollama(&server, &body, &[]).await).await;
    let calls = v["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0],
        json!({"function": {"name": "get_weather", "arguments": {"city": "mock"}}})
    );
    // Ollama reports `stop` even after a tool call.
    assert_eq!(v["done_reason"], "stop");
    // Streamed: the call comes whole on one non-final line.
    body["stream"] = json!(true);
    let lines = read_raw(ollama(&server, &body, &[]).await).await.ndjson();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0]["message"]["tool_calls"][0]["function"]["arguments"]["city"],
        "mock"
    );
    assert_eq!(lines[0]["done"], false);
    assert_eq!(lines[1]["done_reason"], "stop");
    // Round trip.
    let history = json!({"model": "llama3.2", "stream": false, "tools": tools(), "messages": [
        {"role": "user", "content": "Use get_weather for Tokyo"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather",
            "arguments": {"city": "Tokyo"}}}]},
        {"role": "tool", "tool_name": "get_weather", "content": "{\"temp_c\":21}"}]});
    let v = body_json(ollama(&server, &history, &[]).await).await;
    assert_eq!(
        v["message"]["content"],
        "Tool result received: {\"temp_c\":21}"
    );
}

#[tokio::test]
async fn format_and_num_predict() {
    let server = MockServer::start().await.unwrap();
    let mut body = ollama_user("hi there");
    body["stream"] = json!(false);
    body["format"] = json!("json");
    let v = body_json(ollama(&server, &body, &[]).await).await;
    let out: Value = serde_json::from_str(v["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(out, json!({"reply": "hi there"}));
    body["format"] = json!({"type": "object", "properties": {"answer": {"type": "string"},
        "n": {"type": "integer"}}, "required": ["answer"]});
    let v = body_json(ollama(&server, &body, &[]).await).await;
    let out: Value = serde_json::from_str(v["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(out, json!({"answer": "mock", "n": 42}));
    let mut body = ollama_user("one two three four");
    body["options"] = json!({"num_predict": 3, "temperature": 0.2, "stop": ["END"], "seed": 1});
    let lines = read_raw(ollama(&server, &body, &[]).await).await.ndjson();
    let last = lines.last().unwrap();
    assert_eq!(last["done_reason"], "length");
    assert_eq!(last["eval_count"], 3);
    assert_eq!(text_of(&lines), "Mock reply: one");
}

async fn rejects(server: &MockServer, body: &Value, status: u16, needle: &str) {
    let resp = ollama(server, body, &[]).await;
    assert_eq!(resp.status().as_u16(), status, "{body}");
    let e = body_json(resp).await;
    let msg = e["error"].as_str().unwrap();
    assert_mentions(msg, needle);
}

#[tokio::test]
async fn validation_errors() {
    let server = MockServer::start().await.unwrap();
    rejects(&server, &json!({"messages": []}), 400, "model is required").await;
    let mut body = ollama_user("hi");
    body["messages"][0]["role"] = json!("developer");
    rejects(&server, &body, 400, "invalid message role \"developer\"").await;
    let stringly = json!({"model": "llama3.2", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f",
            "arguments": "{\"city\":\"Tokyo\"}"}}]},
        {"role": "tool", "content": "ok"}]});
    rejects(
        &server,
        &stringly,
        400,
        "json: cannot unmarshal string into Go struct field \
         ChatRequest.messages.tool_calls.function.arguments of type map[string]interface {}",
    )
    .await;
    let mut body = ollama_user("hi");
    body["model"] = json!("missing-model:7b");
    rejects(
        &server,
        &body,
        404,
        "model \"missing-model:7b\" not found, try pulling it first",
    )
    .await;
    let mut body = ollama_user("hi");
    body["messages"][0]["content"] = json!([{"type": "text", "text": "hi"}]);
    rejects(&server, &body, 400, "cannot unmarshal array").await;
    let mut body = ollama_user("look");
    body["messages"][0]["images"] = json!(["data:image/png;base64,iVBORw0KGgo="]);
    rejects(&server, &body, 400, "illegal base64 data at input byte 4").await;
    body["messages"][0]["images"] = json!(["iVBORw0KGgo="]);
    assert_eq!(ollama(&server, &body, &[]).await.status(), 200);
    let mut body = ollama_user("hi");
    body["format"] = json!("xml");
    rejects(&server, &body, 400, "invalid format").await;
    // No auth: any Authorization header is ignored.
    let resp = ollama(
        &server,
        &ollama_user("hi"),
        &[("authorization", "Bearer bad-key")],
    )
    .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn faults_in_ollama_shapes() {
    let server = MockServer::start().await.unwrap();
    let resp = ollama(
        &server,
        &ollama_user("hi"),
        &[("x-mock-fault", "status=429,retry_after=3")],
    )
    .await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");
    let e = body_json(resp).await;
    assert!(e["error"].as_str().unwrap().contains("429"));
    assert_eq!(e.as_object().unwrap().len(), 1);
    for code in [400, 404, 500, 502, 503] {
        let text = format!("hi [[mock status={code}]]");
        let resp = ollama(&server, &ollama_user(&text), &[]).await;
        assert_eq!(resp.status().as_u16(), code);
        assert!(body_json(resp).await["error"].is_string());
    }
    let body = ollama_user("one two three");
    let raw = read_raw(ollama(&server, &body, &[("x-mock-fault", "truncate_after=2")]).await).await;
    assert!(!raw.error);
    let lines = raw.ndjson();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["done"] == false));
    let raw =
        read_raw(ollama(&server, &body, &[("x-mock-fault", "truncate_after=99")]).await).await;
    assert!(raw.ndjson().iter().all(|l| l["done"] == false));
    let raw = read_raw(ollama(&server, &body, &[("x-mock-fault", "mid_error")]).await).await;
    let lines = raw.ndjson();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1], json!({"error": "mock mid-stream failure"}));
    let raw = read_raw(ollama(&server, &body, &[("x-mock-fault", "invalid_json")]).await).await;
    assert!(serde_json::from_str::<Value>(&raw.lines()[1]).is_err());
    assert_eq!(raw.ndjson().last().unwrap()["done"], true);
    let raw = read_raw(ollama(&server, &body, &[("x-mock-fault", "cut_after=1")]).await).await;
    assert!(raw.error);
    assert_eq!(raw.ndjson().len(), 1);
    let mut plain = body.clone();
    plain["stream"] = json!(false);
    let resp = ollama(&server, &plain, &[("x-mock-fault", "mid_error")]).await;
    assert_eq!(
        body_json(resp).await,
        json!({"error": "mock mid-stream failure"})
    );
    assert!(server.wait_for_streams(5, Duration::from_secs(2)).await);
    assert!(
        server
            .streams()
            .iter()
            .all(|s| !s.completed || s.chunks_sent > 3)
    );
}

#[tokio::test]
async fn tags_show_version_and_embed() {
    let server = MockServer::start().await.unwrap();
    let v = body_json(get_with(&server, "/api/tags", &[]).await).await;
    let models = v["models"].as_array().unwrap();
    assert!(models.len() >= 2);
    let first = &models[0];
    assert_eq!(first["name"], "llama3.2:latest");
    assert_eq!(first["model"], "llama3.2:latest");
    assert_eq!(first["details"]["family"], "llama");
    assert_eq!(first["details"]["parameter_size"], "3.2B");
    assert_eq!(first["details"]["quantization_level"], "Q4_K_M");
    assert!(first["size"].as_u64().unwrap() > 0 && first["digest"].is_string());
    let v = body_json(get_with(&server, "/api/version", &[]).await).await;
    assert_eq!(v, json!({"version": "0.6.0"}));
    let v =
        body_json(post_with(&server, "/api/show", &json!({"model": "llama3.2"}), &[]).await).await;
    assert_eq!(v["model_info"]["general.architecture"], "llama");
    assert_eq!(v["model_info"]["llama.context_length"], 131_072);
    assert_eq!(v["capabilities"], json!(["completion", "tools"]));
    let resp = post_with(&server, "/api/show", &json!({"model": "missing-x"}), &[]).await;
    assert_eq!(resp.status(), 404);
    let embed = json!({"model": "nomic-embed-text", "input": ["hi", "yo"], "dimensions": 12});
    let v = body_json(post_with(&server, "/api/embed", &embed, &[]).await).await;
    assert_eq!(v["model"], "nomic-embed-text");
    let embs = v["embeddings"].as_array().unwrap();
    assert_eq!(embs.len(), 2);
    assert_eq!(embs[0].as_array().unwrap().len(), 12);
    assert_ne!(embs[0], embs[1]);
    assert_eq!(v["prompt_eval_count"], 2);
    let single = json!({"model": "nomic-embed-text", "input": "hi", "dimensions": 12});
    let v2 = body_json(post_with(&server, "/api/embed", &single, &[]).await).await;
    assert_eq!(v2["embeddings"][0], embs[0]);
    let resp = post_with(&server, "/api/embed", &json!({"input": "x"}), &[]).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn requests_are_recorded() {
    let server = MockServer::start().await.unwrap();
    let mut body = ollama_user("hi");
    body["keep_alive"] = json!("5m");
    body["think"] = json!(false);
    ollama(&server, &body, &[]).await;
    get_with(&server, "/api/tags", &[]).await;
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("POST", "/api/chat")
    );
    assert_eq!(reqs[0].body, body);
    assert!(reqs[0].header("authorization").is_none());
    assert_eq!(
        (reqs[1].method.as_str(), reqs[1].path.as_str()),
        ("GET", "/api/tags")
    );
}
