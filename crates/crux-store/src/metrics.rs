//! Metric points (the numbers of every request, without text) and their summary: totals, by provider, by model,
//! p50/p95 latency and error rate, computed in SQL that both backends run unchanged.

use sqlx::AssertSqlSafe;

use crate::bulk::insert_rows;
use crate::error::Result;
use crate::filter::{LogFilter, LogStatus, cutoff, where_clause};
use crate::row::{RowExt, Value, to_i64, to_u64};
use crate::store::{Store, Tx};

/// The numbers of one request. The point of a chat log is `MetricPoint::from(&log)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricPoint {
    /// When (epoch ms).
    pub ts_ms: i64,
    /// Provider id.
    pub provider: String,
    /// Model id.
    pub model: String,
    /// Route it came in on.
    pub route: String,
    /// Outcome.
    pub status: LogStatus,
    /// Error code when failed.
    pub error_code: Option<String>,
    /// Latency in ms.
    pub latency_ms: u64,
    /// Time to first token in ms.
    pub ttft_ms: Option<u64>,
    /// Prompt tokens.
    pub prompt_tokens: Option<u64>,
    /// Completion tokens.
    pub completion_tokens: Option<u64>,
    /// Total tokens.
    pub total_tokens: Option<u64>,
    /// Cost in USD.
    pub cost_usd: Option<f64>,
    /// Virtual key id.
    pub virtual_key_id: Option<String>,
}

pub(crate) const METRIC_COLS: [&str; 14] = [
    "ts",
    "provider",
    "model",
    "route",
    "status",
    "error_code",
    "latency_ms",
    "ttft_ms",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_usd",
    "virtual_key_id",
    "import_key",
];

/// The row of `p` in [`METRIC_COLS`] order.
pub(crate) fn metric_values(p: &MetricPoint, import_key: Option<String>) -> Vec<Value> {
    let n = |v: Option<u64>| Value::Int(v.map(to_i64));
    vec![
        Value::Int(Some(p.ts_ms)),
        Value::Text(Some(p.provider.clone())),
        Value::Text(Some(p.model.clone())),
        Value::Text(Some(p.route.clone())),
        Value::Text(Some(p.status.as_str().to_owned())),
        Value::Text(p.error_code.clone()),
        Value::Int(Some(to_i64(p.latency_ms))),
        n(p.ttft_ms),
        n(p.prompt_tokens),
        n(p.completion_tokens),
        n(p.total_tokens),
        Value::Real(p.cost_usd),
        Value::Text(p.virtual_key_id.clone()),
        Value::Text(import_key),
    ]
}

/// Writes metric points inside `tx`.
pub(crate) async fn write_points(tx: &mut Tx, points: &[&MetricPoint]) -> Result<()> {
    let rows: Vec<Vec<Value>> = points.iter().map(|p| metric_values(p, None)).collect();
    insert_rows(tx, "metric_points", &METRIC_COLS, &rows, "").await?;
    Ok(())
}

/// Aggregates of one group (the total, a provider, or a provider's model).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MetricGroup {
    /// Provider (absent for the total).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Model (only in `by_model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Requests.
    pub count: u64,
    /// Failed requests.
    pub errors: u64,
    /// `errors / count` (0 when there were no requests).
    pub error_rate: f64,
    /// Mean latency in ms.
    pub avg_ms: f64,
    /// Median latency (nearest rank) in ms.
    pub p50_ms: Option<u64>,
    /// 95th percentile latency (nearest rank) in ms.
    pub p95_ms: Option<u64>,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Cost in USD.
    pub cost_usd: f64,
}

/// `crux metrics` / `/api/metrics/summary`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MetricsSummary {
    /// Everything.
    pub total: MetricGroup,
    /// Per provider, most requests first.
    pub by_provider: Vec<MetricGroup>,
    /// Per provider and model, most requests first.
    pub by_model: Vec<MetricGroup>,
}

