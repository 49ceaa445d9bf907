//! Integration tests: request validation (400) and authentication (401) on the OpenAI wire.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{assert_mentions, body_json, chat, user};

async fn expect_400(server: &MockServer, body: Value, needle: &str) {
    let resp = chat(server, &body, &[]).await;
    assert_eq!(resp.status(), 400, "body {body}");
    let v = body_json(resp).await;
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let msg = v["error"]["message"].as_str().unwrap();
    assert_mentions(msg, needle);
}

fn call(id: &str, args: Value) -> Value {
    json!({"role": "assistant", "content": null, "tool_calls": [{"id": id, "type": "function",
        "function": {"name": "f", "arguments": args}}]})
}

#[tokio::test]
async fn malformed_requests_are_rejected() {
    let server = MockServer::start().await.unwrap();
    let resp = support::client()
        .post(format!("{}/v1/chat/completions", server.url()))
        .header("authorization", "Bearer k")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        body_json(resp).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("parse")
    );

    expect_400(
        &server,
        json!({"messages": [{"role": "user", "content": "a"}]}),
        "model",
    )
    .await;
    expect_400(
        &server,
        json!({"model": "", "messages": [{"role": "user", "content": "a"}]}),
        "model",
    )
    .await;
    expect_400(&server, json!({"model": "m"}), "messages").await;
    expect_400(&server, json!({"model": "m", "messages": []}), "messages").await;
    expect_400(
        &server,
        json!({"model": "m", "messages": [{"role": "robot", "content": "a"}]}),
        "robot",
    )
    .await;
    let mut b = user("a");
    b["stream_options"] = json!({"include_usage": true});
    expect_400(&server, b.clone(), "stream_options").await;
    b["stream"] = json!(false);
    expect_400(&server, b, "stream_options").await;
    let mut b = user("a");
    b["tool_choice"] = json!("required");
    expect_400(&server, b, "tool_choice").await;
}

#[tokio::test]
async fn tool_message_must_answer_an_earlier_call() {
    let server = MockServer::start().await.unwrap();
    let mismatched = json!({"model": "m", "messages": [
        {"role": "user", "content": "a"},
        call("call00001", json!("{}")),
        {"role": "tool", "tool_call_id": "call_other", "content": "r"}]});
    expect_400(&server, mismatched, "call_other").await;

    let before_call = json!({"model": "m", "messages": [
        {"role": "user", "content": "a"},
        {"role": "tool", "tool_call_id": "call00001", "content": "r"},
        call("call00001", json!("{}"))]});
    expect_400(&server, before_call, "tool").await;

    let object_args = json!({"model": "m", "messages": [
        {"role": "user", "content": "a"},
        call("call00001", json!({"x": 1})),
        {"role": "tool", "tool_call_id": "call00001", "content": "r"}]});
    expect_400(&server, object_args, "arguments").await;

    let ok = json!({"model": "m", "messages": [
        {"role": "user", "content": "a"},
        call("call00001", json!("{\"x\":1}")),
        {"role": "tool", "tool_call_id": "call00001", "content": "r"}]});
    assert_eq!(chat(&server, &ok, &[]).await.status(), 200);
}

#[tokio::test]
async fn missing_or_bad_key_is_401() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/v1/chat/completions", server.url());
    let body = user("a").to_string();
    let cases: [Option<(&str, &str)>; 4] = [
        None,
        Some(("authorization", "Bearer ")),
        Some(("authorization", "Bearer bad-key")),
        Some(("x-api-key", "bad-key")),
    ];
    for header in cases {
        let mut req = support::client().post(&url).body(body.clone());
        if let Some((k, v)) = header {
            req = req.header(k, v);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{header:?}");
        let v = body_json(resp).await;
        assert_eq!(
            v,
            json!({"error": {"message": v["error"]["message"], "type": "invalid_request_error",
                             "param": null, "code": "invalid_api_key"}})
        );
    }
    let resp = support::client()
        .post(&url)
        .header("x-api-key", "good")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = support::client()
        .get(format!("{}/v1/models", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn unknown_route_is_openai_404() {
    let server = MockServer::start().await.unwrap();
    let resp = support::client()
        .post(format!("{}/v2/chat", server.url()))
        .header("authorization", "Bearer k")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(body_json(resp).await["error"]["code"], "unknown_url");
    // Unknown routes are still recorded, which helps debug wrong base URLs.
    assert_eq!(server.requests()[0].path, "/v2/chat");
}
