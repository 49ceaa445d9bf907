//! The access layer: one JSON finalize line per request at `info` (404s included, streams when they end),
//! `x-request-id` accepted or generated and returned, `x-crux-overhead-ms` on answers, no secrets in the line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use std::io::Write;
use std::sync::{Arc, Mutex};

use harness::{Gateway, PROVIDER_KEY};
use serde_json::{Value, json};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Buf {
        self.clone()
    }
}

impl Buf {
    /// The access lines once there are `n` (they are written just after each answer is sent).
    async fn lines(&self, n: usize) -> Vec<Value> {
        let mut lines = self.access_lines();
        for _ in 0..200 {
            if lines.len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            lines = self.access_lines();
        }
        lines
    }

    fn access_lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        assert!(
            !text.contains(PROVIDER_KEY),
            "a secret reached the log: {text}"
        );
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["target"] == "crux::access")
            .collect()
    }
}

fn capture() -> (Buf, tracing::subscriber::DefaultGuard) {
    let buf = Buf::default();
    let sub = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_env_filter("info")
        .with_writer(buf.clone())
        .finish();
    (buf, tracing::subscriber::set_default(sub))
}

#[tokio::test(flavor = "current_thread")]
async fn one_line_per_request_with_the_finalize_fields() {
    let (buf, _guard) = capture();
    let g = Gateway::start().await;
    let (status, _) = g.get("/nope", "k").await;
    assert_eq!(status, 404);
    let resp = g
        .http
        .post(g.url("/v1/chat/completions"))
        .bearer_auth("k")
        .header("x-request-id", "req-42")
        .header("x-session-id", "sess-7")
        .header("content-type", "application/json")
        .body(json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "log me"}]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-request-id"], "req-42");
    let overhead: f64 = resp.headers()["x-crux-overhead-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(overhead >= 0.0);
    resp.text().await.unwrap();

    let lines = buf.lines(2).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    let nf = &lines[0];
    assert_eq!(nf["status"], 404);
    assert_eq!(nf["path"], "/nope");
    assert_eq!(nf["level"], "INFO");
    assert_eq!(nf["request_id"].as_str().unwrap().len(), 32);
    let ok = &lines[1];
    assert_eq!(ok["request_id"], "req-42");
    assert_eq!(ok["session_id"], "sess-7");
    assert_eq!(ok["status"], 200);
    assert_eq!(ok["route"], "chat_completions");
    assert_eq!(ok["dialect"], "openai");
    assert_eq!(ok["model"], "openai/gpt-4o-mini");
    assert_eq!(ok["served"], "openai/gpt-4o-mini");
    assert_eq!(ok["provider"], "openai");
    assert_eq!(ok["outcome"], "ok");
    assert_eq!(ok["phase"], "finalize");
    assert!(ok["tokens.prompt"].as_u64().unwrap() > 0, "{ok}");
    assert!(ok["tokens.total"].as_u64().unwrap() > 0, "{ok}");
    assert!(ok["total_duration_ms"].as_f64().is_some(), "{ok}");
    assert!(ok["upstream_ms"].as_f64().is_some(), "{ok}");
    assert_eq!(ok["fallbacks"], 0);
    assert_eq!(ok["retries"], 0);
    assert!(ok.get("error_code").is_none(), "{ok}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_stream_logs_once_when_it_ends_with_ttft() {
    let (buf, _guard) = capture();
    let g = Gateway::start().await;
    let (status, headers, _) = g
        .post(
            "/v1/chat/completions",
            "k",
            &json!({"model": "openai/gpt-4o-mini", "stream": true,
                "messages": [{"role": "user", "content": "stream me"}]}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("x-crux-overhead-ms"));
    assert_eq!(headers["x-request-id"].len(), 32);
    // The line is written when the server finished the body, just after the client read its end.
    let lines = buf.lines(1).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["streamed"], true);
    assert!(
        lines[0]["time_to_first_token_ms"].as_f64().is_some(),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[0]["request_id"],
        headers["x-request-id"].to_str().unwrap()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn invalid_request_ids_are_replaced_and_errors_carry_their_code() {
    let (buf, _guard) = capture();
    let g = Gateway::start().await;
    let resp = g
        .http
        .post(g.url("/v1/chat/completions"))
        .bearer_auth("k")
        .header("x-request-id", "has spaces and \"quotes\"")
        .header("content-type", "application/json")
        .body(
            json!({"model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "fail [[mock status=500]]"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_server_error());
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    resp.text().await.unwrap();
    let lines = buf.lines(1).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "error");
    assert_eq!(lines[0]["error_code"], "server_error");
    assert_eq!(lines[0]["request_id"], id.as_str());
}
