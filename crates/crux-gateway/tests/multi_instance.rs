//! Two gateway instances sharing one store (PostgreSQL when `CRUX_TEST_PG_URL` is set, else one SQLite file):
//! rpm limits and budgets hold across instances, within the documented one-sync-interval overshoot.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use crux_gateway::sync;
use harness::Stored;
use serde_json::json;
use sqlx::Connection;

const MASTER: &str = "master-secret";

/// A store URL both instances use, and a cleanup for PostgreSQL schemas.
async fn shared_url(dir: &tempfile::TempDir) -> (String, Option<(String, String)>) {
    let required = std::env::var("CRUX_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    match std::env::var("CRUX_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(admin) => {
            let schema = format!("crux_gw_{}_{}", std::process::id(), fastrand_suffix());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("PostgreSQL from CRUX_TEST_PG_URL");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&mut conn)
                .await
                .unwrap();
            let sep = if admin.contains('?') { '&' } else { '?' };
            (
                format!("{admin}{sep}options=-csearch_path%3D{schema}"),
                Some((admin, schema)),
            )
        }
        None => {
            assert!(
                !required,
                "CRUX_REQUIRE_POSTGRES=1 but CRUX_TEST_PG_URL is not set"
            );
            // The real stderr (not `eprintln!`, which libtest captures for passing tests), so `cargo test` shows it.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "note: PostgreSQL variant of the gateway multi-instance test skipped (ran on one shared SQLite \
                 file): set CRUX_TEST_PG_URL=postgres://USER@HOST:5432/DB to run it (CRUX_REQUIRE_POSTGRES=1 \
                 makes this an error)"
            );
            (
                format!("sqlite://{}", dir.path().join("shared.db").display()),
                None,
            )
        }
    }
}

fn fastrand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        % 1_000_000_007
}

async fn drop_schema(cleanup: Option<(String, String)>) {
    if let Some((admin, schema)) = cleanup {
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

async fn settle(instances: &mut [&mut Stored]) {
    // Let the write queues flush (5 ms interval in the harness), then run one sync round on every instance.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    for s in instances.iter() {
        sync::sync_limits(&s.gateway.state).await.unwrap();
    }
}

#[tokio::test]
async fn rpm_and_budget_hold_across_two_instances() {
    let dir = tempfile::tempdir().unwrap();
    let (url, cleanup) = shared_url(&dir).await;
    let mut a = Stored::start_url(&url, Some(MASTER), tempfile::tempdir().unwrap()).await;
    let mut b = Stored::start_url(&url, Some(MASTER), tempfile::tempdir().unwrap()).await;
    let (status, _, text) = a
        .gateway
        .post(
            "/api/virtual-keys",
            MASTER,
            &json!({"name": "shared", "rpm": 4}),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let key = serde_json::from_str::<serde_json::Value>(&text).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    settle(&mut [&mut a, &mut b]).await;
    let chat =
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    for _ in 0..2 {
        assert_eq!(
            a.gateway.post("/v1/chat/completions", &key, &chat).await.0,
            200
        );
    }
    settle(&mut [&mut a, &mut b]).await;
    // B has served nothing itself, but sees A's two requests: two more fit, the fifth does not.
    for _ in 0..2 {
        assert_eq!(
            b.gateway.post("/v1/chat/completions", &key, &chat).await.0,
            200
        );
    }
    let (status, headers, _) = b.gateway.post("/v1/chat/completions", &key, &chat).await;
    assert_eq!(status, 429);
    assert!(headers.contains_key("retry-after"));
    settle(&mut [&mut a, &mut b]).await;
    assert_eq!(
        a.gateway.post("/v1/chat/completions", &key, &chat).await.0,
        429,
        "A sees B's requests too"
    );

    // Budget: spend recorded through one instance stops the key on the other after a sync.
    let (_, _, text) = a
        .gateway
        .post(
            "/api/virtual-keys",
            MASTER,
            &json!({"name": "budget", "budget_usd": 0.000001}),
        )
        .await;
    let bkey = serde_json::from_str::<serde_json::Value>(&text).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    settle(&mut [&mut a, &mut b]).await;
    let pricey =
        json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "spend"}]});
    assert_eq!(
        a.gateway
            .post("/v1/chat/completions", &bkey, &pricey)
            .await
            .0,
        200
    );
    settle(&mut [&mut a, &mut b]).await;
    let (status, _, text) = b.gateway.post("/v1/chat/completions", &bkey, &pricey).await;
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("budget"));
    a.drain().await;
    b.drain().await;
    drop_schema(cleanup).await;
}
