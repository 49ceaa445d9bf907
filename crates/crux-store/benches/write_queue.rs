//! Write-queue benchmarks: rows/s through the queue into SQLite (and PostgreSQL when `CRUX_TEST_PG_URL` is set),
//! and the latency of `try_enqueue` (divan's per-call timing, plus a p50/p99 pass printed after the run).
//!
//! `cargo bench -p crux-store --bench write_queue`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::LazyLock;
use std::time::Instant;

use crux_store::{ChatLog, LogStatus, QueueConfig, Record, Store, WriteQueue};
use divan::Bencher;
use divan::counter::ItemsCount;
use tokio::runtime::Runtime;

const ROWS: usize = 10_000;

static RT: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
});

static DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| tempfile::tempdir().unwrap());

fn record(i: usize) -> Record {
    let mut log = ChatLog::new(
        "openai",
        "gpt-4o-mini",
        "/v1/chat/completions",
        LogStatus::Ok,
        100 + (i % 50) as u64,
    );
    log.usage.prompt = Some(120);
    log.usage.completion = Some(40);
    log.request_text = Some("Summarise the following paragraph in one sentence, please.".into());
    log.response_text = Some("A short summary of the paragraph.".into());
    Record::ChatLog(Box::new(log))
}

async fn sqlite_store(name: &str) -> Store {
    let url = format!("sqlite://{}", DIR.path().join(name).display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

async fn fill_and_drain(store: &Store) {
    let queue = WriteQueue::spawn(
        store.clone(),
        QueueConfig {
            capacity: ROWS,
            ..Default::default()
        },
    );
    for i in 0..ROWS {
        assert!(queue.try_enqueue(record(i)));
    }
    let stats = queue.shutdown().await;
    assert_eq!(stats.written as usize, ROWS);
}

fn main() {
    divan::main();
    enqueue_percentiles();
}

/// 10,000 chat logs (each also writing its metric point) enqueued, then `shutdown()` drains them.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn sqlite_10k_rows(bencher: Bencher) {
    let store = RT.block_on(sqlite_store("bench.db"));
    bencher
        .counter(ItemsCount::new(ROWS))
        .bench_local(|| RT.block_on(fill_and_drain(&store)));
}

/// The same into a fresh PostgreSQL schema (skipped without `CRUX_TEST_PG_URL`).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn postgres_10k_rows(bencher: Bencher) {
    let Some(admin) = std::env::var("CRUX_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("postgres_10k_rows skipped: CRUX_TEST_PG_URL not set");
        return;
    };
    let schema = format!("crux_bench_{}", std::process::id());
    let store = RT.block_on(async {
        let admin_store = Store::connect(&admin).await.unwrap();
        if let Store::Postgres(pool) = &admin_store {
            let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(pool)
                .await
                .unwrap();
        }
        admin_store.close().await;
        let sep = if admin.contains('?') { '&' } else { '?' };
        let store = Store::connect(&format!("{admin}{sep}options=-csearch_path%3D{schema}"))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store
    });
    bencher
        .counter(ItemsCount::new(ROWS))
        .bench_local(|| RT.block_on(fill_and_drain(&store)));
    RT.block_on(async {
        store.close().await;
        let admin_store = Store::connect(&admin).await.unwrap();
        if let Store::Postgres(pool) = &admin_store {
            let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(pool)
                .await
                .unwrap();
        }
        admin_store.close().await;
    });
}

/// One `try_enqueue` while the writer drains into SQLite in the background.
#[divan::bench(sample_count = 20, sample_size = 500)]
fn try_enqueue(bencher: Bencher) {
    let store = RT.block_on(sqlite_store("enqueue.db"));
    let _guard = RT.enter();
    let queue = WriteQueue::spawn(
        store,
        QueueConfig {
            capacity: 100_000,
            ..Default::default()
        },
    );
    let sender = queue.sender();
    bencher
        .with_inputs(|| record(1))
        .bench_local_values(|r| sender.try_enqueue(r));
    drop(sender);
    RT.block_on(queue.shutdown());
}

/// Times 50,000 individual `try_enqueue` calls (writer running) and prints p50 / p99 / max.
fn enqueue_percentiles() {
    let store = RT.block_on(sqlite_store("percentiles.db"));
    let _guard = RT.enter();
    let queue = WriteQueue::spawn(
        store,
        QueueConfig {
            capacity: 100_000,
            ..Default::default()
        },
    );
    let mut samples = Vec::with_capacity(50_000);
    for i in 0..50_000 {
        let r = record(i);
        let t = Instant::now();
        let accepted = queue.try_enqueue(r);
        samples.push(t.elapsed());
        assert!(accepted);
    }
    let stats = RT.block_on(queue.shutdown());
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "try_enqueue latency over {} calls: p50 {:?}, p99 {:?}, max {:?} (written {}, dropped {})",
        samples.len(),
        at(0.50),
        at(0.99),
        samples[samples.len() - 1],
        stats.written,
        stats.dropped
    );
}
