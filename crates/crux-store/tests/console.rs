//! The web console's queries, same bodies on SQLite and PostgreSQL: keyset paging walks every row once, one log by
//! id, the overview buckets and percentiles; and with 1,000,000 chat logs (and metric points) seeded by one SQL
//! statement each, every logs-page filter and the overview run on indexes (query plans: no full scan, no sort of
//! the whole table).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Instant;

use common::{Ctx, sample_log};
use crux_store::{Backend, LogFilter, LogStatus, Store};
use sqlx::AssertSqlSafe;

store_tests!(
    keyset_paging_and_one_log,
    overview_buckets,
    million_rows_use_indexes
);

async fn keyset_paging_and_one_log(ctx: Ctx) {
    let s = &ctx.store;
    // Two rows share each timestamp, so the id tie-break is exercised.
    let logs: Vec<_> = (0..25)
        .map(|i| {
            let mut l = sample_log(i);
            l.ts_ms = 1_700_000_000_000 + (i as i64 / 2) * 1000;
            l
        })
        .collect();
    s.insert_chat_logs(&logs).await.unwrap();
    let mut seen = Vec::new();
    let mut filter = LogFilter {
        limit: 4,
        ..LogFilter::default()
    };
    let mut pages = 0;
    loop {
        let (rows, next) = s.chat_log_page(&filter).await.unwrap();
        pages += 1;
        assert!(rows.len() <= 4);
        seen.extend(rows.iter().map(|r| (r.log.ts_ms, r.id)));
        match next {
            Some(c) => filter.before = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 7, "25 rows in pages of 4");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "newest first, each row once");
    assert_eq!(seen.len(), 25);

    // Filters combine with the cursor.
    let errors = LogFilter {
        status: Some(LogStatus::Error),
        limit: 1,
        ..LogFilter::default()
    };
    let (first, next) = s.chat_log_page(&errors).await.unwrap();
    assert_eq!(first.len(), 1);
    let (second, last) = s
        .chat_log_page(&LogFilter {
            before: next,
            limit: 5,
            ..errors.clone()
        })
        .await
        .unwrap();
    assert_eq!(second.len(), 2, "3 errors among 25 (every 10th)");
    assert!(last.is_none());
    assert!(second.iter().all(|r| r.log.status == LogStatus::Error));

    let one = s.chat_log(first[0].id).await.unwrap().unwrap();
    assert_eq!(one, first[0]);
    assert!(s.chat_log(-1).await.unwrap().is_none());
}

async fn overview_buckets(ctx: Ctx) {
    let s = &ctx.store;
    let base = 1_700_000_000_000;
    // Bucket 0: latencies 10..=19 (one error); bucket 2: one request. Bucket 1 stays empty.
    let mut logs: Vec<_> = (0..10)
        .map(|i| {
            let mut l = sample_log(i);
            l.ts_ms = base + i as i64;
            l.latency_ms = 10 + i;
            l.ttft_ms = if i < 4 { Some(100 + i) } else { None };
            l
        })
        .collect();
    let mut late = sample_log(1);
    late.ts_ms = base + 2 * 60_000 + 5;
    late.provider = "openai".into();
    late.ttft_ms = None;
    logs.push(late);
    s.insert_chat_logs(&logs).await.unwrap();
    let o = s.overview(base, base + 3 * 60_000, 60_000).await.unwrap();
    assert_eq!(o.buckets.len(), 2);
    let b0 = &o.buckets[0];
    assert_eq!((b0.ts_ms, b0.requests, b0.errors), (base, 10, 1));
    assert_eq!((b0.p50_ms, b0.p95_ms), (Some(14), Some(19)));
    assert_eq!((b0.ttft_p50_ms, b0.ttft_p95_ms), (Some(101), Some(103)));
    let b2 = &o.buckets[1];
    assert_eq!(
        (b2.ts_ms, b2.requests, b2.ttft_p50_ms),
        (base + 120_000, 1, None)
    );
    let openai: u64 = o
        .providers
        .iter()
        .filter(|p| p.provider == "openai")
        .map(|p| p.requests)
        .sum();
    assert_eq!(openai, 4 + 1, "i = 0, 3, 6, 9 and the late one");
    let tokens: u64 = o.providers.iter().map(|p| p.tokens).sum();
    let want: u64 = logs.iter().map(|l| l.usage.total.unwrap()).sum();
    assert_eq!(tokens, want);
    // Outside the window nothing counts.
    let none = s.overview(base - 10, base, 60_000).await.unwrap();
    assert!(none.buckets.is_empty() && none.providers.is_empty());
}

