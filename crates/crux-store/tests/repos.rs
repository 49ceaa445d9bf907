//! Repository tests, run with the same bodies on SQLite and PostgreSQL: migrations, prefs, the model registry,
//! chat logs, metrics and retention.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{Ctx, sample_log};
use crux_store::{LATEST_VERSION, LogFilter, LogStatus, ModelRecord, RetentionPolicy};

store_tests!(
    migrate_is_idempotent,
    prefs_shallow_merge,
    registry_snapshots_and_observed_capabilities,
    observed_capabilities_round_trip_and_forget,
    chat_logs_filters_and_prune,
    metrics_summary,
    retention_policy_and_task,
);

async fn migrate_is_idempotent(ctx: Ctx) {
    assert_eq!(
        ctx.store.schema_version().await.unwrap(),
        Some(LATEST_VERSION)
    );
    let again = ctx.store.migrate().await.unwrap();
    assert!(again.applied.is_empty());
    assert_eq!(again.version, LATEST_VERSION);
    ctx.store.ping().await.unwrap();
}

async fn prefs_shallow_merge(ctx: Ctx) {
    let s = &ctx.store;
    let first = serde_json::json!({"theme": "dark", "limits": {"a": 1}, "n": 3});
    s.merge_prefs(first.as_object().unwrap()).await.unwrap();
    let merged = s
        .merge_prefs(
            serde_json::json!({"limits": {"b": 2}, "flag": true})
                .as_object()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::Value::Object(merged),
        serde_json::json!({"theme": "dark", "limits": {"b": 2}, "n": 3, "flag": true})
    );
    assert!(s.delete_pref("n").await.unwrap());
    assert!(!s.delete_pref("n").await.unwrap());
    assert_eq!(s.prefs().await.unwrap().len(), 3);
}

async fn registry_snapshots_and_observed_capabilities(ctx: Ctx) {
    let s = &ctx.store;
    assert!(s.load_models_snapshot("openai").await.unwrap().is_none());
    let m = |id: &str, name: &str| ModelRecord {
        id: id.into(),
        name: name.into(),
        family: Some("gpt".into()),
        context_length: Some(128_000),
        capabilities: Some(serde_json::json!({"vision": true})),
        updated_at: None,
    };
    let models = [m("gpt-b", "B"), m("gpt-a", "A"), m("gpt-a", "A2")];
    s.save_models_snapshot(
        "openai",
        &models,
        "api",
        Some(&serde_json::json!({"pages": 1})),
    )
    .await
    .unwrap();
    let snap = s.load_models_snapshot("openai").await.unwrap().unwrap();
    let ids: Vec<(&str, &str)> = snap
        .models
        .iter()
        .map(|m| (m.id.as_str(), m.name.as_str()))
        .collect();
    assert_eq!(ids, [("gpt-a", "A2"), ("gpt-b", "B")]);
    assert_eq!(snap.fetched_via.as_deref(), Some("api"));
    assert!(snap.fetched_at.unwrap().ends_with('Z'));
    s.save_models_snapshot("openai", &[m("gpt-c", "C")], "catalog", None)
        .await
        .unwrap();
    assert_eq!(
        s.load_models_snapshot("openai")
            .await
            .unwrap()
            .unwrap()
            .models
            .len(),
        1
    );
    s.save_models_snapshot("groq", &[], "api", None)
        .await
        .unwrap();
    assert_eq!(s.list_model_providers().await.unwrap(), ["groq", "openai"]);

    s.record_observed_capability("openai", "gpt-c", "json_output", true)
        .await
        .unwrap();
    s.record_observed_capability("openai", "gpt-c", "json_output", false)
        .await
        .unwrap();
    s.record_observed_capability("openai", "gpt-c", "tools", true)
        .await
        .unwrap();
    let obs = s.load_observed_capabilities("openai").await.unwrap();
    assert!(
        !obs["gpt-c"]["json_output"],
        "an observed false wins over an earlier true"
    );
    assert!(obs["gpt-c"]["tools"]);
}

/// What the gateway records when a model rejects a capability, read back at startup, then forgotten.
async fn observed_capabilities_round_trip_and_forget(ctx: Ctx) {
    let s = &ctx.store;
    s.record_observed_capability("openai", "mock-no-tools", "tools", false)
        .await
        .unwrap();
    s.record_observed_capability("openai", "mock-no-tools", "json_schema", false)
        .await
        .unwrap();
    s.record_observed_capability("openai", "gpt-4o-mini", "tools", false)
        .await
        .unwrap();
    s.record_observed_capability("gemini", "mock-no-tools", "tools", false)
        .await
        .unwrap();
    let obs = s.load_observed_capabilities("openai").await.unwrap();
    assert_eq!(obs.len(), 2);
    assert_eq!(obs["mock-no-tools"].len(), 2);
    assert!(!obs["mock-no-tools"]["tools"]);
    assert_eq!(
        s.forget_observed_capabilities("openai", &["mock-no-tools", "unknown"])
            .await
            .unwrap(),
        2
    );
    let obs = s.load_observed_capabilities("openai").await.unwrap();
    assert_eq!(obs.keys().collect::<Vec<_>>(), ["gpt-4o-mini"]);
    let other = s.load_observed_capabilities("gemini").await.unwrap();
    assert!(
        !other["mock-no-tools"]["tools"],
        "another provider's model is untouched"
    );
    assert_eq!(
        s.forget_observed_capabilities("openai", &["mock-no-tools"])
            .await
            .unwrap(),
        0
    );
}