fn summary_sql(group: &[&str], clause: &str) -> String {
    let cols = group.join(", ");
    let (select, partition, group_by) = if group.is_empty() {
        (String::new(), String::new(), String::new())
    } else {
        (
            format!("{cols}, "),
            format!("PARTITION BY {cols} "),
            format!("GROUP BY {cols} "),
        )
    };
    format!(
        "SELECT {select}COUNT(*) AS n,
            CAST(COALESCE(SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END), 0) AS BIGINT) AS errors,
            CAST(COALESCE(AVG(latency_ms), 0) AS DOUBLE PRECISION) AS avg_ms,
            MAX(CASE WHEN rn = (cnt * 50 + 99) / 100 THEN latency_ms END) AS p50,
            MAX(CASE WHEN rn = (cnt * 95 + 99) / 100 THEN latency_ms END) AS p95,
            CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens,
            CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens,
            CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) AS cost_usd
         FROM (SELECT provider, model, status, latency_ms, prompt_tokens, completion_tokens, cost_usd,
                 ROW_NUMBER() OVER ({partition}ORDER BY latency_ms) AS rn,
                 COUNT(*) OVER ({partition}) AS cnt
               FROM metric_points {clause}) t
         {group_by}ORDER BY n DESC{}",
        if group.is_empty() {
            String::new()
        } else {
            format!(", {cols}")
        }
    )
}

fn group_from_row(r: &impl RowExt, provider: bool, model: bool) -> Result<MetricGroup> {
    let count = to_u64(r.int("n")?);
    let errors = to_u64(r.int("errors")?);
    Ok(MetricGroup {
        provider: if provider {
            Some(r.text("provider")?)
        } else {
            None
        },
        model: if model { Some(r.text("model")?) } else { None },
        count,
        errors,
        error_rate: if count == 0 {
            0.0
        } else {
            errors as f64 / count as f64
        },
        avg_ms: r.real("avg_ms")?,
        p50_ms: r.opt_int("p50")?.map(to_u64),
        p95_ms: r.opt_int("p95")?.map(to_u64),
        prompt_tokens: to_u64(r.int("prompt_tokens")?),
        completion_tokens: to_u64(r.int("completion_tokens")?),
        cost_usd: r.real("cost_usd")?,
    })
}

impl Store {
    /// Stores metric points in one transaction.
    pub async fn insert_metric_points(&self, points: &[MetricPoint]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        write_points(&mut tx, &points.iter().collect::<Vec<_>>()).await?;
        tx.commit().await
    }

    /// Totals, per provider and per model for the points matching `filter` (its `limit` is ignored).
    pub async fn metrics_summary(&self, filter: &LogFilter) -> Result<MetricsSummary> {
        let (clause, binds) = where_clause(filter);
        let mut groups: Vec<Vec<MetricGroup>> = Vec::with_capacity(3);
        for group in [&[][..], &["provider"][..], &["provider", "model"][..]] {
            let sql = summary_sql(group, &clause);
            let (p, m) = (!group.is_empty(), group.len() == 2);
            let rows = on_pool!(self, pool => {
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for v in &binds {
                    q = bind_value!(q, v);
                }
                let rows = q.fetch_all(pool).await?;
                rows.iter().map(|r| group_from_row(r, p, m)).collect::<Result<Vec<_>>>()?
            });
            groups.push(rows);
        }
        let by_model = groups.pop().unwrap_or_default();
        let by_provider = groups.pop().unwrap_or_default();
        let total = groups
            .pop()
            .and_then(|mut g| g.pop())
            .unwrap_or_else(empty_group);
        Ok(MetricsSummary {
            total,
            by_provider,
            by_model,
        })
    }

    /// Number of metric points.
    pub async fn count_metric_points(&self) -> Result<u64> {
        self.count_rows("metric_points").await
    }

    /// Deletes metric points older than `older_than`; returns how many.
    pub async fn prune_metrics(&self, older_than: std::time::Duration) -> Result<u64> {
        self.prune_table("metric_points", cutoff(older_than)).await
    }
}

fn empty_group() -> MetricGroup {
    MetricGroup {
        provider: None,
        model: None,
        count: 0,
        errors: 0,
        error_rate: 0.0,
        avg_ms: 0.0,
        p50_ms: None,
        p95_ms: None,
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_usd: 0.0,
    }
}
