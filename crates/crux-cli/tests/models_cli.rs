//! `crux models`: refresh against the mock stores a snapshot that survives a failed refresh; validate-defaults.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output};

use crux_mock::MockServer;

fn crux(data: &std::path::Path, base: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_crux"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("XDG_DATA_HOME", data)
        .env("XDG_CONFIG_HOME", data)
        .env("GEMINI_API_KEY", "k")
        .env("GEMINI_BASE_URL", base)
        .env("CRUX_LOG", "error");
    c
}

fn run(c: &mut Command) -> (Output, String, String) {
    let out = c.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_stores_a_snapshot_that_survives_a_failed_refresh() {
    let mock = MockServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (out, stdout, stderr) = tokio::task::block_in_place(|| {
        run(crux(dir.path(), &mock.url()).args(["models", "list", "gemini", "--refresh", "--json"]))
    });
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("snapshot stored"), "{stderr}");
    let listed: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    assert!(
        listed.iter().any(|m| m["listed"] == true),
        "entries come from the fetched list"
    );

    let dead = format!(
        "http://{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    );
    let (out, stdout, stderr) = tokio::task::block_in_place(|| {
        run(crux(dir.path(), &dead).args(["models", "list", "gemini", "--refresh", "--json"]))
    });
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("refresh failed") && stderr.contains("kept the last snapshot"),
        "{stderr}"
    );
    let listed: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    assert!(
        listed.iter().any(|m| m["listed"] == true),
        "the stored snapshot is still used"
    );
}

#[test]
fn validate_defaults_reports_unknown_route_targets() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("crux.toml");
    std::fs::write(
        &config,
        "[routes.smart]\ntargets = [\"openai/gpt-4o\", \"anthropic/claude-nope-9\"]\n",
    )
    .unwrap();
    let (out, stdout, _) = run(crux(dir.path(), "http://127.0.0.1:9")
        .args(["models", "validate-defaults", "--config"])
        .arg(&config));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("claude-nope-9"), "{stdout}");
    let (out, stdout, _) =
        run(crux(dir.path(), "http://127.0.0.1:9").args(["models", "validate-defaults"]));
    assert!(out.status.success(), "{stdout}");
}
