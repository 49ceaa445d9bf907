//! The write queue through a store outage, on both backends: nothing accepted is lost and everything is written in
//! order once the store returns; the memory bound counts drops instead of growing; shutdown with a dead store ends
//! within its timeout; refused records are skipped, not retried forever; a bounded ping answers fast.
//!
//! The outage is the `chat_logs` table renamed away (and back): every batch then fails on the writer's error path,
//! deterministically, on SQLite and PostgreSQL alike. An unreachable PostgreSQL server is a closed local port.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::{Ctx, sample_log};
use crux_store::{LogFilter, QueueConfig, Record, Store, WriteQueue};

store_tests!(
    records_survive_an_outage_in_order,
    the_memory_bound_counts_drops,
    shutdown_with_a_dead_store_ends_in_time,
    refused_records_are_skipped,
    ping_within_answers_on_a_live_store,
);

fn record(i: u64) -> Record {
    Record::ChatLog(Box::new(sample_log(i)))
}

/// Fast retries, small batches.
fn config() -> QueueConfig {
    QueueConfig {
        batch_rows: 7,
        flush_interval: Duration::from_millis(2),
        retry_initial: Duration::from_millis(5),
        retry_max: Duration::from_millis(40),
        ..Default::default()
    }
}

async fn exec(store: &Store, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match store {
        Store::Sqlite(p) => drop(sqlx::raw_sql(sql).execute(p).await.unwrap()),
        Store::Postgres(p) => drop(sqlx::raw_sql(sql).execute(p).await.unwrap()),
    }
}

async fn take_down(store: &Store) {
    exec(store, "ALTER TABLE chat_logs RENAME TO chat_logs_away").await;
}

async fn bring_back(store: &Store) {
    exec(store, "ALTER TABLE chat_logs_away RENAME TO chat_logs").await;
}

/// Polls `cond` every 5 ms; fails after 60 s (a hang, not a timing assertion).
async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The `i` of every stored chat log, in insertion (id) order.
async fn stored_order(store: &Store) -> Vec<u64> {
    let filter = LogFilter {
        limit: 100_000,
        ..Default::default()
    };
    let mut entries = store.query_chat_logs(&filter).await.unwrap();
    entries.sort_by_key(|e| e.id);
    entries
        .iter()
        .map(|e| e.log.metadata.as_ref().unwrap()["i"].as_u64().unwrap())
        .collect()
}

/// A URL of a PostgreSQL server that is not there: a local port nothing listens on.
fn dead_pg_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("postgres://postgres@127.0.0.1:{port}/test")
}

/// A store on [`dead_pg_url`] with the production pool timeout (10 s), created without connecting.
fn dead_pg_store() -> Store {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy(&dead_pg_url())
        .unwrap();
    Store::Postgres(pool)
}

