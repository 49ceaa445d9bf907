//! Integration tests: Anthropic Messages request validation, auth headers, scripted faults,
//! the paginated model list and recording.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{
    anthropic, assert_mentions, body_json, get_with, post_with, read_events, read_events_within,
    streaming,
};

fn base(messages: Value) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": messages})
}

fn says(text: &str) -> Value {
    base(json!([{"role": "user", "content": text}]))
}

fn hi() -> Value {
    says("hi")
}

fn tool_use(id: &str) -> Value {
    json!({"type": "tool_use", "id": id, "name": "f", "input": {}})
}

fn tool_result(id: &str) -> Value {
    json!({"type": "tool_result", "tool_use_id": id, "content": "ok"})
}

async fn expect_400(server: &MockServer, body: Value, needle: &str) {
    let resp = anthropic(server, &body, &[]).await;
    assert_eq!(resp.status(), 400, "body {body}");
    let v = body_json(resp).await;
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let msg = v["error"]["message"].as_str().unwrap();
    assert_mentions(msg, needle);
}

#[tokio::test]
async fn validation_rejections() {
    let server = MockServer::start().await.unwrap();
    let mut b = hi();
    b.as_object_mut().unwrap().remove("max_tokens");
    expect_400(&server, b, "max_tokens: Field required").await;
    let mut b = hi();
    b.as_object_mut().unwrap().remove("messages");
    expect_400(&server, b, "messages: Field required").await;
    expect_400(&server, base(json!([])), "at least one message").await;
    expect_400(
        &server,
        base(json!([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}])),
        "Input should be 'user' or 'assistant'",
    )
    .await;
    expect_400(
        &server,
        base(json!([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])),
        "roles must alternate",
    )
    .await;
    expect_400(
        &server,
        base(json!([{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}])),
        "first message must use the \"user\" role",
    )
    .await;
    expect_400(
        &server,
        base(json!([{"role": "user", "content": ""}])),
        "non-empty content",
    )
    .await;
    expect_400(
        &server,
        base(json!([{"role": "user", "content": []}, {"role": "assistant", "content": "x"}])),
        "non-empty content",
    )
    .await;
    let mut b = hi();
    b["temperature"] = json!(1.5);
    expect_400(&server, b, "temperature").await;
    let mut b = hi();
    b["temperature"] = json!(-0.1);
    expect_400(&server, b, "temperature").await;
    let mut b = hi();
    b["response_format"] = json!({"type": "json_object"});
    expect_400(
        &server,
        b,
        "response_format: Extra inputs are not permitted",
    )
    .await;
    let mut b = hi();
    b["tools"] = json!([{"type": "function", "function": {"name": "f"}}]);
    expect_400(&server, b, "tools.0").await;
    let mut b = hi();
    b["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    expect_400(&server, b, "max_tokens").await;
    let mut b = hi();
    b["max_tokens"] = json!(4096);
    b["thinking"] = json!({"type": "enabled", "budget_tokens": 100});
    expect_400(&server, b.clone(), "budget_tokens").await;
    b["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    b["temperature"] = json!(0.5);
    expect_400(&server, b.clone(), "temperature").await;
    b["temperature"] = json!(1.0);
    b["tools"] = json!([{"name": "f", "input_schema": {"type": "object"}}]);
    b["tool_choice"] = json!({"type": "any"});
    expect_400(&server, b.clone(), "forces tool use").await;
    b["tool_choice"] = json!({"type": "auto"});
    assert_eq!(anthropic(&server, &b, &[]).await.status(), 200);
    let mut b = hi();
    b["system"] = json!([{"type": "image"}]);
    expect_400(&server, b, "system.0.type").await;
    // Empty final assistant prefill is fine; temperature 1 is fine.
    let mut b = base(json!([{"role": "user", "content": "a"},
                            {"role": "assistant", "content": ""}]));
    b["temperature"] = json!(1);
    assert_eq!(anthropic(&server, &b, &[]).await.status(), 200);
}

#[tokio::test]
async fn tool_pairing_rules() {
    let server = MockServer::start().await.unwrap();
    // tool_result with an id that the previous assistant turn did not use.
    expect_400(
        &server,
        base(json!([{"role": "user", "content": "a"},
            {"role": "assistant", "content": [tool_use("toolu_1")]},
            {"role": "user", "content": [tool_result("toolu_2")]}])),
        "unexpected `tool_use_id` found in `tool_result` blocks: toolu_2",
    )
    .await;
    // tool_use left unanswered (next user message has only text).
    expect_400(
        &server,
        base(json!([{"role": "user", "content": "a"},
            {"role": "assistant", "content": [tool_use("toolu_1")]},
            {"role": "user", "content": "b"}])),
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: \
         toolu_1",
    )
    .await;
    // tool_result not at the start of the user message.
    expect_400(
        &server,
        base(json!([{"role": "user", "content": "a"},
            {"role": "assistant", "content": [tool_use("toolu_1")]},
            {"role": "user", "content": [{"type": "text", "text": "x"},
                                         tool_result("toolu_1")]}])),
        "without `tool_result` blocks immediately after",
    )
    .await;
    // Only one of two tool uses answered.
    expect_400(
        &server,
        base(json!([{"role": "user", "content": "a"},
            {"role": "assistant", "content": [tool_use("toolu_1"), tool_use("toolu_2")]},
            {"role": "user", "content": [tool_result("toolu_1")]}])),
        "toolu_2",
    )
    .await;
    // tool_result answering a tool_use from two turns back.
    expect_400(
        &server,
        base(json!([{"role": "user", "content": "a"},
            {"role": "assistant", "content": [tool_use("toolu_1")]},
            {"role": "user", "content": [tool_result("toolu_1")]},
            {"role": "assistant", "content": "done"},
            {"role": "user", "content": [tool_result("toolu_1")]}])),
        "unexpected `tool_use_id`",
    )
    .await;
    // tool_use input must be an object.
    expect_400(
        &server,
        base(json!([{"role": "user", "content": "a"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f",
                                               "input": "{}"}]},
            {"role": "user", "content": [tool_result("t")]}])),
        "valid dictionary",
    )
    .await;
    let ok = base(json!([{"role": "user", "content": "a"},
        {"role": "assistant", "content": [{"type": "text", "text": "let me"},
                                          tool_use("toolu_1"), tool_use("toolu_2")]},
        {"role": "user", "content": [tool_result("toolu_2"), tool_result("toolu_1"),
                                     {"type": "text", "text": "go on"}]}]));
    assert_eq!(anthropic(&server, &ok, &[]).await.status(), 200);
}

