//! Integration tests: scripted faults from the `x-mock-fault` header and prompt directives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{body_json, chat, read_sse, read_sse_within, streaming, user};

#[tokio::test]
async fn status_faults_use_openai_error_bodies_and_retry_headers() {
    let server = MockServer::start().await.unwrap();
    let cases = [
        (400, "invalid_request_error", Value::Null),
        (401, "invalid_request_error", json!("invalid_api_key")),
        (404, "invalid_request_error", json!("model_not_found")),
        (429, "requests", json!("rate_limit_exceeded")),
        (500, "server_error", json!("server_error")),
        (503, "server_error", json!("server_is_overloaded")),
        (529, "overloaded_error", json!("overloaded")),
    ];
    for (status, kind, code) in cases {
        let spec = format!("status={status}");
        let resp = chat(&server, &user("hi"), &[("x-mock-fault", &spec)]).await;
        assert_eq!(resp.status().as_u16(), status);
        let v = body_json(resp).await;
        assert_eq!(v["error"]["type"], kind, "status {status}");
        assert_eq!(v["error"]["code"], code, "status {status}");
        assert!(v["error"]["param"].is_null());
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&status.to_string())
        );
    }
    let resp = chat(
        &server,
        &user("hi"),
        &[(
            "x-mock-fault",
            "status=429, retry_after=2 retry_after_ms=1500,should_retry=true",
        )],
    )
    .await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "2");
    assert_eq!(resp.headers()["retry-after-ms"], "1500");
    assert_eq!(resp.headers()["x-should-retry"], "true");
}

#[tokio::test]
async fn times_limits_the_fault_then_succeeds() {
    let server = MockServer::start().await.unwrap();
    let spec = [("x-mock-fault", "status=503,times=2,key=t1")];
    assert_eq!(chat(&server, &user("a"), &spec).await.status(), 503);
    // A different key has its own counter.
    let other = [("x-mock-fault", "status=503,times=2,key=t2")];
    assert_eq!(chat(&server, &user("a"), &other).await.status(), 503);
    assert_eq!(chat(&server, &user("a"), &spec).await.status(), 503);
    assert_eq!(chat(&server, &user("a"), &spec).await.status(), 200);
    assert_eq!(chat(&server, &user("a"), &spec).await.status(), 200);
    server.reset();
    assert_eq!(chat(&server, &user("a"), &spec).await.status(), 503);
}