async fn chat_logs_filters_and_prune(ctx: Ctx) {
    let s = &ctx.store;
    let logs: Vec<_> = (0..30).map(sample_log).collect();
    s.insert_chat_logs(&logs).await.unwrap();
    assert_eq!(s.count_chat_logs().await.unwrap(), 30);
    assert_eq!(
        s.count_metric_points().await.unwrap(),
        30,
        "every chat log writes its metric point"
    );
    let all = s
        .query_chat_logs(&LogFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 30);
    assert_eq!(
        all[0].log, logs[29],
        "newest first, every field round-trips"
    );
    let f = |provider: Option<&str>, status: Option<LogStatus>, model: Option<&str>| LogFilter {
        provider: provider.map(Into::into),
        model: model.map(Into::into),
        status,
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        s.query_chat_logs(&f(Some("openai"), None, None))
            .await
            .unwrap()
            .len(),
        10
    );
    assert_eq!(
        s.query_chat_logs(&f(None, Some(LogStatus::Error), None))
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        s.query_chat_logs(&f(Some("openai"), None, Some("model-0")))
            .await
            .unwrap()
            .len(),
        3
    );
    let since = LogFilter {
        since_ms: Some(logs[25].ts_ms),
        limit: 3,
        ..Default::default()
    };
    let recent = s.query_chat_logs(&since).await.unwrap();
    assert_eq!(
        recent.iter().map(|e| e.log.ts_ms).collect::<Vec<_>>(),
        [logs[29].ts_ms, logs[28].ts_ms, logs[27].ts_ms]
    );
    // Sample logs are from 2023, so a 1-day retention prunes them all; metric points are separate.
    let mut fresh = sample_log(99);
    fresh.ts_ms = crux_store::time::now_ms();
    s.insert_chat_logs(&[fresh]).await.unwrap();
    assert_eq!(s.prune_logs(Duration::from_secs(86_400)).await.unwrap(), 30);
    assert_eq!(s.count_chat_logs().await.unwrap(), 1);
    assert_eq!(s.count_metric_points().await.unwrap(), 31);
}

async fn metrics_summary(ctx: Ctx) {
    let s = &ctx.store;
    let empty = s.metrics_summary(&LogFilter::default()).await.unwrap();
    assert_eq!((empty.total.count, empty.total.p50_ms), (0, None));
    let logs: Vec<_> = (1..=20)
        .map(|i| {
            let mut l = sample_log(i);
            l.latency_ms = i * 10;
            l
        })
        .collect();
    s.insert_chat_logs(&logs).await.unwrap();
    let sum = s.metrics_summary(&LogFilter::default()).await.unwrap();
    assert_eq!(sum.total.count, 20);
    assert_eq!(sum.total.errors, 2);
    assert!((sum.total.error_rate - 0.1).abs() < 1e-9);
    assert_eq!(sum.total.p50_ms, Some(100), "nearest rank: the 10th of 20");
    assert_eq!(sum.total.p95_ms, Some(190), "nearest rank: the 19th of 20");
    assert!((sum.total.avg_ms - 105.0).abs() < 1e-9);
    assert_eq!(
        sum.total.prompt_tokens,
        logs.iter().map(|l| l.usage.prompt.unwrap()).sum::<u64>()
    );
    let cost: f64 = logs.iter().map(|l| l.cost_usd.unwrap()).sum();
    assert!((sum.total.cost_usd - cost).abs() < 1e-9);
    assert_eq!(sum.by_provider.len(), 3);
    assert_eq!(sum.by_provider.iter().map(|g| g.count).sum::<u64>(), 20);
    let openai = sum
        .by_provider
        .iter()
        .find(|g| g.provider.as_deref() == Some("openai"))
        .unwrap();
    // openai has i = 3, 6, …, 18 → latencies 30..180 step 30 (6 points): p50 = 3rd = 90, p95 = 6th = 180.
    assert_eq!(
        (openai.count, openai.p50_ms, openai.p95_ms),
        (6, Some(90), Some(180))
    );
    assert_eq!(sum.by_model.iter().map(|g| g.count).sum::<u64>(), 20);
    assert!(
        sum.by_model
            .iter()
            .all(|g| g.provider.is_some() && g.model.is_some())
    );
    let only_errors = LogFilter {
        status: Some(LogStatus::Error),
        ..Default::default()
    };
    assert_eq!(
        s.metrics_summary(&only_errors).await.unwrap().total.count,
        2
    );
}

async fn retention_policy_and_task(ctx: Ctx) {
    let s = &ctx.store;
    s.insert_chat_logs(&(0..5).map(sample_log).collect::<Vec<_>>())
        .await
        .unwrap();
    let keep_metrics = RetentionPolicy {
        chat_logs: Some(Duration::from_secs(3600)),
        metric_points: None,
    };
    assert_eq!(keep_metrics.apply(s).await.unwrap(), (5, 0));
    s.insert_chat_logs(&(0..5).map(sample_log).collect::<Vec<_>>())
        .await
        .unwrap();
    let both = RetentionPolicy {
        chat_logs: Some(Duration::from_secs(3600)),
        metric_points: Some(Duration::from_secs(3600)),
    };
    let handle = crux_store::spawn_retention(s.clone(), both, Duration::from_secs(3600));
    for _ in 0..100 {
        if s.count_metric_points().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.stop().await;
    assert_eq!(
        (
            s.count_chat_logs().await.unwrap(),
            s.count_metric_points().await.unwrap()
        ),
        (0, 0)
    );
}
