//! Chat logs: one row per request (provider, model, route, status, latency, TTFT, usage, cost, virtual key,
//! request/response text or summary), filtered queries and retention.

use crux_llm::Usage;
use sqlx::AssertSqlSafe;

use crate::bulk::insert_rows;
use crate::error::Result;
use crate::filter::{cutoff, where_clause};
use crate::metrics::{MetricPoint, write_points};
use crate::redact::Redactor;
use crate::row::{RowExt, Value, to_i64, to_u64};
use crate::store::{Store, Tx};
use crate::time::now_ms;

pub use crate::filter::{LogFilter, LogStatus};

/// One chat request as logged.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChatLog {
    /// When the request started (epoch ms).
    pub ts_ms: i64,
    /// Provider id.
    pub provider: String,
    /// Model id without the provider prefix.
    pub model: String,
    /// Where the request came in (`/v1/chat/completions`, `cli`, …).
    pub route: String,
    /// Outcome.
    pub status: LogStatus,
    /// Error code string (`rate_limit`, …) when failed.
    pub error_code: Option<String>,
    /// Total latency in ms.
    pub latency_ms: u64,
    /// Time to first token in ms (streams).
    pub ttft_ms: Option<u64>,
    /// Token usage as reported.
    pub usage: Usage,
    /// Cost in USD, when known.
    pub cost_usd: Option<f64>,
    /// Virtual key id that made the request.
    pub virtual_key_id: Option<String>,
    /// Request text or summary.
    pub request_text: Option<String>,
    /// Response text or summary.
    pub response_text: Option<String>,
    /// Extra JSON fields.
    pub metadata: Option<serde_json::Value>,
}

impl ChatLog {
    /// A log entry stamped now, with everything optional left empty.
    pub fn new(
        provider: impl Into<String>,
        model: impl Into<String>,
        route: impl Into<String>,
        status: LogStatus,
        latency_ms: u64,
    ) -> ChatLog {
        ChatLog {
            ts_ms: now_ms(),
            provider: provider.into(),
            model: model.into(),
            route: route.into(),
            status,
            error_code: None,
            latency_ms,
            ttft_ms: None,
            usage: Usage::default(),
            cost_usd: None,
            virtual_key_id: None,
            request_text: None,
            response_text: None,
            metadata: None,
        }
    }

    /// Applies `redactor` to the request and response text and to every string in the metadata.
    pub fn redact(&mut self, redactor: &Redactor) {
        for text in [&mut self.request_text, &mut self.response_text]
            .into_iter()
            .flatten()
        {
            if let std::borrow::Cow::Owned(r) = redactor.redact(text) {
                *text = r;
            }
        }
        if let Some(meta) = &mut self.metadata {
            redactor.redact_json(meta);
        }
    }

    /// Cost in USD: the explicit cost, else the cost the provider reported in its usage.
    pub fn effective_cost(&self) -> Option<f64> {
        self.cost_usd.or(self.usage.cost)
    }
}

/// The metric point written with each chat log: its numbers, without the text.
impl From<&ChatLog> for MetricPoint {
    fn from(l: &ChatLog) -> Self {
        MetricPoint {
            ts_ms: l.ts_ms,
            provider: l.provider.clone(),
            model: l.model.clone(),
            route: l.route.clone(),
            status: l.status,
            error_code: l.error_code.clone(),
            latency_ms: l.latency_ms,
            ttft_ms: l.ttft_ms,
            prompt_tokens: l.usage.prompt,
            completion_tokens: l.usage.completion,
            total_tokens: l.usage.total,
            cost_usd: l.effective_cost(),
            virtual_key_id: l.virtual_key_id.clone(),
        }
    }
}

/// A stored chat log with its id.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChatLogEntry {
    /// Row id.
    pub id: i64,
    /// The log.
    #[serde(flatten)]
    pub log: ChatLog,
}

pub(crate) const CHAT_COLS: [&str; 19] = [
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
    "cached_tokens",
    "reasoning_tokens",
    "cost_usd",
    "virtual_key_id",
    "request_text",
    "response_text",
    "metadata",
    "import_key",
];

fn opt_count(v: Option<u64>) -> Value {
    Value::Int(v.map(to_i64))
}

/// The row of `log` in [`CHAT_COLS`] order.
pub(crate) fn chat_values(log: &ChatLog, import_key: Option<String>) -> Vec<Value> {
    vec![
        Value::Int(Some(log.ts_ms)),
        Value::Text(Some(log.provider.clone())),
        Value::Text(Some(log.model.clone())),
        Value::Text(Some(log.route.clone())),
        Value::Text(Some(log.status.as_str().to_owned())),
        Value::Text(log.error_code.clone()),
        Value::Int(Some(to_i64(log.latency_ms))),
        opt_count(log.ttft_ms),
        opt_count(log.usage.prompt),
        opt_count(log.usage.completion),
        opt_count(log.usage.total),
        opt_count(log.usage.cached_prompt),
        opt_count(log.usage.reasoning),
        Value::Real(log.effective_cost()),
        Value::Text(log.virtual_key_id.clone()),
        Value::Text(log.request_text.clone()),
        Value::Text(log.response_text.clone()),
        Value::Text(
            log.metadata
                .as_ref()
                .and_then(|m| serde_json::to_string(m).ok()),
        ),
        Value::Text(import_key),
    ]
}

