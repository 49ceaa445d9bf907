//! Secret hygiene: a full `crux serve` session at `CRUX_LOG=trace` — provider keys in the environment and in the
//! vault, a master key, a virtual key, upstreams that echo the key they were sent back in their error bodies and
//! headers — and no secret in the logs, the chat logs (the store file itself), the error bodies or `/metrics`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use crux_mock::MockServer;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const OPENAI_KEY: &str = "sk-env-openai-SECRET-0a1b2c3d4e5f6a7b8c9d";
const ANTHROPIC_KEY: &str = "sk-ant-vault-SECRET-9f8e7d6c5b4a39281706";
const GEMINI_KEY: &str = "AIzaGeminiEnvSECRET-55aa66bb77cc88dd99ee";
const MASTER: &str = "crux-master-SECRET-1234567890abcdef";
/// base64 of 32 bytes: the vault key.
const VAULT_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// An upstream that answers every request `401` and echoes the credential it got in the body and a header.
async fn echo_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut len = 0;
                while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf[len..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => len += n,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..len]).to_string();
                let key = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        let name = name.to_ascii_lowercase();
                        (name == "authorization" || name == "x-api-key")
                            .then(|| value.trim().trim_start_matches("Bearer ").to_owned())
                    })
                    .unwrap_or_default();
                let body =
                    json!({"error": {"message": format!("Incorrect API key provided: {key}"),
                    "type": "authentication_error", "code": "invalid_api_key"}})
                    .to_string();
                let resp = format!(
                    "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nx-echo-key: {key}\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    url
}

fn crux(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_crux"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env(
            "CRUX_DATABASE_URL",
            format!("sqlite://{}", dir.join("crux.db").display()),
        )
        .env("CRUX_VAULT_KEY", VAULT_KEY);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_level_session_leaks_no_secret() {
    let echo = echo_upstream().await;
    let mock = MockServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The Anthropic key lives in the vault only.
    let mut set = crux(dir.path())
        .args(["keys", "set", "anthropic", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut set.stdin.take().unwrap(), ANTHROPIC_KEY.as_bytes()).unwrap();
    let out = set.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut transcript =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);

    let mut child = crux(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CRUX_LOG", "trace")
        .env("CRUX_LOG_FORMAT", "json")
        .env("CRUX_MASTER_KEY", MASTER)
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("OPENAI_BASE_URL", format!("{echo}/v1"))
        .env("ANTHROPIC_BASE_URL", &echo)
        .env("GEMINI_API_KEY", GEMINI_KEY)
        .env("GEMINI_BASE_URL", mock.url())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut chunk = [0u8; 8192];
        let mut announced = false;
        loop {
            let n = stderr.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                break;
            }
            all.extend_from_slice(&chunk[..n]);
            if !announced
                && let Some(u) = String::from_utf8_lossy(&all)
                    .split(['"', ' ', '\n'])
                    .find(|w| w.starts_with("http://127.0.0.1:"))
            {
                tx.send(u.trim_end_matches(['\\', ',']).to_owned()).unwrap();
                announced = true;
            }
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve printed its address");
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, key: &str, body: Option<Value>| {
        let mut r = http
            .request(method, format!("{url}{path}"))
            .bearer_auth(key);
        if let Some(b) = body {
            r = r
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        async move {
            let resp = r.send().await.unwrap();
            let status = resp.status().as_u16();
            let headers = format!("{:?}", resp.headers());
            (status, resp.text().await.unwrap() + "\n" + &headers)
        }
    };
    let (status, created) = call(
        reqwest::Method::POST,
        "/api/virtual-keys",
        MASTER,
        Some(json!({"name": "client"})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let vk = serde_json::from_str::<Value>(created.lines().next().unwrap()).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let chat = |model: &str| json!({"model": model, "max_tokens": 20, "messages": [{"role": "user", "content": "hello"}]});
    let mut seen = Vec::new();
    for (path, model, stream) in [
        ("/v1/chat/completions", "openai/gpt-4o-mini", false),
        ("/v1/chat/completions", "openai/gpt-4o-mini", true),
        ("/v1/messages", "anthropic/claude-3-5-haiku-latest", false),
        ("/v1/messages", "anthropic/claude-3-5-haiku-latest", true),
        ("/v1/chat/completions", "gemini/gemini-2.0-flash", false),
    ] {
        let mut body = chat(model);
        body["stream"] = json!(stream);
        let (status, text) = call(reqwest::Method::POST, path, &vk, Some(body)).await;
        seen.push((status, model));
        transcript.push_str(&text);
    }
    assert_eq!(
        seen.iter().map(|s| s.0).collect::<Vec<_>>()[4],
        200,
        "{seen:?}"
    );
    assert!(
        seen[..4].iter().all(|s| s.0 == 502 || s.0 == 200),
        "{seen:?}"
    );
    let native = json!({"provider": "anthropic", "model": "claude-3-5-haiku-latest", "messages": [{"role": "user", "content": "n"}]});
    transcript.push_str(
        &call(reqwest::Method::POST, "/api/chat", &vk, Some(native))
            .await
            .1,
    );
    transcript.push_str(
        &call(
            reqwest::Method::POST,
            "/v1/chat/completions",
            "wrong-key",
            Some(chat("openai/gpt-4o-mini")),
        )
        .await
        .1,
    );
    for path in [
        "/metrics",
        "/api/logs?limit=50",
        "/api/keys",
        "/api/virtual-keys",
        "/api/metrics/summary",
    ] {
        let (status, text) = call(reqwest::Method::GET, path, MASTER, None).await;
        assert_eq!(status, 200, "{path}: {text}");
        transcript.push_str(&text);
    }
    assert!(
        transcript.contains("crux_requests_total"),
        "scraped /metrics"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::block_in_place(|| child.wait()).unwrap();
    assert!(exit.success(), "{exit:?}");
    let logs = reader.join().unwrap();
    assert!(
        logs.contains("TRACE") || logs.contains("\"level\":\"TRACE\""),
        "trace level was on"
    );
    // The store file (and any WAL left) byte for byte: chat logs, spend, key records.
    let mut store = Vec::new();
    for f in ["crux.db", "crux.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(f)) {
            store.extend(bytes);
        }
    }
    let store = String::from_utf8_lossy(&store);
    for (what, secret) in [
        ("OpenAI key (env)", OPENAI_KEY),
        ("Anthropic key (vault)", ANTHROPIC_KEY),
        ("Gemini key (env)", GEMINI_KEY),
        ("master key", MASTER),
        ("virtual key", vk.as_str()),
        ("vault key", VAULT_KEY),
    ] {
        // The distinctive middle of each secret, so a partly masked echo counts as a leak too.
        let core = &secret[4..secret.len() - 4];
        assert!(!logs.contains(core), "{what} in the trace log");
        assert!(
            !transcript.contains(core),
            "{what} in a response body, header or /metrics"
        );
        assert!(!store.contains(core), "{what} in the store");
    }
}
