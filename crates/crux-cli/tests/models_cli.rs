//! `crux models`: refresh against the mock stores a snapshot that survives a failed refresh; validate-defaults;
//! observed capabilities in `show` and cleared by `forget`.

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

/// What the gateway recorded (a model rejected tools) shows in `models show` next to the catalog value, and
/// `models forget` clears it from the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_displays_observations_and_forget_clears_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crux").join("crux.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let store = crux_store::Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
        .record_observed_capability("openai", "gpt-4o-mini", "tools", false)
        .await
        .unwrap();
    store
        .record_observed_capability("openai", "gpt-4o-mini", "json_schema", false)
        .await
        .unwrap();
    let show = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let data = dir.path().to_owned();
        tokio::task::block_in_place(move || {
            run(crux(&data, "http://127.0.0.1:9").arg("models").args(&args))
        })
    };
    let (out, stdout, stderr) = show(&["show", "openai/gpt-4o-mini"]);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("tools=false"), "{stdout}");
    assert!(
        stdout.contains("observed: tools=false (catalog: true)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("observed: json_schema=false (catalog: true)"),
        "{stdout}"
    );
    let (_, json, _) = show(&["show", "openai/gpt-4o-mini", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["observed"]["tools"],
        serde_json::json!({"value": false, "catalog": true}),
        "{v}"
    );

    let (out, stdout, stderr) = show(&["forget", "openai/gpt-4o-mini"]);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("forgot 2 observed capabilities of openai/gpt-4o-mini"),
        "{stdout}"
    );
    assert!(
        store
            .load_observed_capabilities("openai")
            .await
            .unwrap()
            .is_empty()
    );
    let (_, stdout, _) = show(&["show", "openai/gpt-4o-mini"]);
    assert!(
        stdout.contains("tools=true") && !stdout.contains("observed:"),
        "{stdout}"
    );
    let (out, stdout, _) = show(&["forget", "openai/gpt-4o-mini"]);
    assert!(out.status.success());
    assert!(
        stdout.contains("nothing observed about openai/gpt-4o-mini"),
        "{stdout}"
    );
    let (out, _, stderr) = show(&["forget", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    store.close().await;
}