pub(crate) fn from_row(r: &impl RowExt) -> Result<ChatLogEntry> {
    let count = |c: &str| -> Result<Option<u64>> { Ok(r.opt_int(c)?.map(to_u64)) };
    let metadata = r
        .opt_text("metadata")?
        .map(|m| serde_json::from_str(&m).unwrap_or(serde_json::Value::String(m)));
    Ok(ChatLogEntry {
        id: r.int("id")?,
        log: ChatLog {
            ts_ms: r.int("ts")?,
            provider: r.text("provider")?,
            model: r.text("model")?,
            route: r.text("route")?,
            status: r.text("status")?.parse()?,
            error_code: r.opt_text("error_code")?,
            latency_ms: to_u64(r.int("latency_ms")?),
            ttft_ms: count("ttft_ms")?,
            usage: Usage {
                prompt: count("prompt_tokens")?,
                completion: count("completion_tokens")?,
                total: count("total_tokens")?,
                cached_prompt: count("cached_tokens")?,
                reasoning: count("reasoning_tokens")?,
                cost: None,
            },
            cost_usd: r.opt_real("cost_usd")?,
            virtual_key_id: r.opt_text("virtual_key_id")?,
            request_text: r.opt_text("request_text")?,
            response_text: r.opt_text("response_text")?,
            metadata,
        },
    })
}

/// Writes chat logs and their metric points inside `tx`.
pub(crate) async fn write_chat_logs(tx: &mut Tx, logs: &[&ChatLog]) -> Result<()> {
    let rows: Vec<Vec<Value>> = logs.iter().map(|l| chat_values(l, None)).collect();
    insert_rows(tx, "chat_logs", &CHAT_COLS, &rows, "").await?;
    let points: Vec<MetricPoint> = logs.iter().map(|l| MetricPoint::from(*l)).collect();
    write_points(tx, &points.iter().collect::<Vec<_>>()).await
}

/// Rows deleted per statement by pruning, so a big prune never holds SQLite's write lock for long.
const PRUNE_BATCH: i64 = 5000;

impl Store {
    /// Stores chat logs (and their metric points) in one transaction, as given: redaction is the caller's (the
    /// [`crate::WriteQueue`] applies its configured [`Redactor`]).
    pub async fn insert_chat_logs(&self, logs: &[ChatLog]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        write_chat_logs(&mut tx, &logs.iter().collect::<Vec<_>>()).await?;
        tx.commit().await
    }

    /// Chat logs matching `filter`, newest first.
    pub async fn query_chat_logs(&self, filter: &LogFilter) -> Result<Vec<ChatLogEntry>> {
        let (clause, binds) = where_clause(filter);
        let limit = if filter.limit == 0 { 100 } else { filter.limit };
        let sql = format!(
            "SELECT id, {} FROM chat_logs {clause} ORDER BY ts DESC, id DESC LIMIT {limit}",
            CHAT_COLS.join(", ")
        );
        let entries = on_pool!(self, pool => {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in &binds {
                q = bind_value!(q, v);
            }
            let rows = q.fetch_all(pool).await?;
            rows.iter().map(from_row).collect::<Result<Vec<_>>>()?
        });
        Ok(entries)
    }

    /// Number of chat logs.
    pub async fn count_chat_logs(&self) -> Result<u64> {
        self.count_rows("chat_logs").await
    }

    pub(crate) async fn count_rows(&self, table: &str) -> Result<u64> {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        let n = on_pool!(self, pool => {
            let row = sqlx::query(AssertSqlSafe(sql)).fetch_one(pool).await?;
            row.int("n")?
        });
        Ok(to_u64(n))
    }

    /// Deletes chat logs older than `older_than` (measured from now); returns how many.
    pub async fn prune_logs(&self, older_than: std::time::Duration) -> Result<u64> {
        self.prune_table("chat_logs", cutoff(older_than)).await
    }

    /// Deletes rows of `table` with `ts < cutoff_ms`, in batches.
    pub(crate) async fn prune_table(&self, table: &str, cutoff_ms: i64) -> Result<u64> {
        let sql = format!(
            "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE ts < $1 ORDER BY id LIMIT {PRUNE_BATCH})"
        );
        let mut total = 0;
        loop {
            let n = on_pool!(self, pool => {
                sqlx::query(AssertSqlSafe(sql.clone()))
                    .bind(cutoff_ms)
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
            total += n;
            if n < PRUNE_BATCH.unsigned_abs() {
                return Ok(total);
            }
        }
    }
}
