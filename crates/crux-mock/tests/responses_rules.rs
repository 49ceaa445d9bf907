//! Integration tests: OpenAI Responses request validation, auth, scripted faults and recording.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{assert_mentions, body_json, post_with, read_events, responses, streaming};

fn input(model: &str, text: &str) -> Value {
    json!({"model": model, "input": text})
}

async fn expect_400(server: &MockServer, body: Value, needle: &str, param: Option<&str>) {
    let resp = responses(server, &body, &[]).await;
    assert_eq!(resp.status(), 400, "body {body}");
    let v = body_json(resp).await;
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let msg = v["error"]["message"].as_str().unwrap();
    assert_mentions(msg, needle);
    if let Some(p) = param {
        assert_eq!(v["error"]["param"], p);
    }
}

#[tokio::test]
async fn validation_rejections() {
    let server = MockServer::start().await.unwrap();
    for model in ["o1", "o3-mini", "o4-mini", "gpt-5", "gpt-5-nano"] {
        let mut b = input(model, "hi");
        b["temperature"] = json!(0.2);
        expect_400(
            &server,
            b,
            "Unsupported parameter: 'temperature' is not supported with this model.",
            Some("temperature"),
        )
        .await;
        let mut b = input(model, "hi");
        b["top_p"] = json!(0.5);
        expect_400(&server, b, "Unsupported parameter: 'top_p'", Some("top_p")).await;
        let mut b = input(model, "hi");
        b["temperature"] = json!(1);
        assert_eq!(responses(&server, &b, &[]).await.status(), 200);
    }
    let mut b = input("gpt-4.1", "hi");
    b["temperature"] = json!(0.2);
    assert_eq!(responses(&server, &b, &[]).await.status(), 200);
    for key in ["max_tokens", "max_completion_tokens"] {
        let mut b = input("gpt-4.1", "hi");
        b[key] = json!(10);
        expect_400(&server, b, "Unsupported parameter", Some(key)).await;
    }
    let b = json!({"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]});
    expect_400(
        &server,
        b,
        "Unsupported parameter: 'messages'",
        Some("messages"),
    )
    .await;
    let b = json!({"model": "gpt-4.1", "input": [
        {"type": "function_call", "call_id": "call_a", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_b", "output": "x"}]});
    expect_400(&server, b, "call_b", Some("input[1].call_id")).await;
    // Output before its call.
    let b = json!({"model": "gpt-4.1", "input": [
        {"type": "function_call_output", "call_id": "call_a", "output": "x"},
        {"type": "function_call", "call_id": "call_a", "name": "f", "arguments": "{}"}]});
    expect_400(&server, b, "call_a", None).await;
    // Chat-style nested function tool.
    let mut b = input("gpt-4.1", "hi");
    b["tools"] = json!([{"type": "function", "function": {"name": "f", "parameters": {}}}]);
    expect_400(&server, b, "'tools[0].name'", None).await;
    // Chat-style nested json_schema format.
    let mut b = input("gpt-4.1", "hi");
    b["text"] = json!({"format": {"type": "json_schema", "json_schema": {"name": "x"}}});
    expect_400(&server, b, "text.format.name", None).await;
    // Chat-style content parts.
    let b = json!({"model": "gpt-4.1", "input": [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]}]});
    expect_400(&server, b, "Invalid value: 'text'", None).await;
    let b = json!({"model": "gpt-4.1", "input": [{"role": "user", "content": "a"},
        {"role": "assistant", "content": [{"type": "input_text", "text": "hi"}]}]});
    expect_400(&server, b, "'output_text' and 'refusal'", None).await;
    expect_400(
        &server,
        json!({"model": "gpt-4.1"}),
        "'input'",
        Some("input"),
    )
    .await;
    expect_400(&server, json!({"input": "hi"}), "model", Some("model")).await;
    let mut b = input("gpt-4.1", "hi");
    b["tool_choice"] = json!({"type": "function", "name": "missing"});
    b["tools"] = json!([{"type": "function", "name": "f"}]);
    expect_400(&server, b, "missing", None).await;
}

#[tokio::test]
async fn bearer_auth() {
    let server = MockServer::start().await.unwrap();
    let body = input("gpt-4.1", "hi");
    for headers in [
        vec![],
        vec![("authorization", "Bearer bad-key")],
        vec![("authorization", "Bearer ")],
    ] {
        let resp = post_with(&server, "/v1/responses", &body, &headers).await;
        assert_eq!(resp.status(), 401);
        let v = body_json(resp).await;
        assert_eq!(v["error"]["code"], "invalid_api_key");
    }
}

#[tokio::test]
async fn status_faults_use_openai_error_bodies() {
    let server = MockServer::start().await.unwrap();
    let body = input(
        "gpt-4.1",
        "hi [[mock status=429 retry_after=2 retry_after_ms=1500]]",
    );
    let resp = responses(&server, &body, &[]).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "2");
    assert_eq!(resp.headers()["retry-after-ms"], "1500");
    let v = body_json(resp).await;
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert!(v["error"]["message"].as_str().unwrap().contains("429"));
    for (status, code) in [(500, "server_error"), (503, "server_is_overloaded")] {
        let spec = format!("status={status}");
        let resp = responses(&server, &input("gpt-4.1", "hi"), &[("x-mock-fault", &spec)]).await;
        assert_eq!(resp.status().as_u16(), status);
        assert_eq!(body_json(resp).await["error"]["code"], code);
    }
    // Directive inside an input_text part of the last user message.
    let b = json!({"model": "gpt-4.1", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "x [[mock status=404]]"}]}]});
    assert_eq!(responses(&server, &b, &[]).await.status(), 404);
}

