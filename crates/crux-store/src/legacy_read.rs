//! Reads the original Python system's SQLite file: schema A (`api_keys`, `prefs` by name, `metrics` with
//! `duration_ms`, the model registry, observed capabilities) and schema B (`keys`, single-row `prefs`, `metrics` with
//! `latency_ms`, `chat_logs`). Both schemas can share one file, so each table is recognised by its columns.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value as Json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};

use crate::error::{Result, StoreError};
use crate::row::RowExt;

/// Column names of every table in the legacy file.
pub(crate) type Tables = BTreeMap<String, Vec<String>>;

/// An open legacy file.
pub(crate) struct LegacyFile {
    conn: SqliteConnection,
    pub(crate) tables: Tables,
}

impl LegacyFile {
    /// Opens `path` read-only (falling back to a plain open when SQLite refuses read-only on a WAL file).
    pub(crate) async fn open(path: &Path) -> Result<LegacyFile> {
        if !path.is_file() {
            return Err(StoreError::Invalid(format!(
                "{} does not exist or is not a file",
                path.display()
            )));
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false);
        let mut conn = match base.clone().read_only(true).connect().await {
            Ok(c) => c,
            Err(_) => base.connect().await?,
        };
        let names: Vec<String> = sqlx::query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&mut conn)
        .await
        .map_err(|e| {
            StoreError::Invalid(format!("{} is not a SQLite database: {e}", path.display()))
        })?
        .iter()
        .map(|r| r.text("name"))
        .collect::<Result<_>>()?;
        let mut tables = Tables::new();
        for name in names {
            let sql = format!("PRAGMA table_info(\"{}\")", name.replace('"', "\"\""));
            let cols = sqlx::query(AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>("name").map_err(StoreError::from))
                .collect::<Result<Vec<_>>>()?;
            tables.insert(name, cols);
        }
        Ok(LegacyFile { conn, tables })
    }

    /// Whether `table` exists with every one of `cols`.
    pub(crate) fn has(&self, table: &str, cols: &[&str]) -> bool {
        self.tables
            .get(table)
            .is_some_and(|have| cols.iter().all(|c| have.iter().any(|h| h == c)))
    }

    /// Every row of `table` (selected columns), as SQLite rows.
    pub(crate) async fn rows(
        &mut self,
        table: &str,
        cols: &[&str],
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>> {
        let order = if self.has(table, &["id"]) {
            " ORDER BY id"
        } else {
            ""
        };
        let sql = format!("SELECT {} FROM {table}{order}", cols.join(", "));
        Ok(sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut self.conn)
            .await?)
    }

    pub(crate) async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// A key as the legacy system stored it (in plaintext).
pub(crate) struct LegacyKey {
    pub(crate) provider: String,
    pub(crate) key: String,
    pub(crate) updated_at: Option<String>,
}

/// Why a legacy key is not imported, if it is not (the original `POST /api/keys` filter).
pub(crate) fn reject_key(key: &str) -> Option<&'static str> {
    let k = key.trim();
    if k.is_empty() {
        Some("empty")
    } else if !k.is_ascii() {
        Some("not ASCII")
    } else if k.chars().all(|c| c == '*') {
        Some("a mask of asterisks")
    } else if k.to_ascii_lowercase().contains("placeholder") {
        Some("a placeholder")
    } else if k.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("contains whitespace")
    } else {
        None
    }
}

/// A model row of schema A, with the context length normalised the way the original registry did.
pub(crate) fn normalize_context_length(raw: Option<&str>) -> Option<u64> {
    let s = raw?.trim().to_ascii_lowercase();
    let s = s
        .strip_suffix("tokens")
        .unwrap_or(&s)
        .trim()
        .replace(',', "");
    let (num, mult) = match s.strip_suffix('k') {
        Some(n) => (n.trim(), 1000.0),
        None => (s.as_str(), 1.0),
    };
    if num.is_empty() || num.matches('.').count() > 1 {
        return None;
    }
    if mult == 1.0 {
        return num
            .parse::<i64>()
            .ok()
            .and_then(|v| u64::try_from(v).ok())
            .filter(|v| *v > 0);
    }
    let v: f64 = num.parse().ok()?;
    let n = (v * mult).round();
    (n.is_finite() && n >= 1.0).then_some(n as u64)
}

/// Capabilities must be an object; anything else is kept under `raw_capabilities`, as the original did.
pub(crate) fn normalize_capabilities(raw: Option<String>) -> Option<Json> {
    let raw = raw?;
    match serde_json::from_str::<Json>(&raw) {
        Ok(Json::Object(map)) => Some(Json::Object(map)),
        Ok(Json::Null) => None,
        Ok(other) => Some(serde_json::json!({ "raw_capabilities": other })),
        Err(_) => Some(serde_json::json!({ "raw_capabilities": raw })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_lengths() {
        let n = |s: &str| normalize_context_length(Some(s));
        assert_eq!(n("128000"), Some(128_000));
        assert_eq!(n("1.5k"), Some(1500));
        assert_eq!(n("0.75K"), Some(750));
        assert_eq!(n("8k tokens"), Some(8000));
        assert_eq!(n("200,000"), Some(200_000));
        for bad in ["8m", "k", "1.2.3k", "", "0", "-5"] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

    #[test]
    fn key_filter() {
        assert_eq!(reject_key("sk-real"), None);
        assert!(reject_key("  ").is_some());
        assert!(reject_key("****").is_some());
        assert!(reject_key("your-PLACEHOLDER-key").is_some());
        assert!(reject_key("clé").is_some());
    }

    #[test]
    fn capabilities() {
        assert_eq!(
            normalize_capabilities(Some(r#"{"vision":true}"#.into())),
            Some(serde_json::json!({"vision": true}))
        );
        assert_eq!(
            normalize_capabilities(Some("[1]".into())),
            Some(serde_json::json!({"raw_capabilities": [1]}))
        );
        assert_eq!(normalize_capabilities(None), None);
    }
}
