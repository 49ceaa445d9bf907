//! Auth bypass cases and the answers to hostile heads, each as `interface.md` says: no key, a wrong key, a key in
//! the query string, a revoked key, a restricted virtual key on another model, on admin routes and on `/metrics`,
//! non-loopback peers without a master key (virtual key or not), and request heads hyper refuses itself (invalid
//! header value, bad request line, conflicting lengths, an oversized head) answered in the caller's dialect.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use std::time::Duration;

use crux_gateway::GatewayConfig;
use crux_gateway::keys::{CachedKey, hash_key};
use harness::{Gateway, JsonBody, Stored};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MASTER: &str = "master-key-sec-0001";

fn chat(model: &str) -> Value {
    json!({"model": model, "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]})
}

/// Send raw bytes and read the whole answer (the gateway closes after these answers).
async fn raw(g: &Gateway, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(g.addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("the gateway answers and closes")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn body_of(answer: &str) -> Value {
    let (_, body) = answer.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

#[tokio::test]
async fn heads_hyper_refuses_are_answered_in_the_callers_dialect() {
    let g = Gateway::start().await;
    let bad_value = |path: &str| {
        format!("POST {path} HTTP/1.1\r\nhost: x\r\nx-bad: a\x01b\r\ncontent-length: 2\r\n\r\n{{}}")
    };
    let a = raw(&g, bad_value("/v1/messages").as_bytes()).await;
    assert!(a.starts_with("HTTP/1.1 400 "), "{a}");
    assert!(
        a.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{a}"
    );
    let v = body_of(&a);
    assert_eq!(
        (v["type"].as_str(), v["error"]["type"].as_str()),
        (Some("error"), Some("invalid_request_error")),
        "{a}"
    );

    let o = raw(&g, bad_value("/v1/chat/completions").as_bytes()).await;
    assert!(o.starts_with("HTTP/1.1 400 "), "{o}");
    assert_eq!(body_of(&o)["error"]["code"], "validation", "{o}");

    let n = raw(&g, bad_value("/api/chat").as_bytes()).await;
    assert_eq!(body_of(&n)["ok"], false, "{n}");

    // Two different lengths: a smuggling attempt, refused before any handler.
    let twice =
        "POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 5\r\n\r\n{}";
    let t = raw(&g, twice.as_bytes()).await;
    assert!(t.starts_with("HTTP/1.1 400 "), "{t}");
    assert_eq!(body_of(&t)["type"], "error", "{t}");

    // No path can be read from a line that is not HTTP: the OpenAI shape, the gateway's default.
    let garbage = raw(&g, b"\x01\x02 nonsense\r\n\r\n").await;
    assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
    assert_eq!(
        body_of(&garbage)["error"]["code"],
        "validation",
        "{garbage}"
    );

    // After a good request on a kept-alive connection, a bad second head still gets its dialect.
    let mut s = TcpStream::connect(g.addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = Vec::new();
    while !String::from_utf8_lossy(&first).contains(r#"{"status":"ok"}"#) {
        let mut chunk = [0u8; 1024];
        let read = tokio::time::timeout(Duration::from_secs(20), s.read(&mut chunk));
        let n = read.await.unwrap().unwrap();
        assert!(n > 0, "closed early");
        first.extend_from_slice(&chunk[..n]);
    }
    s.write_all(bad_value("/v1/messages").as_bytes())
        .await
        .unwrap();
    let mut second = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut second));
    read.await.unwrap().unwrap();
    let second = String::from_utf8_lossy(&second);
    assert!(second.starts_with("HTTP/1.1 400 "), "{second}");
    assert_eq!(body_of(&second)["type"], "error", "{second}");

    let (status, _) = g.get("/health", "k").await;
    assert_eq!(status, 200, "the gateway keeps serving");
}

#[tokio::test]
async fn an_oversized_head_gets_431_in_dialect() {
    let config = GatewayConfig {
        max_header_bytes: 4096,
        ..GatewayConfig::default()
    };
    let g = Gateway::start_with(config, &[], Default::default()).await;
    let huge = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n",
        "p".repeat(8192)
    );
    let a = raw(&g, huge.as_bytes()).await;
    assert!(a.is_empty() || a.starts_with("HTTP/1.1 431 "), "{a}");
    if !a.is_empty() {
        assert_eq!(body_of(&a)["type"], "error", "{a}");
    }
}

async fn post_raw(g: &Gateway, path: &str, headers: &[(&str, &str)], body: &Value) -> (u16, Value) {
    let mut req = g.http.post(g.url(path)).json_body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn bypass_attempts_are_refused_as_the_contract_says() {
    let s = Stored::start(Some(MASTER)).await;
    let g = &s.gateway;
    let auth = format!("Bearer {MASTER}");
    let m = chat("openai/gpt-4o-mini");
    // No key, per dialect.
    let (st, v) = post_raw(g, "/v1/chat/completions", &[], &m).await;
    assert_eq!(
        (st, v["error"]["type"].as_str()),
        (401, Some("authentication_error")),
        "{v}"
    );
    let (st, v) = post_raw(g, "/v1/messages", &[], &m).await;
    assert_eq!(
        (st, v["type"].as_str(), v["error"]["type"].as_str()),
        (401, Some("error"), Some("authentication_error")),
        "{v}"
    );
    let (st, v) = post_raw(
        g,
        "/api/chat",
        &[],
        &json!({"provider": "openai", "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!((st, v["ok"].as_bool()), (401, Some(false)), "{v}");
    // A wrong key, and the right key in the query string (never read from there).
    let (st, _) = post_raw(
        g,
        "/v1/chat/completions",
        &[("authorization", "Bearer nope")],
        &m,
    )
    .await;
    assert_eq!(st, 401);
    let (st, _) = post_raw(g, "/v1/messages", &[("x-api-key", "nope")], &m).await;
    assert_eq!(st, 401);
    for q in ["api_key", "key", "access_token"] {
        let path = format!("/v1/chat/completions?{q}={MASTER}");
        let (st, _) = post_raw(g, &path, &[], &m).await;
        assert_eq!(st, 401, "?{q}= must not authenticate");
    }
    // A restricted key: its model is served, another model and admin routes are not.
    let (st, v) = post_raw(
        g,
        "/api/virtual-keys",
        &[("authorization", &auth)],
        &json!({"name": "narrow", "models": ["openai/gpt-4o-mini"]}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let vk = v["key"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {vk}");
    let (st, _) = post_raw(g, "/v1/chat/completions", &[("authorization", &bearer)], &m).await;
    assert_eq!(st, 200);
    let (st, v) = post_raw(
        g,
        "/v1/messages",
        &[("x-api-key", &vk)],
        &chat("anthropic/claude-3-5-haiku-latest"),
    )
    .await;
    assert_eq!(
        (st, v["error"]["type"].as_str()),
        (403, Some("permission_error")),
        "{v}"
    );
    let resp = g
        .http
        .get(g.url("/api/logs"))
        .bearer_auth(&vk)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let (st, _) = post_raw(
        g,
        "/api/virtual-keys",
        &[("authorization", &bearer)],
        &json!({"name": "escalate"}),
    )
    .await;
    assert_eq!(st, 403);
    // `/metrics` needs the master key once one is set (`[telemetry] metrics_auth`, on by default).
    assert_eq!(
        g.http.get(g.url("/metrics")).send().await.unwrap().status(),
        401
    );
    assert_eq!(
        g.http
            .get(g.url("/metrics"))
            .bearer_auth(&vk)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let ok = g
        .http
        .get(g.url("/metrics"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // Revoked: refused at once.
    let del = g
        .http
        .delete(g.url("/api/virtual-keys?id=narrow"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    let (st, v) = post_raw(g, "/v1/chat/completions", &[("authorization", &bearer)], &m).await;
    assert_eq!(
        (st, v["error"]["code"].as_str()),
        (401, Some("auth")),
        "{v}"
    );
}

fn key_cache(g: &Gateway) {
    g.state.keys.replace([(
        hash_key("vk-remote"),
        CachedKey {
            id: "vk_r".into(),
            name: "remote".into(),
            rpm: None,
            tpm: None,
            budget_usd: None,
            models: None,
            spend_usd: 0.0,
        },
    )]);
}

#[tokio::test]
async fn without_a_master_key_only_loopback_is_served_even_with_a_virtual_key() {
    let g = Gateway::start().await;
    key_cache(&g);
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("authorization", "Bearer vk-remote".parse().unwrap());
    for peer in ["10.1.2.3", "192.168.0.7", "::ffff:10.0.0.1", "2001:db8::1"] {
        let err = crux_gateway::auth::authenticate(&g.state, &headers, peer.parse().unwrap())
            .unwrap_err();
        assert_eq!(err.status, 403, "{peer}");
        let err = crux_gateway::auth::metrics_access(&g.state, &headers, peer.parse().unwrap())
            .unwrap_err();
        assert_eq!(err.status, 403, "{peer}: /metrics");
    }
    for peer in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
        let caller =
            crux_gateway::auth::authenticate(&g.state, &headers, peer.parse().unwrap()).unwrap();
        assert_eq!(caller.key_id(), Some("vk_r"), "{peer}");
        crux_gateway::auth::metrics_access(&g.state, &Default::default(), peer.parse().unwrap())
            .unwrap();
    }
    assert_eq!(
        g.http.get(g.url("/metrics")).send().await.unwrap().status(),
        200,
        "loopback scrape"
    );
}

#[tokio::test]
async fn metrics_auth_off_opens_metrics_to_any_peer() {
    let config = GatewayConfig {
        master_key: Some(MASTER.into()),
        metrics_auth: false,
        ..GatewayConfig::default()
    };
    let g = Gateway::start_with(config, &[], Default::default()).await;
    assert_eq!(
        g.http.get(g.url("/metrics")).send().await.unwrap().status(),
        200
    );
    crux_gateway::auth::metrics_access(&g.state, &Default::default(), "10.9.9.9".parse().unwrap())
        .unwrap();
    // The chat routes still need a key.
    let (st, _) = post_raw(&g, "/v1/chat/completions", &[], &chat("openai/gpt-4o-mini")).await;
    assert_eq!(st, 401);
}
