//! [`Store`]: the closed enum over SQLite and PostgreSQL pools, connection setup and transactions.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{Result, StoreError};

/// A connected store. Cloning is cheap (the pools are reference-counted).
#[derive(Debug, Clone)]
pub enum Store {
    /// An embedded SQLite file (WAL, `synchronous=NORMAL`, `busy_timeout=5000`, foreign keys on).
    Sqlite(SqlitePool),
    /// A PostgreSQL server, for several gateway instances sharing state.
    Postgres(PgPool),
}

/// Which backend a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Upper bound on open connections (PostgreSQL; SQLite uses at most 4, since it has one writer anyway).
    pub max_connections: u32,
    /// How long to wait for a connection before failing with `unavailable`.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// An open transaction on either backend.
#[derive(Debug)]
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

impl Store {
    /// Connects with default [`StoreOptions`]. `url` is `sqlite://PATH` (the file and its directory are created
    /// when missing) or `postgres://…` / `postgresql://…`. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, &StoreOptions::default()).await
    }

    /// Connects with explicit pool settings.
    pub async fn connect_with(url: &str, options: &StoreOptions) -> Result<Store> {
        let url = url.trim();
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::InvalidUrl(format!("{}: {e}", redact_url(url))))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_millis(5000))
                .foreign_keys(true);
            let file = opts.get_filename();
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
                && !file.as_os_str().to_string_lossy().contains(":memory:")
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::io(format!("cannot create directory {}", dir.display()), e)
                })?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections.clamp(1, 4))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(opts)
                .await?;
            Ok(Store::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::InvalidUrl(format!("{}: {e}", redact_url(url))))?;
            // One direct attempt first: the pool retries until its timeout and then reports only "timed out",
            // while this surfaces the real cause (connection refused, authentication, unknown database).
            let probe = tokio::time::timeout(
                options.acquire_timeout,
                sqlx::ConnectOptions::connect(&opts),
            )
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolTimedOut))??;
            let _ = sqlx::Connection::close(probe).await;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(opts)
                .await?;
            Ok(Store::Postgres(pool))
        } else {
            Err(StoreError::InvalidUrl(format!(
                "'{}' (expected sqlite://PATH or postgres://USER@HOST/DB)",
                redact_url(url)
            )))
        }
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Checks that the database answers (`SELECT 1`).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// [`Store::ping`] bounded by `limit`, for readiness probes: answers within `limit` even when the pool cannot
    /// get a connection (writes keep the pool's longer `acquire_timeout`). Past the limit it fails with a
    /// pool-timeout [`StoreError::Database`], whose code is `unavailable`.
    pub async fn ping_within(&self, limit: Duration) -> Result<()> {
        match tokio::time::timeout(limit, self.ping()).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Database(sqlx::Error::PoolTimedOut)),
        }
    }

    /// Closes every pooled connection (SQLite checkpoints its WAL on the last close).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }

    /// A write transaction. SQLite takes the write lock at `BEGIN IMMEDIATE`, so a transaction that reads before
    /// it writes never fails with "database is locked" on lock upgrade; other writers wait up to `busy_timeout`.
    pub(crate) async fn begin_write(&self) -> Result<Tx> {
        Ok(match self {
            Store::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Store::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A read transaction with one consistent snapshot of every table.
    pub(crate) async fn begin_read(&self) -> Result<Tx> {
        Ok(match self {
            Store::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Store::Postgres(pool) => Tx::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }
}

/// The URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some((scheme, rest)) = url.split_once("://") {
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some((userinfo, host)) = rest[..end].rsplit_once('@')
            && let Some((user, _)) = userinfo.split_once(':')
        {
            out = format!("{scheme}://{user}:***@{host}{}", &rest[end..]);
        }
    }
    if let Some(i) = out.find("password=") {
        let end = out[i..].find('&').map_or(out.len(), |j| i + j);
        out.replace_range(i..end, "password=***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact_url("postgres://u@h/db?sslmode=require"),
            "postgres://u@h/db?sslmode=require"
        );
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
        assert_eq!(
            redact_url("postgres://u:p@h/db?password=zz&x=1"),
            "postgres://u:***@h/db?password=***&x=1"
        );
    }

    #[tokio::test]
    async fn rejects_unknown_schemes() {
        let err = Store::connect("mysql://x").await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidUrl(_)), "{err}");
    }
}