#[tokio::test]
async fn stream_faults() {
    let server = MockServer::start().await.unwrap();
    let text = "one two three four five";
    let s = read_events(
        responses(
            &server,
            &streaming(input("gpt-4.1", text)),
            &[("x-mock-fault", "truncate_after=4")],
        )
        .await,
    )
    .await;
    assert!(!s.error);
    assert_eq!(s.names().len(), 2 + 4);
    assert!(
        !s.names()
            .iter()
            .any(|n| n.starts_with("response.completed"))
    );
    let s = read_events(
        responses(
            &server,
            &streaming(input("gpt-4.1", text)),
            &[("x-mock-fault", "truncate_after=99")],
        )
        .await,
    )
    .await;
    assert_eq!(s.names().last(), Some(&"response.output_item.done"));
    assert!(server.wait_for_streams(2, support::LIMIT).await);
    assert!(server.streams().iter().all(|r| !r.completed));

    let s = read_events(
        responses(
            &server,
            &streaming(input("gpt-4.1", text)),
            &[("x-mock-fault", "mid_error")],
        )
        .await,
    )
    .await;
    assert!(!s.error);
    assert_eq!(
        s.names(),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.failed"
        ]
    );
    let failed = s.events[3].json();
    assert_eq!(failed["sequence_number"], 3);
    assert_eq!(failed["response"]["status"], "failed");
    assert_eq!(
        failed["response"]["error"],
        json!({"code": "server_error", "message": "mock mid-stream failure"})
    );

    let s = read_events(
        responses(
            &server,
            &streaming(input("gpt-4.1", text)),
            &[("x-mock-fault", "cut_after=3")],
        )
        .await,
    )
    .await;
    assert!(s.error);
    assert_eq!(s.names().len(), 2 + 3);

    let s = read_events(
        responses(
            &server,
            &streaming(input("gpt-4.1", text)),
            &[("x-mock-fault", "invalid_json")],
        )
        .await,
    )
    .await;
    assert!(s.events.iter().any(|e| e.json().is_null()));
    assert_eq!(s.names().last(), Some(&"response.completed"));

    // Non-streamed mid_error: a failed response object.
    let resp = responses(
        &server,
        &input("gpt-4.1", "x"),
        &[("x-mock-fault", "mid_error")],
    )
    .await;
    assert_eq!(body_json(resp).await["status"], "failed");
    let resp = responses(
        &server,
        &input("gpt-4.1", "x"),
        &[("x-mock-fault", "truncate_after=1")],
    )
    .await;
    let raw = resp.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&raw).is_err());
}

#[tokio::test]
async fn cache_read_fault_reports_cached_tokens() {
    let server = MockServer::start().await.unwrap();
    let body = input("gpt-4.1", "a b c d e f g h i [[mock cache_read=4]]");
    let v = body_json(responses(&server, &body, &[]).await).await;
    assert_eq!(v["usage"]["input_tokens"], 10);
    assert_eq!(v["usage"]["input_tokens_details"]["cached_tokens"], 4);
}

#[tokio::test]
async fn requests_and_streams_are_recorded() {
    let server = MockServer::start().await.unwrap();
    let body = input("gpt-4.1", "record me");
    responses(&server, &body, &[("x-custom", "1")]).await;
    read_events(responses(&server, &streaming(input("gpt-4.1", "s")), &[]).await).await;
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path, "/v1/responses");
    assert_eq!(reqs[0].header("x-custom"), Some("1"));
    assert_eq!(reqs[0].body, body);
    assert!(server.wait_for_streams(1, support::LIMIT).await);
    let rec = &server.streams()[0];
    assert_eq!(rec.path, "/v1/responses");
    assert!(rec.completed && !rec.client_disconnected);
}
