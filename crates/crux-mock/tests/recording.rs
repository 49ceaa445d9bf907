//! Integration tests: request/stream recording, `/_mock/*` control routes, client disconnect
//! detection, models, embeddings and `serve`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{body_json, chat, user};

#[tokio::test]
async fn requests_are_recorded_with_headers_and_body() {
    let server = MockServer::start().await.unwrap();
    let body = user("record me");
    chat(&server, &body, &[("x-custom", "Value-1")]).await;
    let resp = support::client()
        .post(format!("{}/chat/completions?api-version=1", server.url()))
        .header("authorization", "Bearer k")
        .body("plain text")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    support::client()
        .get(format!("{}/v1/models", server.url()))
        .header("authorization", "Bearer k")
        .send()
        .await
        .unwrap();
    // Control routes are not recorded.
    let listed = support::client()
        .get(format!("{}/_mock/requests", server.url()))
        .send()
        .await
        .unwrap();
    let listed = body_json(listed).await;

    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(reqs[0].query, None);
    assert_eq!(reqs[0].header("X-Custom"), Some("Value-1"));
    assert_eq!(reqs[0].header("authorization"), Some("Bearer test-key"));
    assert!(reqs[0].headers.iter().all(|(n, _)| *n == n.to_lowercase()));
    assert_eq!(reqs[0].body, body);
    assert_eq!(reqs[1].path, "/chat/completions");
    assert_eq!(reqs[1].query.as_deref(), Some("api-version=1"));
    assert_eq!(reqs[1].body, json!("plain text"));
    assert_eq!(reqs[2].method, "GET");
    assert_eq!(reqs[2].body, Value::Null);
    assert_eq!(listed.as_array().unwrap().len(), 3);
    assert_eq!(listed[0]["body"], body);

    let resp = support::client()
        .delete(format!("{}/_mock/requests", server.url()))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn client_drop_mid_stream_is_recorded_as_disconnect() {
    let server = MockServer::start().await.unwrap();
    let mut body = user("one two three four five six seven eight");
    body["stream"] = json!(true);
    let mut resp = chat(&server, &body, &[("x-mock-fault", "delay=50")]).await;
    let first = resp.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    drop(resp);
    assert!(server.wait_for_streams(1, Duration::from_secs(3)).await);
    let rec = &server.streams()[0];
    assert!(rec.client_disconnected);
    assert!(!rec.completed);
    assert!(rec.chunks_sent < 12);

    let listed = support::client()
        .get(format!("{}/_mock/streams", server.url()))
        .send()
        .await
        .unwrap();
    let listed = body_json(listed).await;
    assert_eq!(listed[0]["client_disconnected"], true);
    assert_eq!(listed[0]["path"], "/v1/chat/completions");

    server.reset();
    assert!(server.streams().is_empty());
    assert!(!server.wait_for_streams(1, Duration::from_millis(50)).await);
}

#[tokio::test]
async fn models_list() {
    let server = MockServer::start().await.unwrap();
    for path in ["/v1/models", "/models"] {
        let resp = support::client()
            .get(format!("{}{path}", server.url()))
            .header("authorization", "Bearer k")
            .send()
            .await
            .unwrap();
        let v = body_json(resp).await;
        assert_eq!(v["object"], "list");
        let ids: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&"gpt-4o-mini") && ids.contains(&"text-embedding-3-small"));
        assert!(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["object"] == "model")
        );
    }
    let resp = support::client()
        .get(format!("{}/v1/models/gpt-4o", server.url()))
        .header("authorization", "Bearer k")
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(resp).await["id"], "gpt-4o");
}

fn decode_f32s(b64: &str) -> Vec<f32> {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut bytes = Vec::new();
    for c in b64.chars().filter(|c| *c != '=') {
        bits = (bits << 6) | alphabet.find(c).unwrap() as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            bytes.push((bits >> n) as u8);
        }
    }
    bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[tokio::test]
async fn embeddings_float_and_base64() {
    let server = MockServer::start().await.unwrap();
    let body = json!({"model": "text-embedding-3-small", "input": ["hello world", "bye"]});
    let v = body_json(support::post(&server, "/v1/embeddings", &body, &[]).await).await;
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "text-embedding-3-small");
    assert_eq!(v["usage"], json!({"prompt_tokens": 3, "total_tokens": 3}));
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[1]["index"], 1);
    let floats: Vec<f32> = data[0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(floats.len(), 8);
    assert_ne!(data[0]["embedding"], data[1]["embedding"]);

    // Deterministic across requests, and base64 decodes to the same values.
    let body = json!({"model": "text-embedding-3-small", "input": "hello world",
                      "encoding_format": "base64"});
    let v = body_json(support::post(&server, "/embeddings", &body, &[]).await).await;
    let decoded = decode_f32s(v["data"][0]["embedding"].as_str().unwrap());
    assert_eq!(decoded, floats);

    let body = json!({"model": "m", "input": "x", "dimensions": 3});
    let v = body_json(support::post(&server, "/v1/embeddings", &body, &[]).await).await;
    assert_eq!(v["data"][0]["embedding"].as_array().unwrap().len(), 3);

    let body = json!({"model": "m", "input": []});
    assert_eq!(
        support::post(&server, "/v1/embeddings", &body, &[])
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn serve_runs_until_shutdown() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(crux_mock::serve(listener, async move {
        let _ = rx.await;
    }));
    let resp = support::client()
        .post(format!("http://{addr}/v1/chat/completions"))
        .header("authorization", "Bearer k")
        .body(user("via serve").to_string())
        .send()
        .await
        .unwrap();
    let v = body_json(resp).await;
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Mock reply: via serve"
    );
    tx.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .unwrap()
        .unwrap();
    assert!(result.is_ok());
}

#[tokio::test]
async fn dropping_the_server_frees_it() {
    let server = MockServer::start().await.unwrap();
    assert!(server.url().starts_with("http://127.0.0.1:"));
    assert!(!server.url().ends_with('/'));
    let addr = server.addr();
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let again = MockServer::bind(addr).await.unwrap();
    assert_eq!(again.addr(), addr);
}