#[tokio::test]
async fn first_byte_delay() {
    let server = MockServer::start().await.unwrap();
    let start = Instant::now();
    let resp = chat(
        &server,
        &user("a"),
        &[("x-mock-fault", "first_byte_ms=300")],
    )
    .await;
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn stall_keeps_connection_open_then_ends_without_done() {
    let server = MockServer::start().await.unwrap();
    let mut resp = chat(
        &server,
        &streaming(user("one two three")),
        &[("x-mock-fault", "stall_after=1,stall_ms=1500")],
    )
    .await;
    let start = Instant::now();
    let mut raw = Vec::new();
    // Role chunk + 1 content chunk arrive; then nothing for a while.
    while raw.iter().filter(|b| **b == b'\n').count() < 4 {
        raw.extend_from_slice(&resp.chunk().await.unwrap().unwrap());
    }
    let next = tokio::time::timeout(Duration::from_millis(500), resp.chunk()).await;
    assert!(next.is_err(), "data arrived during stall");
    let sse = read_sse_within(resp, Duration::from_secs(4)).await;
    assert!(start.elapsed() >= Duration::from_millis(1400));
    assert!(sse.data.is_empty() && !sse.error);
    assert!(!String::from_utf8_lossy(&raw).contains("[DONE]"));
    assert!(server.wait_for_streams(1, support::LIMIT).await);
    let rec = &server.streams()[0];
    assert_eq!(rec.chunks_sent, 2);
    assert!(!rec.completed && !rec.client_disconnected);
}

#[tokio::test]
async fn stall_non_stream_delays_answer() {
    let server = MockServer::start().await.unwrap();
    let start = Instant::now();
    let resp = chat(
        &server,
        &user("a"),
        &[("x-mock-fault", "stall_after=0 stall_ms=400")],
    )
    .await;
    assert!(start.elapsed() >= Duration::from_millis(400));
    assert_eq!(
        body_json(resp).await["choices"][0]["message"]["content"],
        "Mock reply: a"
    );
}

#[tokio::test]
async fn cut_gives_client_a_transport_error() {
    let server = MockServer::start().await.unwrap();
    let resp = chat(
        &server,
        &streaming(user("one two three four")),
        &[("x-mock-fault", "cut_after=2")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let sse = read_sse(resp).await;
    assert!(sse.error, "cut must surface as a read error");
    assert!(!sse.done());
    assert_eq!(sse.text(), "Mock reply: ");
    assert!(server.wait_for_streams(1, support::LIMIT).await);
    let rec = &server.streams()[0];
    assert_eq!(rec.chunks_sent, 3);
    assert!(!rec.completed && !rec.client_disconnected);

    // Non-stream: half a body, then an error.
    let resp = chat(&server, &user("a b c"), &[("x-mock-fault", "cut_after=0")]).await;
    assert!(resp.bytes().await.is_err());
}

#[tokio::test]
async fn truncate_ends_cleanly_without_done() {
    let server = MockServer::start().await.unwrap();
    let resp = chat(
        &server,
        &streaming(user("one two three four")),
        &[("x-mock-fault", "truncate_after=3")],
    )
    .await;
    let sse = read_sse(resp).await;
    assert!(!sse.error);
    assert!(!sse.done());
    assert_eq!(sse.text(), "Mock reply: one ");
    assert!(server.wait_for_streams(1, support::LIMIT).await);
    assert!(!server.streams()[0].completed);
}

#[tokio::test]
async fn invalid_json_stream_and_non_stream() {
    let server = MockServer::start().await.unwrap();
    let sse = read_sse(
        chat(
            &server,
            &streaming(user("x y")),
            &[("x-mock-fault", "invalid_json")],
        )
        .await,
    )
    .await;
    assert_eq!(sse.data[2], r#"{"id": "broken", "choices": ["#);
    assert!(serde_json::from_str::<Value>(&sse.data[2]).is_err());
    assert!(sse.done());
    assert_eq!(sse.text(), "Mock reply: x y");

    let resp = chat(&server, &user("x"), &[("x-mock-fault", "invalid_json")]).await;
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&bytes).is_err());
}

#[tokio::test]
async fn mid_error_frame_then_close() {
    let server = MockServer::start().await.unwrap();
    let sse = read_sse(
        chat(
            &server,
            &streaming(user("x y z")),
            &[("x-mock-fault", "mid_error")],
        )
        .await,
    )
    .await;
    assert!(!sse.done() && !sse.error);
    assert_eq!(sse.data.len(), 3);
    let err: Value = serde_json::from_str(&sse.data[2]).unwrap();
    assert_eq!(err["error"]["message"], "mock mid-stream failure");
    assert_eq!(err["error"]["type"], "server_error");
}

#[tokio::test]
async fn delay_paces_chunks() {
    let server = MockServer::start().await.unwrap();
    let start = Instant::now();
    let sse = read_sse(
        chat(
            &server,
            &streaming(user("a b")),
            &[("x-mock-fault", "delay=40")],
        )
        .await,
    )
    .await;
    // role + 4 words + finish + DONE = 7 frames → 6 gaps.
    assert!(start.elapsed() >= Duration::from_millis(240));
    assert!(sse.done());
}

#[tokio::test]
async fn prompt_directive_is_removed_and_applied() {
    let server = MockServer::start().await.unwrap();
    let body = user("hello [[mock status=429 retry_after=3]] world");
    let resp = chat(&server, &body, &[]).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");

    let body = streaming(user("[[mock truncate_after=2, times=1]]hi there"));
    let sse = read_sse(chat(&server, &body, &[]).await).await;
    assert!(!sse.done());
    assert_eq!(sse.text(), "Mock reply: ");
    let sse = read_sse(chat(&server, &body, &[]).await).await;
    assert!(sse.done());
    assert_eq!(sse.text(), "Mock reply: hi there");
}

#[tokio::test]
async fn unknown_fault_key_is_a_400_naming_it() {
    let server = MockServer::start().await.unwrap();
    let resp = chat(&server, &user("a"), &[("x-mock-fault", "stauts=500")]).await;
    assert_eq!(resp.status(), 400);
    let v = body_json(resp).await;
    assert!(v["error"]["message"].as_str().unwrap().contains("stauts"));
    let resp = chat(&server, &user("a [[mock bogus]]"), &[]).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn header_faults_apply_to_models_and_embeddings() {
    let server = MockServer::start().await.unwrap();
    let resp = support::client()
        .get(format!("{}/v1/models", server.url()))
        .header("authorization", "Bearer k")
        .header("x-mock-fault", "status=500")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    let body = json!({"model": "text-embedding-3-small", "input": "x"});
    let resp = support::post(
        &server,
        "/v1/embeddings",
        &body,
        &[("x-mock-fault", "status=429")],
    )
    .await;
    assert_eq!(resp.status(), 429);
}
