-- Crux store schema v1 (SQLite). Timestamps are Unix epoch milliseconds (UTC); JSON is stored as TEXT.

CREATE TABLE provider_keys (
    provider   TEXT PRIMARY KEY NOT NULL,
    ciphertext TEXT NOT NULL,              -- 'v1:' || base64(nonce || AES-256-GCM ciphertext || tag)
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE virtual_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,     -- hex SHA-256 of the whole key
    key_prefix   TEXT NOT NULL,            -- first characters, for display
    budget_usd   REAL,
    rpm          INTEGER,
    models       TEXT,                     -- JSON array of allowed models; NULL = every model
    spend_usd    REAL NOT NULL DEFAULT 0,
    revoked      INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE UNIQUE INDEX virtual_keys_active_name ON virtual_keys (name) WHERE revoked = 0;

CREATE TABLE chat_logs (
    id                INTEGER PRIMARY KEY,
    ts                INTEGER NOT NULL,
    provider          TEXT NOT NULL,
    model             TEXT NOT NULL,
    route             TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    error_code        TEXT,
    latency_ms        INTEGER NOT NULL,
    ttft_ms           INTEGER,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    total_tokens      INTEGER,
    cached_tokens     INTEGER,
    reasoning_tokens  INTEGER,
    cost_usd          REAL,
    virtual_key_id    TEXT,
    request_text      TEXT,
    response_text     TEXT,
    metadata          TEXT,
    import_key        TEXT
);
CREATE INDEX chat_logs_ts ON chat_logs (ts);
CREATE INDEX chat_logs_provider_ts ON chat_logs (provider, ts);
CREATE INDEX chat_logs_model_ts ON chat_logs (model, ts);
CREATE INDEX chat_logs_status_ts ON chat_logs (status, ts);
CREATE INDEX chat_logs_virtual_key_ts ON chat_logs (virtual_key_id, ts);
CREATE UNIQUE INDEX chat_logs_import_key ON chat_logs (import_key) WHERE import_key IS NOT NULL;

CREATE TABLE metric_points (
    id                INTEGER PRIMARY KEY,
    ts                INTEGER NOT NULL,
    provider          TEXT NOT NULL,
    model             TEXT NOT NULL,
    route             TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    error_code        TEXT,
    latency_ms        INTEGER NOT NULL,
    ttft_ms           INTEGER,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    total_tokens      INTEGER,
    cost_usd          REAL,
    virtual_key_id    TEXT,
    import_key        TEXT
);
CREATE INDEX metric_points_ts ON metric_points (ts);
CREATE INDEX metric_points_provider_ts ON metric_points (provider, ts);
CREATE INDEX metric_points_model_ts ON metric_points (model, ts);
CREATE INDEX metric_points_status_ts ON metric_points (status, ts);
CREATE INDEX metric_points_virtual_key_ts ON metric_points (virtual_key_id, ts);
CREATE UNIQUE INDEX metric_points_import_key ON metric_points (import_key) WHERE import_key IS NOT NULL;

CREATE TABLE prefs (
    name       TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,              -- JSON
    updated_at INTEGER NOT NULL
);

CREATE TABLE model_registry (
    provider       TEXT NOT NULL,
    model_id       TEXT NOT NULL,
    name           TEXT NOT NULL,
    family         TEXT,
    context_length INTEGER,
    capabilities   TEXT,                   -- JSON object
    updated_at     TEXT,                   -- as reported by the provider
    PRIMARY KEY (provider, model_id)
);

CREATE TABLE model_registry_meta (
    provider    TEXT PRIMARY KEY NOT NULL,
    fetched_at  INTEGER NOT NULL,
    fetched_via TEXT NOT NULL,
    metadata    TEXT                       -- JSON
);

CREATE TABLE observed_capabilities (
    provider   TEXT NOT NULL,
    model_id   TEXT NOT NULL,
    feature    TEXT NOT NULL,
    value      INTEGER NOT NULL CHECK (value IN (0, 1)),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (provider, model_id, feature)
);
