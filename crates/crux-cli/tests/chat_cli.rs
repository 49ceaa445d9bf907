//! End-to-end tests of the `crux` binary: `crux chat` against `crux mock`, exit codes and error lines.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use crux_mock::MockServer;

const KEY_VARS: [&str; 10] = [
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENROUTER_API_KEY",
    "DEEPSEEK_API_KEY",
    "XAI_API_KEY",
    "GROQ_API_KEY",
    "MISTRAL_API_KEY",
    "CRUX_MASTER_KEY",
];

fn crux() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_crux"));
    for v in KEY_VARS {
        c.env_remove(v);
    }
    c.env("CRUX_LOG", "error");
    c
}

/// The environment variables that point `provider` at `mock_url` (as users would set them).
fn endpoint_env(provider: &str, mock_url: &str) -> Vec<(String, String)> {
    let upper = provider.to_uppercase();
    let base = match provider {
        "ollama" => return vec![("OLLAMA_HOST".into(), mock_url.to_owned())],
        "anthropic" | "gemini" => mock_url.to_owned(),
        _ => format!("{mock_url}/v1"),
    };
    vec![
        (format!("{upper}_BASE_URL"), base),
        (format!("{upper}_API_KEY"), "test-key".into()),
    ]
}

fn chat(provider: &str, mock_url: &str, model: &str, extra: &[&str]) -> Output {
    crux()
        .envs(endpoint_env(provider, mock_url))
        .args(["chat", &format!("{provider}/{model}"), "hello there"])
        .args(extra)
        .output()
        .unwrap()
}

const ALL: [(&str, &str); 10] = [
    ("openai", "gpt-4o-mini"),
    ("openai", "o4-mini"),
    ("anthropic", "claude-3-5-haiku-latest"),
    ("gemini", "gemini-2.0-flash"),
    ("ollama", "llama3.2"),
    ("openrouter", "meta-llama/llama-3.1-8b-instruct"),
    ("deepseek", "deepseek-chat"),
    ("xai", "grok-3-mini"),
    ("groq", "llama-3.3-70b-versatile"),
    ("mistral", "mistral-small-latest"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_every_provider_stream_and_not() {
    let mock = MockServer::start().await.unwrap();
    for (provider, model) in ALL {
        for extra in [&["--stream"][..], &[][..]] {
            let out = tokio::task::block_in_place(|| chat(provider, &mock.url(), model, extra));
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{provider} {extra:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                stdout.contains("hello there"),
                "{provider} {extra:?}: {stdout}"
            );
        }
    }
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 20);
    assert!(
        reqs.iter()
            .any(|r| r.body["model"] == "meta-llama/llama-3.1-8b-instruct")
    );
    assert!(reqs.iter().any(|r| r.path == "/v1/responses"));
    assert!(reqs.iter().any(|r| r.path == "/v1/messages"));
    assert!(reqs.iter().any(|r| r.path == "/api/chat"));
    assert!(reqs.iter().any(|r| {
        r.path
            .starts_with("/v1beta/models/gemini-2.0-flash:streamGenerateContent")
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_options_reach_the_upstream() {
    let mock = MockServer::start().await.unwrap();
    let out = tokio::task::block_in_place(|| {
        chat(
            "openai",
            &mock.url(),
            "gpt-4o-mini",
            &[
                "--system",
                "be brief",
                "--max-tokens",
                "50",
                "--temperature",
                "0.5",
                "--json",
            ],
        )
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["finish"], "stop");
    assert!(json["usage"]["prompt"].as_u64().unwrap() > 0);
    let body = &mock.requests()[0].body;
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][0]["content"], "be brief");
    assert_eq!(body["max_completion_tokens"], 50);
    assert_eq!(body["temperature"], 0.5);
}

#[test]
fn unknown_provider_is_usage_error_listing_providers() {
    let out = crux().args(["chat", "nope/model", "hi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("openai") && err.contains("mistral"), "{err}");
}

#[test]
fn missing_key_names_the_variable() {
    let out = crux()
        .args(["chat", "groq/llama-3.3-70b-versatile", "hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GROQ_API_KEY"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_failure_exits_1_without_leaking_the_key() {
    let mock = MockServer::start().await.unwrap();
    let base = format!("{}/v1", mock.url());
    let out = tokio::task::block_in_place(|| {
        crux()
            .env("OPENAI_BASE_URL", &base)
            .env("OPENAI_API_KEY", "bad-key")
            .args(["chat", "openai/gpt-4o-mini", "hi"])
            .output()
            .unwrap()
    });
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401") && err.contains("auth"), "{err}");
    assert!(!err.contains("bad-key"), "{err}");
}

#[test]
fn connection_refused_exits_1() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = crux()
        .env("OPENAI_BASE_URL", format!("http://127.0.0.1:{port}/v1"))
        .env("OPENAI_API_KEY", "k")
        .args(["chat", "openai/gpt-4o-mini", "hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unavailable"));
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn crux_mock_command_serves_crux_chat() {
    let mut child = crux()
        .args(["mock", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let guard = Killed(child);
    let mut line = String::new();
    BufReader::new(stderr).read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("listening line with the URL")
        .to_owned();
    let out = chat("openai", &url, "gpt-4o-mini", &["--stream"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("hello there"));
    drop(guard);
}

#[test]
fn every_command_has_help_with_an_example() {
    let top = crux().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&top.stdout).into_owned();
    assert!(top.status.success() && text.contains("Examples:"), "{text}");
    assert!(!text.contains("(soon)"), "{text}");
    for cmd in [
        "chat",
        "mock",
        "models",
        "serve",
        "keys",
        "virtual-keys",
        "logs",
        "metrics",
        "db",
        "shell",
        "bench",
        "doctor",
        "completions",
    ] {
        let out = crux().args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{cmd}: {help}");
        assert!(
            help.contains("Examples:") && help.contains(&format!("crux {cmd}")),
            "{cmd}: {help}"
        );
    }
}