const ROWS: i64 = 1_000_000;
/// Rows are spread over 30 days, newest now.
const SPAN_MS: i64 = 30 * 86_400_000;

/// One statement per table: a recursive CTE on SQLite, `generate_series` on PostgreSQL.
async fn seed(store: &Store, now: i64) {
    let step = SPAN_MS / ROWS;
    let cols = "ts, provider, model, route, status, error_code, latency_ms, ttft_ms, prompt_tokens, \
                completion_tokens, total_tokens, cost_usd, virtual_key_id";
    let values = format!(
        "{now} - n * {step},
         CASE n % 3 WHEN 0 THEN 'openai' WHEN 1 THEN 'anthropic' ELSE 'gemini' END,
         'model-' || CAST(n % 10 AS TEXT), '/v1/chat/completions',
         CASE WHEN n % 20 = 0 THEN 'error' ELSE 'ok' END,
         CASE WHEN n % 20 = 0 THEN 'rate_limit' END,
         100 + n % 900, CASE WHEN n % 2 = 0 THEN 20 + n % 300 END, n % 700, n % 300, n % 1000,
         (n % 100) / 1000.0, 'vk-' || CAST(n % 50 AS TEXT)"
    );
    let source = match store.backend() {
        Backend::Sqlite => format!(
            "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < {}) SELECT",
            ROWS - 1
        ),
        Backend::Postgres => "SELECT".to_owned(),
    };
    let from = match store.backend() {
        Backend::Sqlite => "FROM seq".to_owned(),
        Backend::Postgres => format!(
            "FROM generate_series(0::bigint, {}::bigint) AS g(n)",
            ROWS - 1
        ),
    };
    let chat = format!(
        "INSERT INTO chat_logs ({cols}, metadata) {source} {values},
         '{{\"session_id\":\"s-' || CAST(n % 1000 AS TEXT) || '\"}}' {from}"
    );
    let points = format!("INSERT INTO metric_points ({cols}) SELECT {cols} FROM chat_logs");
    // The migrations' own index definitions are dropped for the bulk insert and then built again in one pass each
    // (much faster than maintaining six indexes per row on a shared CI machine), then the planner gets statistics.
    let defs = match store.backend() {
        Backend::Sqlite => {
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
                            AND tbl_name IN ('chat_logs', 'metric_points')"
        }
        Backend::Postgres => {
            "SELECT indexname AS name, indexdef AS sql FROM pg_indexes \
                              WHERE schemaname = current_schema() AND tablename IN ('chat_logs', 'metric_points') \
                              AND indexname NOT LIKE '%_pkey'"
        }
    };
    let indexes: Vec<(String, String)> = match store {
        Store::Sqlite(pool) => sqlx::query_as(defs).fetch_all(pool).await.unwrap(),
        Store::Postgres(pool) => sqlx::query_as(defs).fetch_all(pool).await.unwrap(),
    };
    assert!(indexes.len() >= 10, "the migrations' indexes: {indexes:?}");
    let mut script: Vec<String> = indexes
        .iter()
        .map(|(n, _)| format!("DROP INDEX {n}"))
        .collect();
    script.extend([chat, points]);
    script.extend(indexes.iter().map(|(_, sql)| sql.clone()));
    script.push("ANALYZE".to_owned());
    for sql in script {
        match store {
            Store::Sqlite(pool) => {
                sqlx::raw_sql(AssertSqlSafe(sql))
                    .execute(pool)
                    .await
                    .unwrap();
            }
            Store::Postgres(pool) => {
                sqlx::raw_sql(AssertSqlSafe(sql))
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
    }
}

/// A plan that reads the whole table, or sorts every matching row, fails.
fn assert_indexed(backend: Backend, what: &str, plan: &str) {
    for line in plan.lines() {
        let bad = match backend {
            Backend::Sqlite => {
                (line.contains("SCAN chat_logs") || line.contains("SCAN metric_points"))
                    && !line.contains("USING INDEX")
                    && !line.contains("USING COVERING INDEX")
                    || line.contains("TEMP B-TREE FOR ORDER BY") && what.starts_with("logs")
            }
            Backend::Postgres => line.contains("Seq Scan"),
        };
        assert!(!bad, "{what}: full scan or sort in the plan:\n{plan}");
    }
    assert!(
        plan.contains("chat_logs_") || plan.contains("metric_points_"),
        "{what}: no index named in the plan:\n{plan}"
    );
}

async fn million_rows_use_indexes(ctx: Ctx) {
    let s = &ctx.store;
    let now = crux_store::time::now_ms();
    let t = Instant::now();
    seed(s, now).await;
    let backend = s.backend();
    eprintln!(
        "{}: seeded {ROWS} chat logs + metric points in {:?}",
        backend.as_str(),
        t.elapsed()
    );
    assert_eq!(s.count_chat_logs().await.unwrap(), ROWS as u64);

    let page = |f: LogFilter| LogFilter { limit: 50, ..f };
    let hour_ago = now - 3_600_000;
    let filters = [
        ("logs: no filter", page(LogFilter::default())),
        (
            "logs: provider",
            page(LogFilter {
                provider: Some("anthropic".into()),
                ..LogFilter::default()
            }),
        ),
        (
            "logs: model",
            page(LogFilter {
                model: Some("model-3".into()),
                ..LogFilter::default()
            }),
        ),
        (
            "logs: status",
            page(LogFilter {
                status: Some(LogStatus::Error),
                ..LogFilter::default()
            }),
        ),
        (
            "logs: key",
            page(LogFilter {
                virtual_key_id: Some("vk-7".into()),
                ..LogFilter::default()
            }),
        ),
        (
            "logs: time",
            page(LogFilter {
                since_ms: Some(now - 10 * 86_400_000),
                until_ms: Some(now - 9 * 86_400_000),
                ..LogFilter::default()
            }),
        ),
        (
            "logs: session in the last hour",
            page(LogFilter {
                session: Some("s-42".into()),
                since_ms: Some(hour_ago),
                ..LogFilter::default()
            }),
        ),
        (
            "logs: provider, page 2",
            page(LogFilter {
                provider: Some("openai".into()),
                before: Some((now - 20 * 86_400_000, 400_000)),
                ..LogFilter::default()
            }),
        ),
    ];
    for (what, f) in &filters {
        let plan = s.explain_log_page(f).await.unwrap();
        assert_indexed(backend, what, &plan);
        let t = Instant::now();
        let (rows, _) = s.chat_log_page(f).await.unwrap();
        eprintln!(
            "{}: {what}: {} rows in {:?}",
            backend.as_str(),
            rows.len(),
            t.elapsed()
        );
        assert!(!rows.is_empty(), "{what}: the seeded rows match");
    }
    for (what, since, bucket) in [
        ("overview: hour", hour_ago, 60_000),
        ("overview: day", now - 86_400_000, 900_000),
    ] {
        let plan = s.explain_overview(since, now, bucket).await.unwrap();
        assert_indexed(backend, what, &plan);
        let t = Instant::now();
        let o = s.overview(since, now, bucket).await.unwrap();
        let n: u64 = o.buckets.iter().map(|b| b.requests).sum();
        eprintln!(
            "{}: {what}: {n} requests in {} buckets, {:?}",
            backend.as_str(),
            o.buckets.len(),
            t.elapsed()
        );
        assert!(n > 0);
    }
}
