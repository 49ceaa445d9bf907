//! End-to-end tests of `crux virtual-keys`, `crux logs`, `crux metrics` and `crux db` (migrate, copy between
//! SQLite and PostgreSQL, import-legacy), including exit codes for bad and unreachable stores.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../../crux-store/tests/common/mod.rs"]
mod common;
mod store_cli_support;

use common::legacy_fixtures::{LegacySchema, write_legacy};
use common::sample_log;
use store_cli_support::{Sandbox, stderr, stdout};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn virtual_keys_create_list_revoke() {
    let sb = Sandbox::new();
    let out = sb.run(&[
        "virtual-keys",
        "create",
        "ci",
        "--budget-usd",
        "5",
        "--rpm",
        "60",
        "--models",
        "openai/gpt-4o-mini,smart",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let key = stdout(&out).trim().to_owned();
    assert!(
        key.starts_with("crux-vk-") && !key.contains(' '),
        "stdout is the key alone: {key}"
    );
    assert!(stderr(&out).contains("only this once"));
    let list = sb.run(&["virtual-keys", "list"]);
    assert!(
        stdout(&list).contains("ci") && stdout(&list).contains("$5.00"),
        "{}",
        stdout(&list)
    );
    assert!(!stdout(&list).contains(&key), "the key is never listed");
    let listed = json(&sb.run(&["virtual-keys", "list", "--json"]));
    assert_eq!(
        listed[0]["models"],
        serde_json::json!(["openai/gpt-4o-mini", "smart"])
    );
    assert!(!listed.to_string().contains(&key));
    let dup = sb.run(&["virtual-keys", "create", "ci"]);
    assert_eq!(dup.status.code(), Some(2), "{}", stderr(&dup));
    assert!(stderr(&dup).contains("already exists"));
    assert_eq!(
        sb.run(&["virtual-keys", "revoke", "ci"]).status.code(),
        Some(0)
    );
    let again = sb.run(&["virtual-keys", "revoke", "ci"]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stdout(&sb.run(&["virtual-keys", "list"])).lines().count() == 1,
        "only the header remains"
    );
    assert!(stdout(&sb.run(&["virtual-keys", "list", "--all"])).contains("revoked"));
    let bad = sb.run(&["virtual-keys", "create", "x", "--rpm", "0"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn logs_metrics_and_prune() {
    let sb = Sandbox::new();
    assert!(sb.run(&["db", "migrate"]).status.success());
    let now = crux_store::time::now_ms();
    let url = sb.url();
    block_on(async move {
        let store = crux_store::Store::connect(&url).await.unwrap();
        let logs: Vec<_> = (0..30)
            .map(|i| {
                let mut l = sample_log(i);
                l.ts_ms = if i < 20 {
                    now - 60_000
                } else {
                    now - 3 * 86_400_000
                };
                l
            })
            .collect();
        store.insert_chat_logs(&logs).await.unwrap();
        store.close().await;
    });
    let all = json(&sb.run(&["logs", "--json", "--limit", "100"]));
    assert_eq!(all.as_array().unwrap().len(), 30);
    assert_eq!(
        json(&sb.run(&["logs", "--json", "--limit", "5"]))
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let openai = json(&sb.run(&["logs", "--json", "--provider", "openai", "--limit", "100"]));
    assert!(
        openai
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["provider"] == "openai")
    );
    assert_eq!(openai.as_array().unwrap().len(), 10);
    let errors = json(&sb.run(&["logs", "--json", "--status", "error", "--limit", "100"]));
    assert_eq!(errors.as_array().unwrap().len(), 3);
    let by_model = json(&sb.run(&[
        "logs",
        "--json",
        "--model",
        "openai/model-0",
        "--limit",
        "100",
    ]));
    assert_eq!(by_model.as_array().unwrap().len(), 3);
    let recent = json(&sb.run(&["logs", "--json", "--since", "1h", "--limit", "100"]));
    assert_eq!(recent.as_array().unwrap().len(), 20);
    let text = sb.run(&["logs", "--status", "error"]);
    assert!(
        stdout(&text).contains("error:rate_limit") && stdout(&text).contains("LATENCY"),
        "{}",
        stdout(&text)
    );
    assert_eq!(sb.run(&["logs", "--status", "meh"]).status.code(), Some(2));
    assert_eq!(
        sb.run(&["logs", "--since", "yesterday"]).status.code(),
        Some(2)
    );
    assert_eq!(sb.run(&["logs", "--limit", "0"]).status.code(), Some(2));

    let m = json(&sb.run(&["metrics", "--json"]));
    assert_eq!(
        (m["total"]["count"].as_u64(), m["total"]["errors"].as_u64()),
        (Some(30), Some(3))
    );
    assert_eq!(m["by_provider"].as_array().unwrap().len(), 3);
    assert!(m["total"]["p95_ms"].as_u64().is_some());
    let recent = json(&sb.run(&["metrics", "--json", "--since", "1h"]));
    assert_eq!(recent["total"]["count"].as_u64(), Some(20));
    let table = stdout(&sb.run(&["metrics"]));
    assert!(
        table.contains("P95") && table.contains("openai") && table.contains("10.0%"),
        "{table}"
    );

    let pruned = sb.run(&["logs", "prune", "--older-than", "1d"]);
    assert!(
        stdout(&pruned).contains("deleted 10 chat log(s)"),
        "{}",
        stdout(&pruned)
    );
    assert_eq!(
        json(&sb.run(&["logs", "--json", "--limit", "100"]))
            .as_array()
            .unwrap()
            .len(),
        20
    );
    assert_eq!(
        json(&sb.run(&["metrics", "--json"]))["total"]["count"].as_u64(),
        Some(30),
        "metrics kept"
    );
    let both = sb.run(&["logs", "prune", "--older-than", "1d", "--metrics"]);
    assert!(
        stdout(&both).contains("and 10 metric point(s)"),
        "{}",
        stdout(&both)
    );
    assert_eq!(
        sb.run(&["logs", "prune"]).status.code(),
        Some(2),
        "--older-than is required"
    );
}

#[test]
fn db_migrate_uses_the_xdg_data_dir_by_default() {
    let sb = Sandbox::new();
    let out = sb
        .cmd()
        .env_remove("CRUX_DATABASE_URL")
        .args(["db", "migrate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("applied migration(s) 1, 2"),
        "{}",
        stdout(&out)
    );
    assert!(sb.dir.path().join("data/crux/crux.db").exists());
    let again = sb
        .cmd()
        .env_remove("CRUX_DATABASE_URL")
        .args(["db", "migrate"])
        .output()
        .unwrap();
    assert!(
        stdout(&again).contains("already at version 3"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn bad_and_unreachable_stores() {
    let sb = Sandbox::new();
    let bad = sb
        .cmd()
        .env("CRUX_DATABASE_URL", "mysql://localhost/x")
        .args(["logs"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).starts_with("error: ") && stderr(&bad).lines().count() == 1,
        "{}",
        stderr(&bad)
    );
    let down = sb.run(&[
        "logs",
        "--database-url",
        "postgres://postgres:secret@127.0.0.1:1/x",
    ]);
    assert_eq!(down.status.code(), Some(1), "{}", stderr(&down));
    assert!(
        stderr(&down).contains("refused") && !stderr(&down).contains("secret"),
        "{}",
        stderr(&down)
    );
}

#[test]
fn import_legacy_both_schemas_with_redaction() {
    let sb = Sandbox::new();
    let legacy = sb.dir.path().join("providers.db");
    block_on(write_legacy(&legacy, LegacySchema::Both));
    let path = legacy.to_str().unwrap();
    let refused = sb.run(&["db", "import-legacy", path]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("crux keys init"),
        "{}",
        stderr(&refused)
    );
    assert!(
        sb.table_stats().iter().all(|t| t.rows == 0),
        "a refused import changes nothing"
    );

    assert!(sb.run(&["keys", "init"]).status.success());
    let out = sb
        .cmd()
        .env("CRUX_REDACT_PII", "1")
        .args(["db", "import-legacy", path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("schemas A and B")
            && text.contains("provider keys")
            && text.contains("note:"),
        "{text}"
    );
    let list = stdout(&sb.run(&["keys", "list"]));
    assert!(
        list.contains("sk-…R999") && list.contains("sk-…2222"),
        "{list}"
    );
    let logs = json(&sb.run(&["logs", "--json"]));
    let texts: Vec<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["request_text"].as_str())
        .collect();
    assert!(texts.contains(&"my mail is [EMAIL]"), "{texts:?}");
    let again = json(&sb.run(&["db", "import-legacy", path, "--json"]));
    for kind in [
        "keys",
        "prefs",
        "metrics",
        "chat_logs",
        "models",
        "model_meta",
        "observed",
    ] {
        assert_eq!(again[kind]["imported"].as_u64(), Some(0), "{kind}: {again}");
    }
    let missing = sb.run(&["db", "import-legacy", "/nonexistent/providers.db"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn db_copy_sqlite_to_sqlite_and_through_postgres() {
    let sb = Sandbox::new();
    assert!(sb.run(&["keys", "init"]).status.success());
    assert!(
        sb.run_stdin(&["keys", "set", "openai"], "sk-copy-cli-000011112222")
            .status
            .success()
    );
    assert!(sb.run(&["virtual-keys", "create", "ci"]).status.success());
    let url = sb.url();
    block_on(async move {
        let store = crux_store::Store::connect(&url).await.unwrap();
        store
            .insert_chat_logs(&(0..1_500).map(sample_log).collect::<Vec<_>>())
            .await
            .unwrap();
        store.close().await;
    });
    let expected = sb.table_stats();
    let copy_url = format!("sqlite://{}", sb.dir.path().join("copy.db").display());
    let out = sb.run(&["db", "copy", "--from", &sb.url(), "--to", &copy_url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("verified") && stdout(&out).contains("1500"),
        "{}",
        stdout(&out)
    );
    let copied = sb
        .cmd()
        .env("CRUX_DATABASE_URL", &copy_url)
        .args(["keys", "list"])
        .output()
        .unwrap();
    assert!(stdout(&copied).contains("sk-…2222"), "{}", stderr(&copied));
    let refused = sb.run(&["db", "copy", "--from", &sb.url(), "--to", &copy_url]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("--replace"),
        "{}",
        stderr(&refused)
    );
    assert!(
        sb.run(&[
            "db",
            "copy",
            "--from",
            &sb.url(),
            "--to",
            &copy_url,
            "--replace"
        ])
        .status
        .success()
    );
    assert_eq!(
        sb.run(&["db", "copy", "--from", &sb.url(), "--to", &sb.url()])
            .status
            .code(),
        Some(2)
    );

    let Some((pg_url, admin_url, schema)) = block_on(common::pg_schema()) else {
        return;
    };
    let back_url = format!("sqlite://{}", sb.dir.path().join("back.db").display());
    let to_pg = sb.run(&["db", "copy", "--from", &sb.url(), "--to", &pg_url, "--json"]);
    let from_pg = sb.run(&["db", "copy", "--from", &pg_url, "--to", &back_url]);
    let pg_list = sb
        .cmd()
        .env("CRUX_DATABASE_URL", &pg_url)
        .args(["keys", "list"])
        .output()
        .unwrap();
    block_on(common::drop_schema(&admin_url, &schema));
    assert_eq!(to_pg.status.code(), Some(0), "{}", stderr(&to_pg));
    let stats: Vec<crux_store::TableStats> = serde_json::from_value(json(&to_pg)).unwrap();
    assert_eq!(stats, expected);
    assert_eq!(from_pg.status.code(), Some(0), "{}", stderr(&from_pg));
    assert!(
        stdout(&pg_list).contains("sk-…2222"),
        "{}",
        stderr(&pg_list)
    );
    let back_stats = block_on(async move {
        let store = crux_store::Store::connect(&back_url).await.unwrap();
        let s = crux_store::table_stats(&store).await.unwrap();
        store.close().await;
        s
    });
    assert_eq!(
        back_stats, expected,
        "SQLite → PostgreSQL → SQLite preserves every row"
    );
}
