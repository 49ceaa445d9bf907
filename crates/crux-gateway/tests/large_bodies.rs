//! Large request bodies: an announced size over the limit is refused before a byte of the body is read, large
//! bodies beyond the byte budget wait and then get `503` + `retry-after` (and the budget comes back when they are
//! done), chunked large bodies are read and served, and a chat log keeps only a bounded piece of a huge prompt.
//! Timing is only bounded from above.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use std::time::Duration;

use crux_gateway::GatewayConfig;
use crux_llm::breaker::Clock;
use crux_store::LogFilter;
use harness::{Gateway, JsonBody, Stored};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Upper bound for anything that must happen "soon".
const SOON: Duration = Duration::from_secs(10);
const MIB: usize = 1 << 20;

/// Reads until the peer closes and returns the text (status line, headers, body).
async fn read_to_close(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(SOON, s.read_to_end(&mut out))
        .await
        .expect("answered and closed in time")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

fn json_of(answer: &str) -> Value {
    serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap()
}

/// A request head for `path` announcing `len` body bytes.
fn head(path: &str, len: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
    )
}

/// A chat body of about `bytes` bytes for `model` (the prompt pads it out).
fn chat_body(model: &str, bytes: usize) -> Vec<u8> {
    let prompt = "lorem ipsum dolor sit amet ".repeat(bytes / 27);
    serde_json::to_vec(&json!({"model": model, "messages": [{"role": "user", "content": prompt}]}))
        .unwrap()
}

#[tokio::test]
async fn an_announced_body_over_the_limit_is_refused_before_it_is_read() {
    // The default body timeout is 30 s: an answer within SOON did not wait for the body.
    let g = Gateway::start().await;
    let mut s = TcpStream::connect(g.addr).await.unwrap();
    let close = head("/v1/messages", 40 * MIB).replace("Host: gw", "Host: gw\r\nConnection: close");
    s.write_all(close.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let body = json_of(&answer);
    assert_eq!(body["error"]["type"], "request_too_large", "{body}");
}

#[tokio::test]
async fn large_bodies_beyond_the_budget_wait_then_get_503_and_the_budget_returns() {
    let config = GatewayConfig {
        body_limit: 2 * MIB,
        large_body_budget: 2 * MIB,
        body_timeout: Duration::from_millis(800),
        ..GatewayConfig::default()
    };
    let g = Gateway::start_with(config, &[], Clock::default()).await;
    // A holds the whole budget: its head announces 1.5 MiB, and only part of the body follows.
    let mut a = TcpStream::connect(g.addr).await.unwrap();
    a.write_all(head("/v1/chat/completions", 3 * MIB / 2).as_bytes())
        .await
        .unwrap();
    a.write_all(&[b' '; 4096]).await.unwrap();
    let deadline = tokio::time::Instant::now() + SOON;
    while g.state.large_bodies.available_bytes() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "A never admitted");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // B waits for A's share, gives up after half the body timeout: 503 in its dialect, retry-after, close.
    let mut b = TcpStream::connect(g.addr).await.unwrap();
    b.write_all(head("/v1/messages", 3 * MIB / 2).as_bytes())
        .await
        .unwrap();
    let answer = read_to_close(&mut b).await;
    assert!(answer.starts_with("HTTP/1.1 529"), "{answer}");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("retry-after: 1\r\n"), "{answer}");
    assert!(lower.contains("connection: close\r\n"), "{answer}");
    assert_eq!(json_of(&answer)["error"]["type"], "overloaded_error");
    // A's body never completes: 408 once its deadline passes, and its share goes back.
    let answer = read_to_close(&mut a).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    while g.state.large_bodies.available_bytes() < 2 * MIB {
        assert!(
            tokio::time::Instant::now() < deadline,
            "budget not returned"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let resp = g
        .http
        .post(g.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(chat_body("gemini/gemini-2.0-flash", 3 * MIB / 2))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

#[tokio::test]
async fn chunked_bodies_large_and_small_are_served() {
    let g = Gateway::start().await;
    for size in [200, 3 * MIB / 2] {
        let body = chat_body("gemini/gemini-2.0-flash", size);
        let mut s = TcpStream::connect(g.addr).await.unwrap();
        s.write_all(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
              Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
        for chunk in body.chunks(256 * 1024) {
            s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await
                .unwrap();
            s.write_all(chunk).await.unwrap();
            s.write_all(b"\r\n").await.unwrap();
        }
        s.write_all(b"0\r\n\r\n").await.unwrap();
        let answer = read_to_close(&mut s).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{size}: {answer}");
    }
    assert_eq!(
        g.state.large_bodies.available_bytes(),
        crux_gateway::config::DEFAULT_LARGE_BODY_BUDGET
    );
}

#[tokio::test]
async fn a_chat_log_keeps_a_bounded_piece_of_a_huge_prompt() {
    let mut s = Stored::start(None).await;
    let prompt = "é".repeat(3 * MIB / 4); // 1.5 MiB (the mock takes bodies up to 2 MiB)
    let g = &s.gateway;
    let resp = g
        .http
        .post(g.url("/v1/chat/completions"))
        .json_body(&json!({"model": "gemini/gemini-2.0-flash",
            "messages": [{"role": "user", "content": prompt}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    s.drain().await;
    let rows = s
        .store
        .query_chat_logs(&LogFilter {
            limit: 5,
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let text = rows[0].log.request_text.as_deref().unwrap();
    let kept = 64 * 1024;
    assert_eq!(
        text,
        format!(
            "{} … [{} more bytes not logged]",
            &prompt[..kept],
            prompt.len() - kept
        )
    );
}