#[tokio::test]
async fn auth_and_version_headers() {
    let server = MockServer::start().await.unwrap();
    let v = "2023-06-01";
    let cases: [&[(&str, &str)]; 4] = [
        &[("anthropic-version", v)],
        &[("anthropic-version", v), ("x-api-key", "")],
        &[("anthropic-version", v), ("x-api-key", "bad-key")],
        &[("anthropic-version", v), ("authorization", "Bearer sk-ant")],
    ];
    for headers in cases {
        let resp = post_with(&server, "/v1/messages", &hi(), headers).await;
        assert_eq!(resp.status(), 401, "{headers:?}");
        assert_eq!(
            body_json(resp).await,
            json!({"type": "error", "error": {"type": "authentication_error",
                                              "message": "invalid x-api-key"}})
        );
    }
    let resp = post_with(&server, "/v1/messages", &hi(), &[("x-api-key", "k")]).await;
    assert_eq!(resp.status(), 400);
    let v = body_json(resp).await;
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("anthropic-version")
    );
}

#[tokio::test]
async fn status_faults_use_anthropic_error_bodies() {
    let server = MockServer::start().await.unwrap();
    let cases = [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (503, "api_error"),
        (529, "overloaded_error"),
    ];
    for (status, kind) in cases {
        let spec = format!("status={status}");
        let resp = anthropic(&server, &hi(), &[("x-mock-fault", &spec)]).await;
        assert_eq!(resp.status().as_u16(), status);
        let v = body_json(resp).await;
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], kind, "status {status}");
        assert!(v["error"]["message"].is_string());
    }
    let body = base(json!([{"role": "user", "content": [
        {"type": "text", "text": "hello"},
        {"type": "text", "text": "[[mock status=429 retry_after=3 should_retry=true]]"}]}]));
    let resp = anthropic(&server, &body, &[]).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");
    assert_eq!(resp.headers()["x-should-retry"], "true");
    assert_eq!(body_json(resp).await["error"]["type"], "rate_limit_error");
    // times=1: second identical request succeeds.
    let once = [("x-mock-fault", "status=529,times=1")];
    assert_eq!(anthropic(&server, &hi(), &once).await.status(), 529);
    assert_eq!(anthropic(&server, &hi(), &once).await.status(), 200);
}

