//! Builds small legacy SQLite files with the exact DDL of the original Python system (schemas A and B, and the
//! colliding file both produce when they share `providers.db`). Shared with the CLI tests via `#[path]`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

/// Which tables to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacySchema {
    /// `persistence/sqlite/db_schema.py`.
    A,
    /// `persistence/sqlite/engine.py`.
    B,
    /// Schema B created first, then schema A's tables that did not collide (the verified §5.4 state).
    Both,
}

const A_DDL: &str = "
CREATE TABLE IF NOT EXISTS api_keys (provider TEXT PRIMARY KEY, key TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prefs (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, provider TEXT, model TEXT,
    duration_ms INTEGER, status TEXT, error_type TEXT, tokens_in INTEGER, tokens_out INTEGER);
CREATE TABLE IF NOT EXISTS model_registry (id INTEGER PRIMARY KEY AUTOINCREMENT, provider TEXT NOT NULL,
    model_id TEXT NOT NULL, name TEXT, family TEXT, context_length INTEGER, capabilities TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS model_registry_meta (provider TEXT PRIMARY KEY, fetched_at TEXT, fetched_via TEXT,
    metadata TEXT);
CREATE TABLE IF NOT EXISTS observed_capabilities (provider TEXT NOT NULL, model_id TEXT NOT NULL,
    feature TEXT NOT NULL, value INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (provider, model_id, feature));
";

const A_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS idx_metrics_provider_model ON metrics(provider, model);
CREATE INDEX IF NOT EXISTS idx_metrics_status ON metrics(status);
CREATE INDEX IF NOT EXISTS idx_metrics_ts ON metrics(ts);
CREATE INDEX IF NOT EXISTS idx_models_provider ON model_registry(provider);
CREATE INDEX IF NOT EXISTS idx_observed_provider_model ON observed_capabilities(provider, model_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_models_provider_model ON model_registry(provider, model_id);
";

const B_DDL: &str = "
CREATE TABLE IF NOT EXISTS keys (provider TEXT PRIMARY KEY, api_key TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS prefs (id INTEGER PRIMARY KEY CHECK(id=1), values_json TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS chat_logs (id INTEGER PRIMARY KEY AUTOINCREMENT, provider TEXT NOT NULL, model TEXT NOT NULL,
    role_user TEXT NOT NULL, role_assistant TEXT, metadata_json TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, provider TEXT NOT NULL, model TEXT NOT NULL,
    latency_ms INTEGER NOT NULL, tokens_prompt INTEGER, tokens_completion INTEGER, success INTEGER NOT NULL,
    error_code TEXT, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
";

const A_ROWS: &str = r#"
INSERT INTO api_keys VALUES ('openai', 'sk-legacy-openai-AAAA1111', '2024-01-01T00:00:00+00:00');
INSERT INTO api_keys VALUES ('gemini', 'AIzaLegacyGeminiKey0000', '2024-01-01T00:00:00+00:00');
INSERT INTO api_keys VALUES ('frobnicator', 'fk-123456', '2024-01-01T00:00:00+00:00');
INSERT INTO api_keys VALUES ('groq', '********', '2024-01-01T00:00:00+00:00');
INSERT INTO prefs VALUES ('theme', '"dark"', '2024-01-01T00:00:00+00:00');
INSERT INTO prefs VALUES ('max_tokens', '512', '2024-01-01T00:00:00+00:00');
INSERT INTO prefs VALUES ('raw', 'not json', '2024-01-01T00:00:00+00:00');
INSERT INTO metrics (ts, provider, model, duration_ms, status, error_type, tokens_in, tokens_out)
    VALUES ('2024-05-01T12:00:00+00:00', 'openai', 'gpt-4o-mini', 120, 'ok', NULL, 10, 5);
INSERT INTO metrics (ts, provider, model, duration_ms, status, error_type, tokens_in, tokens_out)
    VALUES ('2024-05-01 12:00:01', 'anthropic', 'claude-3-5-haiku', 300, 'error', 'rate_limit', NULL, NULL);
INSERT INTO metrics (ts, provider, model, duration_ms, status, error_type, tokens_in, tokens_out)
    VALUES ('garbage', NULL, NULL, 50, 'ok', NULL, 1, 1);
INSERT INTO model_registry (provider, model_id, name, family, context_length, capabilities, updated_at)
    VALUES ('openai', 'gpt-4o', 'GPT-4o', 'gpt-4o', 128000, '{"vision": true}', '2024-05-13');
INSERT INTO model_registry (provider, model_id, name, family, context_length, capabilities, updated_at)
    VALUES ('openai', 'o1', NULL, NULL, '8k tokens', '[1,2]', NULL);
INSERT INTO model_registry (provider, model_id, name, family, context_length, capabilities, updated_at)
    VALUES ('anthropic', 'claude-3-5-haiku', 'Claude 3.5 Haiku', 'claude', 0, NULL, NULL);
INSERT INTO model_registry_meta VALUES ('openai', '2024-05-14T08:00:00+00:00', 'api', '{"source": "openai_sdk"}');
INSERT INTO observed_capabilities VALUES ('openai', 'gpt-4o', 'json_output', 1, '2024-05-14T08:00:00+00:00');
INSERT INTO observed_capabilities VALUES ('openai', 'gpt-4o', 'tools', 0, '2024-05-14T08:00:00+00:00');
"#;

const B_ROWS: &str = r#"
INSERT INTO keys (provider, api_key, updated_at) VALUES ('anthropic', 'sk-ant-legacy-BBBB2222', '2024-02-01 00:00:00');
INSERT INTO keys (provider, api_key, updated_at) VALUES ('openai', 'sk-legacy-openai-NEWER999', '2030-01-01 00:00:00');
INSERT INTO prefs (id, values_json) VALUES (1, '{"theme": "light", "stream": "true"}');
INSERT INTO chat_logs (provider, model, role_user, role_assistant, metadata_json, created_at) VALUES
    ('openai', 'gpt-4o-mini', 'my mail is jane@example.com', 'noted',
     '{"latency_ms": 120, "token_usage": {"prompt": 10, "completion": 5, "total": 15}}', '2024-05-01 12:00:00');
INSERT INTO chat_logs (provider, model, role_user, role_assistant, metadata_json, created_at) VALUES
    ('anthropic', 'claude-3-5-haiku', 'hi', NULL, '{"error": "boom", "code": "rate_limit"}', '2024-05-01T12:00:05+00:00');
INSERT INTO metrics (provider, model, latency_ms, tokens_prompt, tokens_completion, success, error_code, created_at)
    VALUES ('openai', 'gpt-4o-mini', 120, 10, 5, 1, NULL, '2024-05-01 12:00:00');
INSERT INTO metrics (provider, model, latency_ms, tokens_prompt, tokens_completion, success, error_code, created_at)
    VALUES ('anthropic', 'claude-3-5-haiku', 900, NULL, NULL, 0, 'timeout', '2024-05-01 12:00:05');
"#;

/// Creates a legacy file at `path` with sample rows.
pub async fn write_legacy(path: &Path, schema: LegacySchema) {
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    let script = match schema {
        LegacySchema::A => format!("{A_DDL}{A_INDEXES}{A_ROWS}"),
        LegacySchema::B => format!("{B_DDL}{B_ROWS}"),
        // B's tables exist first; A's CREATE IF NOT EXISTS then skips prefs and metrics, and its index on
        // metrics(status) fails, so only A's other tables get rows.
        LegacySchema::Both => {
            let a_rows: String = A_ROWS
                .split(';')
                .filter(|s| {
                    !s.trim().is_empty() && !s.contains("INTO prefs") && !s.contains("INTO metrics")
                })
                .map(|s| format!("{s};"))
                .collect();
            format!("{B_DDL}{A_DDL}{B_ROWS}{a_rows}")
        }
    };
    sqlx::raw_sql(AssertSqlSafe(script))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}
