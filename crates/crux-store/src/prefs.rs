//! Preferences: named JSON values with shallow-merge updates (as the original `/api/prefs`).

use serde_json::{Map, Value as Json};

use crate::error::{Result, StoreError};
use crate::row::RowExt;
use crate::store::{Store, Tx};
use crate::time::now_ms;

const UPSERT: &str = "INSERT INTO prefs (name, value, updated_at) VALUES ($1, $2, $3)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";

/// Inserts a pref only when the name is not set yet (the legacy import keeps newer values); returns whether it did.
pub(crate) async fn insert_pref_if_absent(tx: &mut Tx, name: &str, value: &Json) -> Result<bool> {
    let n = on_tx!(tx, conn => {
        sqlx::query("INSERT INTO prefs (name, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(value.to_string())
            .bind(now_ms())
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

async fn read_all(tx: &mut Tx) -> Result<Map<String, Json>> {
    let pairs = on_tx!(tx, conn => {
        let rows = sqlx::query("SELECT name, value FROM prefs ORDER BY name")
            .fetch_all(&mut *conn)
            .await?;
        rows.iter()
            .map(|r| Ok((r.text("name")?, r.text("value")?)))
            .collect::<Result<Vec<_>>>()?
    });
    Ok(pairs
        .into_iter()
        .map(|(k, v)| {
            let value = serde_json::from_str(&v).unwrap_or(Json::String(v));
            (k, value)
        })
        .collect())
}

impl Store {
    /// Every pref.
    pub async fn prefs(&self) -> Result<Map<String, Json>> {
        let mut tx = self.begin_read().await?;
        let all = read_all(&mut tx).await?;
        tx.commit().await?;
        Ok(all)
    }

    /// Shallow merge: each given name is set to its value (other names are kept); returns the merged prefs.
    pub async fn merge_prefs(&self, values: &Map<String, Json>) -> Result<Map<String, Json>> {
        if values.keys().any(|k| k.trim().is_empty()) {
            return Err(StoreError::Invalid("pref names must not be empty".into()));
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for (name, value) in values {
            on_tx!(&mut tx, conn => {
                sqlx::query(UPSERT)
                    .bind(name)
                    .bind(value.to_string())
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
            });
        }
        let all = read_all(&mut tx).await?;
        tx.commit().await?;
        Ok(all)
    }

    /// Deletes one pref; `false` when it was not set.
    pub async fn delete_pref(&self, name: &str) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM prefs WHERE name = $1")
                .bind(name)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }
}
