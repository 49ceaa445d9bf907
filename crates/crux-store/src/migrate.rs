//! Versioned migrations, embedded per backend, applied in one transaction under a lock.
//!
//! Applied versions are recorded in `crux_schema_migrations` with a SHA-256 of their SQL, so an edited migration
//! or a database newer than this build is reported instead of silently mixed.

use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::store::{Backend, Store};
use crate::time::now_ms;

/// The newest schema version this build knows.
pub const LATEST_VERSION: i64 = 3;

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

static MIGRATIONS: [Migration; 3] = [
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "responses",
        sqlite: include_str!("../migrations/sqlite/0002_responses.sql"),
        postgres: include_str!("../migrations/postgres/0002_responses.sql"),
    },
    Migration {
        version: 3,
        name: "virtual_key_tpm",
        sqlite: include_str!("../migrations/sqlite/0003_virtual_key_tpm.sql"),
        postgres: include_str!("../migrations/postgres/0003_virtual_key_tpm.sql"),
    },
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS crux_schema_migrations (
    version BIGINT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// Serializes concurrent `migrate()` calls from several gateway instances on one PostgreSQL database.
const PG_LOCK: &str = "SELECT pg_advisory_xact_lock(7263018119)";

/// What [`Store::migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions applied by this call (empty when the schema was current).
    pub applied: Vec<i64>,
    /// The schema version now.
    pub version: i64,
}

fn checksum(sql: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, sql.as_bytes()).as_ref())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl Store {
    /// Applies every pending migration in one transaction and returns what was applied. Safe to call from several
    /// processes at once (SQLite's write lock, PostgreSQL's advisory lock).
    pub async fn migrate(&self) -> Result<MigrationReport> {
        let backend = self.backend();
        let mut tx = self.begin_write().await?;
        let applied: Vec<(i64, String, String)> = on_tx!(&mut tx, conn => {
            if backend == Backend::Postgres {
                sqlx::query(PG_LOCK).execute(&mut *conn).await?;
            }
            sqlx::query(CREATE_TABLE).execute(&mut *conn).await?;
            let rows = sqlx::query("SELECT version, name, checksum FROM crux_schema_migrations ORDER BY version")
                .fetch_all(&mut *conn)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((row.try_get("version")?, row.try_get("name")?, row.try_get("checksum")?));
            }
            out
        });
        for (version, name, sum) in &applied {
            let Some(m) = MIGRATIONS.iter().find(|m| m.version == *version) else {
                return Err(StoreError::Schema(format!(
                    "the database schema is at version {version} ({name}), newer than this crux \
                     (which knows up to {LATEST_VERSION}); upgrade crux"
                )));
            };
            let expected = checksum(pick_sql!(backend, m.sqlite, m.postgres));
            if *sum != expected {
                return Err(StoreError::Schema(format!(
                    "migration {version} ({name}) differs from the one applied to this database"
                )));
            }
        }
        let mut done = Vec::new();
        for m in MIGRATIONS
            .iter()
            .filter(|m| !applied.iter().any(|a| a.0 == m.version))
        {
            let sql = pick_sql!(backend, m.sqlite, m.postgres);
            on_tx!(&mut tx, conn => {
                sqlx::raw_sql(sql).execute(&mut *conn).await.map_err(|e| {
                    StoreError::Schema(format!("migration {} ({}) failed: {e}", m.version, m.name))
                })?;
                sqlx::query(
                    "INSERT INTO crux_schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(m.version)
                .bind(m.name)
                .bind(checksum(sql))
                .bind(now_ms())
                .execute(&mut *conn)
                .await?;
            });
            done.push(m.version);
        }
        tx.commit().await?;
        Ok(MigrationReport {
            applied: done,
            version: LATEST_VERSION,
        })
    }

    /// The highest applied schema version, or `None` for a database Crux never migrated.
    pub async fn schema_version(&self) -> Result<Option<i64>> {
        let exists: Option<String> = on_pool!(self, pool => {
            let sql = pick_sql!(
                self.backend(),
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'crux_schema_migrations'",
                "SELECT CAST(to_regclass('crux_schema_migrations') AS TEXT) AS name"
            );
            sqlx::query(sql).fetch_optional(pool).await?.map(|r| r.try_get::<Option<String>, _>("name")).transpose()?.flatten()
        });
        if exists.is_none() {
            return Ok(None);
        }
        let version: Option<i64> = on_pool!(self, pool => {
            sqlx::query("SELECT MAX(version) AS v FROM crux_schema_migrations")
                .fetch_one(pool)
                .await?
                .try_get("v")?
        });
        Ok(version)
    }
}
