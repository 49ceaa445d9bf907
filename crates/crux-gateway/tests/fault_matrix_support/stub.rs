//! A raw-TCP stub upstream for the faults `crux-mock` cannot produce: a 2xx error envelope as the first (only)
//! answer, an HTML error page, and a connection reset before or after the response headers.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the stub answers to every request.
#[derive(Debug, Clone, Copy)]
pub enum Stub {
    /// `200` with the wire's error envelope (JSON; for a stream request, an SSE stream whose first frame is it).
    Envelope2xx,
    /// `502` with an HTML page, as a proxy in front of a provider answers.
    Html,
    /// Read the request, then reset the connection (no status line).
    ResetBeforeHeaders,
    /// `200` headers and the start of a body, then reset the connection.
    ResetAfterHeaders,
}

/// Read one request (head + `content-length` body); `None` if the client went away.
async fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Some(String::from_utf8_lossy(&buf).into_owned());
            }
        }
    }
}

fn reset(s: TcpStream) {
    #[allow(deprecated)]
    let _ = s.set_linger(Some(Duration::ZERO));
    drop(s);
}

fn answer(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

impl Stub {
    /// Serve on an ephemeral loopback port until the test ends; returns `http://127.0.0.1:PORT`.
    pub async fn start(self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(self.serve(s));
            }
        });
        url
    }

    async fn serve(self, mut s: TcpStream) {
        let Some(req) = read_request(&mut s).await else {
            return;
        };
        let anthropic = req.contains("anthropic-version");
        let responses = req.starts_with("POST /v1/responses");
        let stream = req.contains("\"stream\":true");
        let envelope = if anthropic {
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
        } else {
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#
        };
        let out = match self {
            Stub::Envelope2xx if stream => {
                let event = if anthropic { "event: error\n" } else { "" };
                let sse = format!("{event}data: {envelope}\n\n");
                answer("200 OK", "text/event-stream", &sse)
            }
            Stub::Envelope2xx => answer("200 OK", "application/json", envelope),
            Stub::Html => answer(
                "502 Bad Gateway",
                "text/html",
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
            ),
            Stub::ResetBeforeHeaders => return reset(s),
            Stub::ResetAfterHeaders => {
                let (ct, start) = match (stream, anthropic) {
                    (true, false) if responses => (
                        "text/event-stream",
                        "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1,\"status\":\"in_progress\",\"model\":\"gpt-5-mini\",\"output\":[]}}\n\nevent: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hel\"}\n\n",
                    ),
                    (true, true) => (
                        "text/event-stream",
                        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-3-5-haiku-latest\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n",
                    ),
                    (true, false) => (
                        "text/event-stream",
                        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
                    ),
                    (false, _) => ("application/json", "{\"id\":\"c1\",\"object\":\"chat.com"),
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {ct}\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{start}\r\n",
                    start.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.flush().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                return reset(s);
            }
        };
        let _ = s.write_all(out.as_bytes()).await;
        let _ = s.shutdown().await;
    }
}
