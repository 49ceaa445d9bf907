//! What the web console reads: one chat log by id, a page of logs after a keyset cursor, the overview time series
//! (requests, errors, latency and TTFT percentiles per time bucket; tokens and cost per provider and bucket) from
//! range queries on the `ts` indexes, and the query plans of those statements (the 1M-row test checks them).

use sqlx::AssertSqlSafe;

use crate::error::Result;
use crate::filter::{LogFilter, where_clause};
use crate::logs::{CHAT_COLS, ChatLogEntry, from_row};
use crate::row::{RowExt, Value, to_u64};
use crate::store::{Backend, Store};

/// One time bucket of the overview.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OverviewBucket {
    /// Start of the bucket (epoch ms).
    pub ts_ms: i64,
    /// Requests.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Median latency (nearest rank) in ms.
    pub p50_ms: Option<u64>,
    /// 95th percentile latency (nearest rank) in ms.
    pub p95_ms: Option<u64>,
    /// Median time to first token (streams only) in ms.
    pub ttft_p50_ms: Option<u64>,
    /// 95th percentile time to first token in ms.
    pub ttft_p95_ms: Option<u64>,
}

/// Tokens and cost of one provider in one bucket.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProviderBucket {
    /// Start of the bucket (epoch ms).
    pub ts_ms: i64,
    /// Provider id.
    pub provider: String,
    /// Requests.
    pub requests: u64,
    /// Total tokens.
    pub tokens: u64,
    /// Cost in USD.
    pub cost_usd: f64,
}

/// The overview of `[since, until)` in buckets of `bucket_ms` (empty buckets are left out).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Overview {
    /// Window start (epoch ms).
    pub since_ms: i64,
    /// Window end (epoch ms, exclusive).
    pub until_ms: i64,
    /// Bucket width in ms.
    pub bucket_ms: i64,
    /// Request counts and percentiles, oldest first.
    pub buckets: Vec<OverviewBucket>,
    /// Tokens and cost per provider, oldest first.
    pub providers: Vec<ProviderBucket>,
}

/// The bucket-index expression; the numbers are ours (never caller text), so they are formatted into the SQL.
fn bucket_expr(since: i64, bucket: i64) -> String {
    format!("((ts - {since}) / {bucket})")
}

fn overview_sql(since: i64, until: i64, bucket: i64) -> String {
    let b = bucket_expr(since, bucket);
    format!(
        "SELECT b, COUNT(*) AS n,
            CAST(COALESCE(SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END), 0) AS BIGINT) AS errors,
            MAX(CASE WHEN rn = (cnt * 50 + 99) / 100 THEN latency_ms END) AS p50,
            MAX(CASE WHEN rn = (cnt * 95 + 99) / 100 THEN latency_ms END) AS p95,
            MAX(CASE WHEN ttft_ms IS NOT NULL AND trn = (tcnt * 50 + 99) / 100 THEN ttft_ms END) AS t50,
            MAX(CASE WHEN ttft_ms IS NOT NULL AND trn = (tcnt * 95 + 99) / 100 THEN ttft_ms END) AS t95
         FROM (SELECT {b} AS b, status, latency_ms, ttft_ms,
                 ROW_NUMBER() OVER (PARTITION BY {b} ORDER BY latency_ms) AS rn,
                 COUNT(*) OVER (PARTITION BY {b}) AS cnt,
                 ROW_NUMBER() OVER (PARTITION BY {b}, ttft_ms IS NULL ORDER BY ttft_ms) AS trn,
                 COUNT(ttft_ms) OVER (PARTITION BY {b}) AS tcnt
               FROM metric_points WHERE ts >= {since} AND ts < {until}) t
         GROUP BY b ORDER BY b"
    )
}

fn providers_sql(since: i64, until: i64, bucket: i64) -> String {
    let b = bucket_expr(since, bucket);
    format!(
        "SELECT {b} AS b, provider, COUNT(*) AS n,
            CAST(COALESCE(SUM(total_tokens), 0) AS BIGINT) AS tokens,
            CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) AS cost_usd
         FROM metric_points WHERE ts >= {since} AND ts < {until}
         GROUP BY {b}, provider ORDER BY b, provider"
    )
}

/// The newest-first page statement of `filter` (the one `query_chat_logs` runs) and its binds.
fn page_sql(filter: &LogFilter) -> (String, Vec<Value>) {
    let (clause, binds) = where_clause(filter);
    let limit = if filter.limit == 0 { 100 } else { filter.limit };
    (
        format!(
            "SELECT id, {} FROM chat_logs {clause} ORDER BY ts DESC, id DESC LIMIT {limit}",
            CHAT_COLS.join(", ")
        ),
        binds,
    )
}

