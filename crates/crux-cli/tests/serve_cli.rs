//! `crux serve` as a process: startup lines, a stream in flight finishes after SIGTERM, the write queue drains.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crux_mock::MockServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_streams_finish_and_drains_the_log_queue() {
    let mock = MockServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_crux"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env("OPENAI_API_KEY", "k")
        .env("OPENAI_BASE_URL", format!("{}/v1", mock.url()))
        .env("CRUX_LOG", "error")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut banner = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "serve exited early: {banner}"
        );
        banner.push_str(&line);
        if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            break u.to_owned();
        }
    };
    let body = serde_json::json!({"model": "openai/gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "one two three four five six seven eight [[mock delay=100]]"}]});
    let mut resp = reqwest::Client::new()
        .post(format!("{url}/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    let mut text = String::from_utf8(resp.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    while let Some(chunk) = resp.chunk().await.unwrap() {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        text.trim_end().ends_with("data: [DONE]"),
        "the in-flight stream finished: {text}"
    );
    let exit = tokio::task::block_in_place(|| child.wait()).unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut rest = String::new();
    for line in stderr.lines() {
        rest.push_str(&line.unwrap());
        rest.push('\n');
    }
    assert!(rest.contains("store: sqlite://"), "{banner}{rest}");
    assert!(
        rest.contains("shutting down") && rest.contains("1 records written, 0 dropped"),
        "{rest}"
    );
}
