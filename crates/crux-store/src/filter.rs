//! Filters shared by chat logs and metric points: the request outcome ([`LogStatus`]), the query filter
//! ([`LogFilter`]) and the SQL it becomes, and retention cut-offs. A leaf: it imports neither `logs` nor `metrics`.

use std::fmt;
use std::str::FromStr;

use crate::error::{Result, StoreError};
use crate::row::Value;
use crate::time::now_ms;

/// Outcome of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStatus {
    /// The request succeeded.
    Ok,
    /// The request failed (see the error code).
    Error,
}

impl LogStatus {
    /// `ok` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogStatus::Ok => "ok",
            LogStatus::Error => "error",
        }
    }
}

impl fmt::Display for LogStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ok" => Ok(LogStatus::Ok),
            "error" | "err" => Ok(LogStatus::Error),
            other => Err(StoreError::Invalid(format!(
                "status must be ok or error, not '{other}'"
            ))),
        }
    }
}

/// Filters for [`crate::Store::query_chat_logs`]; all optional, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Exact provider id.
    pub provider: Option<String>,
    /// Exact model id (without provider).
    pub model: Option<String>,
    /// Outcome.
    pub status: Option<LogStatus>,
    /// Only rows at or after this time (epoch ms).
    pub since_ms: Option<i64>,
    /// Only rows before this time (epoch ms).
    pub until_ms: Option<i64>,
    /// Only rows of this virtual key.
    pub virtual_key_id: Option<String>,
    /// Only requests of this client session (`X-Claude-Code-Session-Id`, Codex's session/window ids; chat logs only).
    pub session: Option<String>,
    /// Keyset paging: only rows strictly older than this `(ts_ms, id)` position in the newest-first order (the
    /// last row of the previous page). Chat logs only; uses the `(…, ts)` indexes, never `OFFSET`.
    pub before: Option<(i64, i64)>,
    /// At most this many rows (0 means 100).
    pub limit: u32,
}

/// Builds `WHERE …` and its bind values for a filter over the shared log/metric columns.
pub(crate) fn where_clause(f: &LogFilter) -> (String, Vec<Value>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    let mut push = |clause: &str, v: Value| {
        binds.push(v);
        clauses.push(format!("{clause} ${}", binds.len()));
    };
    if let Some(p) = &f.provider {
        push("provider =", Value::Text(Some(p.clone())));
    }
    if let Some(m) = &f.model {
        push("model =", Value::Text(Some(m.clone())));
    }
    if let Some(s) = f.status {
        push("status =", Value::Text(Some(s.as_str().to_owned())));
    }
    if let Some(t) = f.since_ms {
        push("ts >=", Value::Int(Some(t)));
    }
    if let Some(t) = f.until_ms {
        push("ts <", Value::Int(Some(t)));
    }
    if let Some(k) = &f.virtual_key_id {
        push("virtual_key_id =", Value::Text(Some(k.clone())));
    }
    if let Some((ts, id)) = f.before {
        // `ts <= a AND (ts < a OR id < b)`: a range on `ts` the indexes serve, then the tie-break on the id.
        binds.push(Value::Int(Some(ts)));
        binds.push(Value::Int(Some(id)));
        let (a, b) = (binds.len() - 1, binds.len());
        clauses.push(format!("ts <= ${a} AND (ts < ${a} OR id < ${b})"));
    }
    if let Some(session) = &f.session {
        // The gateway writes metadata as compact JSON, so the pair appears literally; LIKE wildcards are escaped.
        let quoted = serde_json::to_string(session).unwrap_or_default();
        let escaped: String = quoted
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        binds.push(Value::Text(Some(format!("%\"session_id\":{escaped}%"))));
        clauses.push(format!("metadata LIKE ${} ESCAPE '\\'", binds.len()));
    }
    if clauses.is_empty() {
        (String::new(), binds)
    } else {
        (format!("WHERE {}", clauses.join(" AND ")), binds)
    }
}

/// `now - older_than` in epoch ms.
pub(crate) fn cutoff(older_than: std::time::Duration) -> i64 {
    now_ms().saturating_sub(i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX))
}