impl Store {
    /// One chat log by id.
    pub async fn chat_log(&self, id: i64) -> Result<Option<ChatLogEntry>> {
        let sql = format!(
            "SELECT id, {} FROM chat_logs WHERE id = $1",
            CHAT_COLS.join(", ")
        );
        let entry = on_pool!(self, pool => {
            let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(from_row).transpose()?
        });
        Ok(entry)
    }

    /// A page of chat logs, newest first, with the keyset cursor of the next page (`None` on the last page).
    pub async fn chat_log_page(
        &self,
        filter: &LogFilter,
    ) -> Result<(Vec<ChatLogEntry>, Option<(i64, i64)>)> {
        let want = if filter.limit == 0 { 100 } else { filter.limit };
        let probe = LogFilter {
            limit: want.saturating_add(1),
            ..filter.clone()
        };
        let (sql, binds) = page_sql(&probe);
        let mut rows = on_pool!(self, pool => {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in &binds {
                q = bind_value!(q, v);
            }
            let rows = q.fetch_all(pool).await?;
            rows.iter().map(from_row).collect::<Result<Vec<_>>>()?
        });
        let more = rows.len() > want as usize;
        rows.truncate(want as usize);
        let next = more
            .then(|| rows.last().map(|r| (r.log.ts_ms, r.id)))
            .flatten();
        Ok((rows, next))
    }

    /// Requests, errors and percentiles per bucket, and tokens and cost per provider per bucket, over
    /// `[since_ms, until_ms)` (a range on `metric_points.ts`).
    pub async fn overview(&self, since_ms: i64, until_ms: i64, bucket_ms: i64) -> Result<Overview> {
        let bucket = bucket_ms.max(1);
        let at = |b: i64| since_ms + b * bucket;
        let (main, per) = (
            overview_sql(since_ms, until_ms, bucket),
            providers_sql(since_ms, until_ms, bucket),
        );
        let (buckets, providers) = on_pool!(self, pool => {
            let rows = sqlx::query(AssertSqlSafe(main)).fetch_all(pool).await?;
            let mut buckets = Vec::with_capacity(rows.len());
            for r in &rows {
                buckets.push(OverviewBucket {
                    ts_ms: at(r.int("b")?),
                    requests: to_u64(r.int("n")?),
                    errors: to_u64(r.int("errors")?),
                    p50_ms: r.opt_int("p50")?.map(to_u64),
                    p95_ms: r.opt_int("p95")?.map(to_u64),
                    ttft_p50_ms: r.opt_int("t50")?.map(to_u64),
                    ttft_p95_ms: r.opt_int("t95")?.map(to_u64),
                });
            }
            let rows = sqlx::query(AssertSqlSafe(per)).fetch_all(pool).await?;
            let mut providers = Vec::with_capacity(rows.len());
            for r in &rows {
                providers.push(ProviderBucket {
                    ts_ms: at(r.int("b")?),
                    provider: r.text("provider")?,
                    requests: to_u64(r.int("n")?),
                    tokens: to_u64(r.int("tokens")?),
                    cost_usd: r.real("cost_usd")?,
                });
            }
            (buckets, providers)
        });
        Ok(Overview {
            since_ms,
            until_ms,
            bucket_ms: bucket,
            buckets,
            providers,
        })
    }

    /// The query plan (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on PostgreSQL), one line per step, of the logs
    /// page statement for `filter`.
    pub async fn explain_log_page(&self, filter: &LogFilter) -> Result<String> {
        let (sql, binds) = page_sql(filter);
        self.explain(&sql, &binds).await
    }

    /// The query plans of the two overview statements, one line per step.
    pub async fn explain_overview(
        &self,
        since_ms: i64,
        until_ms: i64,
        bucket_ms: i64,
    ) -> Result<String> {
        let bucket = bucket_ms.max(1);
        let a = self
            .explain(&overview_sql(since_ms, until_ms, bucket), &[])
            .await?;
        let b = self
            .explain(&providers_sql(since_ms, until_ms, bucket), &[])
            .await?;
        Ok(format!("{a}\n{b}"))
    }

    async fn explain(&self, sql: &str, binds: &[Value]) -> Result<String> {
        let prefix = pick_sql!(self.backend(), "EXPLAIN QUERY PLAN ", "EXPLAIN ");
        let text = format!("{prefix}{sql}");
        let lines = on_pool!(self, pool => {
            let mut q = sqlx::query(AssertSqlSafe(text));
            for v in binds {
                q = bind_value!(q, v);
            }
            let rows = q.fetch_all(pool).await?;
            let mut lines = Vec::with_capacity(rows.len());
            for r in &rows {
                lines.push(match self.backend() {
                    Backend::Sqlite => r.text("detail")?,
                    Backend::Postgres => r.text("QUERY PLAN")?,
                });
            }
            lines
        });
        Ok(lines.join("\n"))
    }
}
