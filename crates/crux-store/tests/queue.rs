//! Write-queue tests on both backends: concurrency without "database is locked", several store instances on one
//! database, drain on shutdown, drops when full, redaction in the writer.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Ctx, sample_log};
use crux_store::{LogFilter, QueueConfig, Record, RedactConfig, Redactor, Store, WriteQueue};

store_tests!(
    eight_tasks_thousand_writes_each,
    two_store_instances_one_database,
    shutdown_drains_ten_thousand,
    redacts_in_the_writer_and_records_spend,
);

fn record(i: u64) -> Record {
    Record::ChatLog(Box::new(sample_log(i)))
}

async fn eight_tasks_thousand_writes_each(ctx: Ctx) {
    let queue = WriteQueue::spawn(
        ctx.store.clone(),
        QueueConfig {
            capacity: 8_000,
            batch_rows: 200,
            ..Default::default()
        },
    );
    let tasks: Vec<_> = (0..8u64)
        .map(|t| {
            let tx = queue.sender();
            tokio::spawn(async move {
                for i in 0..1_000u64 {
                    assert!(tx.try_enqueue(record(t * 1_000 + i)));
                    if i % 100 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let stats = queue.shutdown().await;
    assert_eq!(
        (stats.written, stats.dropped, stats.failed, stats.queued),
        (8_000, 0, 0, 0)
    );
    assert_eq!(ctx.store.count_chat_logs().await.unwrap(), 8_000);
    assert_eq!(ctx.store.count_metric_points().await.unwrap(), 8_000);
}

async fn two_store_instances_one_database(ctx: Ctx) {
    let other = Store::connect(&ctx.url).await.unwrap();
    let small_batches = QueueConfig {
        batch_rows: 50,
        flush_interval: Duration::from_millis(2),
        ..Default::default()
    };
    let queues = [
        WriteQueue::spawn(ctx.store.clone(), small_batches.clone()),
        WriteQueue::spawn(other.clone(), small_batches),
    ];
    let tasks: Vec<_> = (0..8u64)
        .map(|t| {
            let tx = queues[(t % 2) as usize].sender();
            tokio::spawn(async move {
                for i in 0..500u64 {
                    assert!(tx.try_enqueue(record(t * 500 + i)));
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let [a, b] = queues;
    let (a, b) = (a.shutdown().await, b.shutdown().await);
    assert_eq!(
        (
            a.written + b.written,
            a.failed + b.failed,
            a.dropped + b.dropped
        ),
        (4_000, 0, 0)
    );
    assert_eq!(ctx.store.count_chat_logs().await.unwrap(), 4_000);
    assert_eq!(other.count_chat_logs().await.unwrap(), 4_000);
    other.close().await;
}

async fn shutdown_drains_ten_thousand(ctx: Ctx) {
    let queue = WriteQueue::spawn(
        ctx.store.clone(),
        QueueConfig {
            capacity: 10_000,
            batch_rows: 500,
            flush_interval: Duration::from_secs(3600),
            ..Default::default()
        },
    );
    for i in 0..10_000 {
        assert!(queue.try_enqueue(record(i)));
    }
    let stats = queue.shutdown().await;
    assert_eq!((stats.written, stats.dropped, stats.failed), (10_000, 0, 0));
    assert_eq!(ctx.store.count_chat_logs().await.unwrap(), 10_000);
}

async fn redacts_in_the_writer_and_records_spend(ctx: Ctx) {
    let redactor = Arc::new(Redactor::new(RedactConfig::default()).unwrap());
    let (vk, _) = ctx
        .store
        .create_virtual_key(&crux_store::NewVirtualKey {
            name: "t".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let queue = WriteQueue::spawn(
        ctx.store.clone(),
        QueueConfig {
            redactor: Some(redactor),
            ..Default::default()
        },
    );
    let mut log = sample_log(1);
    log.request_text = Some("mail me at jane@example.com, key sk-proj-abcDEF1234567890xyz".into());
    log.metadata = Some(serde_json::json!({"client_ip": "10.1.2.3"}));
    assert!(queue.try_enqueue(Record::ChatLog(Box::new(log))));
    assert!(queue.try_enqueue(Record::Spend {
        virtual_key_id: vk.id.clone(),
        usd: 0.25
    }));
    assert!(queue.try_enqueue(Record::Metric((&sample_log(2)).into())));
    let stats = queue.shutdown().await;
    assert_eq!(stats.written, 3);
    let stored = ctx
        .store
        .query_chat_logs(&LogFilter::default())
        .await
        .unwrap();
    assert_eq!(
        stored[0].log.request_text.as_deref(),
        Some("mail me at [EMAIL], key [SECRET]")
    );
    assert_eq!(
        stored[0].log.metadata,
        Some(serde_json::json!({"client_ip": "[IP]"}))
    );
    assert_eq!(ctx.store.count_metric_points().await.unwrap(), 2);
    let keys = ctx.store.list_virtual_keys(false).await.unwrap();
    assert!((keys[0].spend_usd - 0.25).abs() < 1e-9 && keys[0].last_used_at.is_some());
}

/// On a current-thread runtime the writer cannot run while this loop holds the thread, so exactly `capacity`
/// records fit and the rest are dropped and counted, without blocking.
#[tokio::test]
async fn a_full_queue_drops_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("q.db").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let queue = WriteQueue::spawn(
        store.clone(),
        QueueConfig {
            capacity: 16,
            ..Default::default()
        },
    );
    let accepted = (0..1_000).filter(|i| queue.try_enqueue(record(*i))).count();
    assert_eq!(accepted, 16);
    let before = queue.stats();
    assert_eq!(
        (before.queued, before.dropped, before.capacity),
        (16, 984, 16)
    );
    let sender = queue.sender();
    let after = queue.shutdown().await;
    assert_eq!((after.written, after.dropped, after.queued), (16, 984, 0));
    assert!(!sender.try_enqueue(record(0)), "a shut-down queue refuses");
    assert_eq!(sender.stats().dropped, 985);
    assert_eq!(store.count_chat_logs().await.unwrap(), 16);
}
