//! Test harness: runs one test body against SQLite (a temp file, always) and PostgreSQL (a fresh schema of
//! `CRUX_TEST_PG_URL`, when set; with `CRUX_REQUIRE_POSTGRES=1` a missing or unreachable server fails the test).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

pub mod legacy_fixtures;

use crux_store::{ChatLog, LogStatus, Store};
use sqlx::Connection;

/// What a test body gets: a migrated store and the URL it was opened with (to open more instances).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub store: Store,
    pub url: String,
}

enum Cleanup {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

/// `CRUX_TEST_PG_URL`, or `None` after printing why the test is skipped (panics when PostgreSQL is required).
pub fn pg_url() -> Option<String> {
    let required = std::env::var("CRUX_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    match std::env::var("CRUX_TEST_PG_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        Some(url) => Some(url),
        None if required => panic!("CRUX_REQUIRE_POSTGRES=1 but CRUX_TEST_PG_URL is not set"),
        None => {
            note_pg_skipped("CRUX_TEST_PG_URL is not set");
            None
        }
    }
}

/// Prints the one line saying the PostgreSQL variants were skipped and how to run them: once per test run, however
/// many test binaries include this module (a marker file keyed by the parent `cargo test` / `cargo nextest` process).
/// Written to the real stderr, which libtest does not capture, so `cargo test` shows it next to its `ok` lines.
pub fn note_pg_skipped(why: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if first_in_run("postgres-store-tests-skipped") {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "note: PostgreSQL store tests skipped ({why}): set CRUX_TEST_PG_URL=postgres://USER@HOST:5432/DB \
                 to run them (CRUX_REQUIRE_POSTGRES=1 makes this an error)"
            );
        }
    });
}

/// True for the first caller with this `key` under the current parent process (the test runner), false after.
pub fn first_in_run(key: &str) -> bool {
    let ppid = std::os::unix::process::parent_id();
    // The parent's start time (field 22 of /proc/PID/stat) tells a reused pid from the same runner.
    let started = std::fs::read_to_string(format!("/proc/{ppid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_owned();
            rest.split_whitespace().nth(19).map(str::to_owned)
        })
        .unwrap_or_default();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("crux-run-notes");
    if std::fs::create_dir_all(&dir).is_err() {
        return true;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.join(format!("{key}-{ppid}-{started}")))
    {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::AlreadyExists,
    }
}

fn unique_suffix() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// `url` with `search_path` set to `schema` for every connection.
pub fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

/// A fresh schema on `CRUX_TEST_PG_URL` and a URL whose connections use it; `None` when skipped.
pub async fn pg_schema() -> Option<(String, String, String)> {
    let admin_url = pg_url()?;
    let schema = format!("crux_test_{}", unique_suffix());
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if std::env::var("CRUX_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
            panic!("CRUX_REQUIRE_POSTGRES=1 but PostgreSQL at CRUX_TEST_PG_URL is unreachable: {e}")
        }
        Err(e) => {
            note_pg_skipped(&format!("cannot connect to CRUX_TEST_PG_URL: {e}"));
            return None;
        }
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let _ = admin.close().await;
    let url = with_search_path(&admin_url, &schema);
    Some((url, admin_url, schema))
}

/// Drops a test schema.
pub async fn drop_schema(admin_url: &str, schema: &str) {
    if let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .execute(&mut admin)
        .await;
        let _ = admin.close().await;
    }
}

/// Runs `body` against a fresh migrated store on `backend` ("sqlite" or "postgres"), then cleans up (also when
/// the body panics, whose panic is then resumed).
pub async fn run<F, Fut>(backend: &str, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (ctx, cleanup) = match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("crux.db").display());
            let store = Store::connect(&url).await.unwrap();
            (Ctx { store, url }, Cleanup::Sqlite(dir))
        }
        _ => {
            let Some((url, admin_url, schema)) = pg_schema().await else {
                return;
            };
            let store = Store::connect(&url).await.unwrap();
            (Ctx { store, url }, Cleanup::Postgres { admin_url, schema })
        }
    };
    ctx.store.migrate().await.unwrap();
    let store = ctx.store.clone();
    let outcome = tokio::spawn(body(ctx)).await;
    store.close().await;
    match cleanup {
        Cleanup::Sqlite(dir) => drop(dir),
        Cleanup::Postgres { admin_url, schema } => drop_schema(&admin_url, &schema).await,
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Declares each listed `async fn name(ctx: Ctx)` as two tests: `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::run("sqlite", super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::run("postgres", super::$name).await;
                }
            )*
        }
    };
}

/// A chat log with distinguishable fields.
pub fn sample_log(i: u64) -> ChatLog {
    let provider = ["openai", "anthropic", "groq"][(i % 3) as usize];
    let status = if i.is_multiple_of(10) {
        LogStatus::Error
    } else {
        LogStatus::Ok
    };
    let mut log = ChatLog::new(
        provider,
        format!("model-{}", i % 4),
        "/v1/chat/completions",
        status,
        10 + i % 100,
    );
    log.ts_ms = 1_700_000_000_000 + i as i64 * 1000;
    log.ttft_ms = Some(5 + i % 7);
    log.usage.prompt = Some(100 + i);
    log.usage.completion = Some(20 + i % 50);
    log.usage.total = Some(120 + i + i % 50);
    log.cost_usd = Some(0.000_5 * (i % 9) as f64);
    if status == LogStatus::Error {
        log.error_code = Some("rate_limit".into());
    }
    log.request_text = Some(format!("question {i}"));
    log.response_text = Some(format!("answer {i}"));
    log.metadata = Some(serde_json::json!({"i": i}));
    log
}