#[tokio::test]
async fn stream_faults() {
    let server = MockServer::start().await.unwrap();
    let text = "one two three four five six";
    // truncate_after: clean end without message_stop.
    let s = read_events(
        anthropic(
            &server,
            &streaming(says(text)),
            &[("x-mock-fault", "truncate_after=3")],
        )
        .await,
    )
    .await;
    assert!(!s.error);
    assert_eq!(
        s.names(),
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta"
        ]
    );
    assert!(server.wait_for_streams(1, support::LIMIT).await);
    assert!(!server.streams()[0].completed);
    // truncate beyond the body: everything but message_stop.
    let s = read_events(
        anthropic(
            &server,
            &streaming(says(text)),
            &[("x-mock-fault", "truncate_after=99")],
        )
        .await,
    )
    .await;
    assert_eq!(s.names().last(), Some(&"message_delta"));
    // mid_error: an error event after the first content event, then close.
    let s = read_events(
        anthropic(
            &server,
            &streaming(says(text)),
            &[("x-mock-fault", "mid_error")],
        )
        .await,
    )
    .await;
    assert!(!s.error);
    assert_eq!(
        s.names(),
        ["message_start", "ping", "content_block_start", "error"]
    );
    assert_eq!(
        s.events[3].json(),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    // cut_after: transport error after some events.
    let s = read_events(
        anthropic(
            &server,
            &streaming(says(text)),
            &[("x-mock-fault", "cut_after=2")],
        )
        .await,
    )
    .await;
    assert!(s.error);
    assert!(!s.names().contains(&"message_stop"));
    // invalid_json: one event whose data is not JSON; the stream still completes.
    let s = read_events(
        anthropic(
            &server,
            &streaming(says(text)),
            &[("x-mock-fault", "invalid_json")],
        )
        .await,
    )
    .await;
    assert!(s.events.iter().any(|e| e.json().is_null()));
    assert_eq!(s.names().last(), Some(&"message_stop"));
    // stall_after with a short stall: the stream ends after the stall, unterminated.
    let s = read_events_within(
        anthropic(
            &server,
            &streaming(says(text)),
            &[("x-mock-fault", "stall_after=1,stall_ms=50")],
        )
        .await,
        Duration::from_secs(5),
    )
    .await;
    assert!(!s.names().contains(&"message_stop"));
    // Non-streamed invalid_json and mid_error.
    let resp = anthropic(&server, &hi(), &[("x-mock-fault", "invalid_json")]).await;
    let raw = resp.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&raw).is_err());
    let resp = anthropic(&server, &hi(), &[("x-mock-fault", "mid_error")]).await;
    assert_eq!(body_json(resp).await["error"]["type"], "overloaded_error");
}

#[tokio::test]
async fn models_pagination_and_dispatch() {
    let server = MockServer::start().await.unwrap();
    let h = [("x-api-key", "k"), ("anthropic-version", "2023-06-01")];
    let all = body_json(get_with(&server, "/v1/models", &h).await).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 3);
    assert_eq!(all["has_more"], false);
    assert_eq!(
        all["data"][0],
        json!({"type": "model", "id": "claude-3-5-haiku-latest",
               "display_name": "Claude Haiku 3.5", "created_at": "2024-10-22T00:00:00Z"})
    );
    let page = body_json(get_with(&server, "/v1/models?limit=2", &h).await).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert_eq!(page["has_more"], true);
    assert_eq!(page["first_id"], all["data"][0]["id"]);
    assert_eq!(page["last_id"], all["data"][1]["id"]);
    let last = page["last_id"].as_str().unwrap();
    let rest =
        body_json(get_with(&server, &format!("/v1/models?limit=2&after_id={last}"), &h).await)
            .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["has_more"], false);
    assert_eq!(rest["first_id"], all["data"][2]["id"]);
    let one = body_json(get_with(&server, "/v1/models/claude-3-5-haiku-latest", &h).await).await;
    assert_eq!(one["display_name"], "Claude Haiku 3.5");
    let resp = get_with(&server, "/v1/models/nope", &h).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(body_json(resp).await["error"]["type"], "not_found_error");
    let resp = get_with(&server, "/v1/models?limit=0", &h).await;
    assert_eq!(resp.status(), 400);
    let resp = get_with(
        &server,
        "/v1/models",
        &[("anthropic-version", "2023-06-01")],
    )
    .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        body_json(resp).await["error"]["type"],
        "authentication_error"
    );
    // Without anthropic-version the OpenAI list answers.
    let openai =
        body_json(get_with(&server, "/v1/models", &[("authorization", "Bearer k")]).await).await;
    assert_eq!(openai["object"], "list");
}

#[tokio::test]
async fn requests_and_streams_are_recorded() {
    let server = MockServer::start().await.unwrap();
    let body = base(json!([{"role": "user", "content": "record me"}]));
    anthropic(&server, &body, &[]).await;
    let s = read_events(anthropic(&server, &streaming(says("x")), &[]).await).await;
    assert_eq!(s.names().last(), Some(&"message_stop"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/v1/messages");
    assert_eq!(reqs[0].header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(reqs[0].header("x-api-key"), Some("sk-ant-test"));
    assert_eq!(reqs[0].body, body);
    assert!(server.wait_for_streams(1, support::LIMIT).await);
    let rec = &server.streams()[0];
    assert_eq!(rec.path, "/v1/messages");
    assert!(rec.completed);
}