async fn records_survive_an_outage_in_order(ctx: Ctx) {
    let (vk, _) = ctx
        .store
        .create_virtual_key(&crux_store::NewVirtualKey {
            name: "outage".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let queue = WriteQueue::spawn(ctx.store.clone(), config());
    let mut accepted = 0u64;
    for i in 0..10 {
        assert!(queue.try_enqueue(record(i)));
        accepted += 1;
    }
    wait_for("the first records", || queue.stats().written == accepted).await;

    take_down(&ctx.store).await;
    let mut spends = 0u64;
    for i in 10..300 {
        assert!(queue.try_enqueue(record(i)));
        accepted += 1;
        if i % 10 == 0 {
            assert!(queue.try_enqueue(Record::Spend {
                virtual_key_id: vk.id.clone(),
                usd: 0.5,
            }));
            accepted += 1;
            spends += 1;
        }
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    wait_for("several failed attempts", || {
        queue.stats().failed_batches >= 3
    })
    .await;
    let during = queue.stats();
    assert_eq!(during.written, 10);
    assert_eq!(during.queued, accepted - 10, "{during:?}");
    assert!(during.pending > 0, "{during:?}");

    bring_back(&ctx.store).await;
    wait_for("the backlog to be written", || {
        queue.stats().written == accepted
    })
    .await;
    let live = queue.stats();
    assert_eq!(
        (live.queued, live.pending, live.dropped, live.failed),
        (0, 0, 0, 0),
        "the depth returns to 0: {live:?}"
    );
    let end = queue.shutdown().await;
    assert_eq!((end.written, end.dropped, end.queued), (accepted, 0, 0));
    assert_eq!(stored_order(&ctx.store).await, (0..300).collect::<Vec<_>>());
    assert_eq!(ctx.store.count_metric_points().await.unwrap(), 300);
    let keys = ctx.store.list_virtual_keys(false).await.unwrap();
    assert!((keys[0].spend_usd - 0.5 * spends as f64).abs() < 1e-9);
}

async fn the_memory_bound_counts_drops(ctx: Ctx) {
    let (capacity, max_pending) = (8u64, 20u64);
    let queue = WriteQueue::spawn(
        ctx.store.clone(),
        QueueConfig {
            capacity: capacity as usize,
            max_pending: max_pending as usize,
            batch_rows: 5,
            ..config()
        },
    );
    take_down(&ctx.store).await;
    // Fill the writer's backlog: each record is taken from the channel before the next is sent.
    let mut i = 0;
    while queue.stats().pending < max_pending {
        assert!(queue.try_enqueue(record(i)));
        i += 1;
        wait_for("the writer to take the record", || {
            let s = queue.stats();
            s.queued == s.pending || s.pending >= max_pending
        })
        .await;
    }
    // Then the channel.
    let s = queue.stats();
    for _ in 0..capacity - (s.queued - s.pending) {
        assert!(queue.try_enqueue(record(i)));
        i += 1;
    }
    wait_for("a retry while full", || queue.stats().failed_batches >= 2).await;
    for n in 0..50 {
        assert!(!queue.try_enqueue(record(1_000 + n)), "beyond the bound");
    }
    let full = queue.stats();
    assert_eq!(
        (full.queued, full.pending, full.dropped, full.written),
        (capacity + max_pending, max_pending, 50, 0),
        "{full:?}"
    );
    bring_back(&ctx.store).await;
    let end = queue.shutdown().await;
    assert_eq!((end.written, end.dropped, end.queued), (i, 50, 0));
    assert_eq!(i, capacity + max_pending);
    assert_eq!(stored_order(&ctx.store).await, (0..i).collect::<Vec<_>>());
}

async fn shutdown_with_a_dead_store_ends_in_time(ctx: Ctx) {
    let queue = WriteQueue::spawn(
        ctx.store.clone(),
        QueueConfig {
            shutdown_timeout: Duration::from_secs(1),
            ..config()
        },
    );
    take_down(&ctx.store).await;
    for i in 0..10 {
        assert!(queue.try_enqueue(record(i)));
    }
    wait_for("a failed attempt", || queue.stats().failed_batches >= 1).await;
    let start = Instant::now();
    let end = queue.shutdown().await;
    assert!(start.elapsed() < Duration::from_secs(5), "shutdown hung");
    assert_eq!(
        (end.written, end.dropped, end.queued),
        (0, 10, 0),
        "{end:?}"
    );
    bring_back(&ctx.store).await;
    assert_eq!(ctx.store.count_chat_logs().await.unwrap(), 0);
}

/// PostgreSQL refuses text with a NUL character; the record is skipped and the rest are written in order.
/// (SQLite stores it, so there every record is written.)
async fn refused_records_are_skipped(ctx: Ctx) {
    let queue = WriteQueue::spawn(ctx.store.clone(), config());
    for i in 0..30 {
        let mut log = sample_log(i);
        if i == 11 {
            log.response_text = Some("bad \0 byte".into());
        }
        assert!(queue.try_enqueue(Record::ChatLog(Box::new(log))));
    }
    let end = queue.shutdown().await;
    let expected: Vec<u64> = match ctx.store {
        Store::Postgres(_) => {
            assert_eq!(
                (end.written, end.failed, end.dropped),
                (29, 1, 0),
                "{end:?}"
            );
            (0..30).filter(|i| *i != 11).collect()
        }
        Store::Sqlite(_) => {
            assert_eq!(
                (end.written, end.failed, end.dropped),
                (30, 0, 0),
                "{end:?}"
            );
            (0..30).collect()
        }
    };
    assert_eq!(stored_order(&ctx.store).await, expected);
}

async fn ping_within_answers_on_a_live_store(ctx: Ctx) {
    ctx.store.ping_within(Duration::from_secs(1)).await.unwrap();
    ctx.store.ping().await.unwrap();
}

#[tokio::test]
async fn ping_within_fails_fast_on_a_dead_postgres() {
    let store = dead_pg_store();
    let start = Instant::now();
    let err = store.ping_within(Duration::from_secs(1)).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(5), "the ping hung");
    assert_eq!(err.code(), crux_llm::ErrorCode::Unavailable, "{err}");
}

/// A write attempt stuck waiting for a connection (10 s pool timeout) is abandoned at the 1 s shutdown deadline.
#[tokio::test]
async fn shutdown_with_an_unreachable_postgres_ends_in_time() {
    let queue = WriteQueue::spawn(
        dead_pg_store(),
        QueueConfig {
            shutdown_timeout: Duration::from_secs(1),
            ..config()
        },
    );
    for i in 0..5 {
        assert!(queue.try_enqueue(record(i)));
    }
    let start = Instant::now();
    let end = queue.shutdown().await;
    assert!(start.elapsed() < Duration::from_secs(5), "shutdown hung");
    assert_eq!((end.written, end.dropped, end.queued), (0, 5, 0), "{end:?}");
}
