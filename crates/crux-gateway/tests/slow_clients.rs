//! Connection limits of `crux_gateway::serve`: slow-loris heads, slow bodies, idle keep-alive, the
//! connection cap and huge heads are cut off without harming other clients, while long streams and
//! graceful shutdown still run to their end. Timing is only bounded from above ("does not hang").

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crux_gateway::{AppState, GatewayConfig};
use crux_mock::MockServer;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Upper bound for anything that must happen "soon" after a 300 ms limit.
const SOON: Duration = Duration::from_secs(5);

/// A gateway in front of a mock, with its serve task and shutdown trigger.
struct Running {
    addr: SocketAddr,
    _mock: MockServer,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(config: GatewayConfig) -> Running {
        let mock = MockServer::start().await.unwrap();
        let state = AppState::new(harness::client(&mock, &[]), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(crux_gateway::serve(listener, state, async {
            let _ = rx.await;
        }));
        Running {
            addr,
            _mock: mock,
            stop: Some(tx),
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET /health` on a fresh connection.
    async fn health(&self) -> u16 {
        fresh_client()
            .get(self.url("/health"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}

/// A client that opens a new connection per request (no pooled sockets the server may close under it).
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Short limits, so the tests can watch them act.
fn short() -> GatewayConfig {
    GatewayConfig {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        max_connections: 20,
        ..GatewayConfig::default()
    }
}

/// Reads until the peer closes (EOF or reset) and returns what arrived; `None` if still open after `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok().map(|()| out)
}

/// Sends `GET /health` on a kept-alive connection and reads its answer.
async fn health_on(s: &mut TcpStream) -> String {
    s.write_all(b"GET /health HTTP/1.1\r\nHost: gw\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&out).contains(r#"{"status":"ok"}"#) {
        let n = tokio::time::timeout(SOON, s.read(&mut buf))
            .await
            .expect("answer in time")
            .unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&out));
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(out).unwrap()
}

fn paced_stream_body() -> serde_json::Value {
    json!({"model": "openai/gpt-4o-mini", "stream": true, "messages": [{"role": "user",
        "content": "one two three four five six seven eight nine ten eleven twelve [[mock delay=150]]"}]})
}

#[tokio::test]
async fn slow_loris_heads_are_closed_while_health_answers() {
    let gw = Running::start(GatewayConfig {
        max_connections: 1000,
        ..short()
    })
    .await;
    let mut loris = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: gw\r\nX-Slow: ")
            .await
            .unwrap();
        loris.push(s);
    }
    for _ in 0..3 {
        assert_eq!(gw.health().await, 200);
    }
    let closing = loris
        .into_iter()
        .map(|mut s| tokio::spawn(async move { closed_within(&mut s, SOON).await }));
    for c in closing {
        let seen = c
            .await
            .unwrap()
            .expect("slow-loris connection closed by the server");
        assert!(seen.is_empty(), "{}", String::from_utf8_lossy(&seen));
    }
    assert_eq!(gw.health().await, 200);
}

#[tokio::test]
async fn silent_connection_is_closed_after_header_timeout() {
    let gw = Running::start(short()).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    assert!(closed_within(&mut s, SOON).await.is_some());
}

#[tokio::test]
async fn slow_body_gets_408_and_close() {
    let gw = Running::start(short()).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"model\":",
    )
    .await
    .unwrap();
    let seen = closed_within(&mut s, SOON)
        .await
        .expect("answered and closed");
    let text = String::from_utf8(seen).unwrap();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    let body: serde_json::Value =
        serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "timeout", "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    assert_eq!(
        body["error"]["message"], "request body not received in time",
        "{body}"
    );
    assert_eq!(gw.health().await, 200);
}

#[tokio::test]
async fn complete_body_is_served_normally() {
    let gw = Running::start(short()).await;
    let resp = fresh_client()
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(
            json!({"model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": "hello"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn idle_keep_alive_is_closed_after_idle_timeout() {
    let gw = Running::start(GatewayConfig {
        header_timeout: Duration::from_secs(30),
        ..short()
    })
    .await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    assert!(health_on(&mut s).await.starts_with("HTTP/1.1 200"));
    assert!(health_on(&mut s).await.starts_with("HTTP/1.1 200"));
    let seen = closed_within(&mut s, SOON)
        .await
        .expect("idle connection closed");
    assert!(seen.is_empty());
}

#[tokio::test]
async fn keep_alive_outlives_header_timeout_while_idle() {
    let gw = Running::start(GatewayConfig {
        idle_timeout: Duration::from_secs(30),
        ..short()
    })
    .await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    assert!(health_on(&mut s).await.starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(health_on(&mut s).await.starts_with("HTTP/1.1 200"));
    // A later head that stalls is still cut off by the header timeout.
    s.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    assert!(closed_within(&mut s, SOON).await.is_some());
}

#[tokio::test]
async fn connections_beyond_the_cap_are_refused_then_served_again() {
    let gw = Running::start(GatewayConfig {
        header_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        max_connections: 4,
        ..short()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        assert!(health_on(&mut s).await.starts_with("HTTP/1.1 200"));
        held.push(s);
    }
    let started = Instant::now();
    let mut extra = TcpStream::connect(gw.addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /health HTTP/1.1\r\nHost: gw\r\n\r\n")
        .await;
    let seen = closed_within(&mut extra, SOON)
        .await
        .expect("refused promptly");
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("overloaded"), "{text}");
    assert!(started.elapsed() < SOON);
    // The connections already served keep working.
    assert!(health_on(&mut held[0]).await.starts_with("HTTP/1.1 200"));
    drop(held);
    let deadline = Instant::now() + SOON;
    while gw.health().await != 200 {
        assert!(Instant::now() < deadline, "never served again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn huge_head_is_refused_and_others_are_served() {
    let gw = Running::start(short()).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    let mut head = b"GET /health HTTP/1.1\r\nHost: gw\r\nX-Big: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 200 * 1024));
    head.extend_from_slice(b"\r\n\r\n");
    let _ = s.write_all(&head).await;
    let seen = closed_within(&mut s, SOON)
        .await
        .expect("refused and closed");
    let text = String::from_utf8_lossy(&seen);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "{text}"
    );
    assert_eq!(gw.health().await, 200);
}

#[tokio::test]
async fn stream_longer_than_every_timeout_completes() {
    let gw = Running::start(short()).await;
    let started = Instant::now();
    let resp = fresh_client()
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(paced_stream_body().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(started.elapsed() > Duration::from_secs(1), "not paced");
    let frames = harness::sse(&text);
    assert_eq!(frames.last().unwrap().1, "[DONE]", "{text}");
    assert!(text.contains("twelve"), "{text}");
}

#[tokio::test]
async fn graceful_shutdown_lets_an_in_flight_stream_finish() {
    let mut gw = Running::start(GatewayConfig {
        header_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        ..short()
    })
    .await;
    let resp = fresh_client()
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(paced_stream_body().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut idle = TcpStream::connect(gw.addr).await.unwrap();
    assert!(health_on(&mut idle).await.starts_with("HTTP/1.1 200"));
    let _ = gw.stop.take().unwrap().send(());
    // The idle kept-alive connection is closed; the stream runs to its end.
    assert!(closed_within(&mut idle, SOON).await.is_some());
    let text = resp.text().await.unwrap();
    assert_eq!(harness::sse(&text).last().unwrap().1, "[DONE]", "{text}");
    let served = tokio::time::timeout(SOON, gw.task)
        .await
        .expect("serve returns");
    served.unwrap().unwrap();
    assert!(
        TcpStream::connect(gw.addr).await.is_err(),
        "still accepting"
    );
}
