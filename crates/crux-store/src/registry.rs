//! The model registry (per-provider snapshots with fetch metadata) and observed capabilities.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::bulk::insert_rows;
use crate::error::{Result, StoreError};
use crate::row::{RowExt, Value, to_i64, to_u64};
use crate::store::Store;
use crate::time::{format_ms, now_ms};

/// One model of a provider's snapshot (the shape of the original `/api/models`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelRecord {
    /// Model id as the provider names it.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Family, if known.
    pub family: Option<String>,
    /// Context window in tokens, if known.
    pub context_length: Option<u64>,
    /// Capabilities (a JSON object).
    pub capabilities: Option<Json>,
    /// The provider's own update stamp, as it reported it.
    pub updated_at: Option<String>,
}

/// A provider's stored models and when they were fetched.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RegistrySnapshot {
    /// Provider id.
    pub provider: String,
    /// Models ordered by name.
    pub models: Vec<ModelRecord>,
    /// When the snapshot was fetched (RFC 3339).
    pub fetched_at: Option<String>,
    /// How (`api`, `catalog`, `legacy-import`, …).
    pub fetched_via: Option<String>,
    /// Extra fetch metadata.
    pub metadata: Option<Json>,
}

pub(crate) const MODEL_COLS: [&str; 7] = [
    "provider",
    "model_id",
    "name",
    "family",
    "context_length",
    "capabilities",
    "updated_at",
];

pub(crate) fn model_values(provider: &str, m: &ModelRecord) -> Vec<Value> {
    vec![
        Value::Text(Some(provider.to_owned())),
        Value::Text(Some(m.id.clone())),
        Value::Text(Some(m.name.clone())),
        Value::Text(m.family.clone()),
        Value::Int(m.context_length.map(to_i64)),
        Value::Text(m.capabilities.as_ref().map(Json::to_string)),
        Value::Text(m.updated_at.clone()),
    ]
}

fn parse_json(text: Option<String>) -> Option<Json> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(Json::String(t)))
}

impl Store {
    /// Replaces `provider`'s snapshot (models and fetch metadata) in one transaction. A model id listed twice keeps
    /// its last entry instead of failing the whole save.
    pub async fn save_models_snapshot(
        &self,
        provider: &str,
        models: &[ModelRecord],
        fetched_via: &str,
        metadata: Option<&Json>,
    ) -> Result<()> {
        if provider.trim().is_empty() {
            return Err(StoreError::Invalid("provider is required".into()));
        }
        let mut unique: BTreeMap<&str, &ModelRecord> = BTreeMap::new();
        for m in models {
            unique.insert(m.id.as_str(), m);
        }
        let rows: Vec<Vec<Value>> = unique.values().map(|m| model_values(provider, m)).collect();
        let mut tx = self.begin_write().await?;
        on_tx!(&mut tx, conn => {
            sqlx::query("DELETE FROM model_registry WHERE provider = $1")
                .bind(provider)
                .execute(&mut *conn)
                .await?;
        });
        insert_rows(&mut tx, "model_registry", &MODEL_COLS, &rows, "").await?;
        on_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO model_registry_meta (provider, fetched_at, fetched_via, metadata) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (provider) DO UPDATE SET fetched_at = excluded.fetched_at,
                 fetched_via = excluded.fetched_via, metadata = excluded.metadata",
            )
            .bind(provider)
            .bind(now_ms())
            .bind(fetched_via)
            .bind(metadata.map(Json::to_string))
            .execute(&mut *conn)
            .await?;
        });
        tx.commit().await
    }

    /// `provider`'s snapshot, or `None` when nothing is stored.
    pub async fn load_models_snapshot(&self, provider: &str) -> Result<Option<RegistrySnapshot>> {
        let (models, meta) = on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT model_id, name, family, context_length, capabilities, updated_at FROM model_registry
                 WHERE provider = $1 ORDER BY name, model_id",
            )
            .bind(provider)
            .fetch_all(pool)
            .await?;
            let models = rows.iter().map(|r| Ok(ModelRecord {
                id: r.text("model_id")?,
                name: r.text("name")?,
                family: r.opt_text("family")?,
                context_length: r.opt_int("context_length")?.map(to_u64),
                capabilities: parse_json(r.opt_text("capabilities")?),
                updated_at: r.opt_text("updated_at")?,
            })).collect::<Result<Vec<_>>>()?;
            let meta = sqlx::query("SELECT fetched_at, fetched_via, metadata FROM model_registry_meta WHERE provider = $1")
                .bind(provider)
                .fetch_optional(pool)
                .await?;
            let meta = meta.map(|r| -> Result<_> {
                Ok((r.int("fetched_at")?, r.text("fetched_via")?, parse_json(r.opt_text("metadata")?)))
            }).transpose()?;
            (models, meta)
        });
        if models.is_empty() && meta.is_none() {
            return Ok(None);
        }
        let (fetched_at, fetched_via, metadata) = match meta {
            Some((at, via, m)) => (Some(format_ms(at)), Some(via), m),
            None => (None, None, None),
        };
        Ok(Some(RegistrySnapshot {
            provider: provider.to_owned(),
            models,
            fetched_at,
            fetched_via,
            metadata,
        }))
    }

    /// Providers with a stored snapshot, sorted.
    pub async fn list_model_providers(&self) -> Result<Vec<String>> {
        let providers = on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT provider FROM model_registry_meta UNION SELECT provider FROM model_registry ORDER BY provider",
            )
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| r.text("provider")).collect::<Result<Vec<_>>>()?
        });
        Ok(providers)
    }

    /// Records that `feature` of a model was observed to work (`true`) or not (`false`); the latest wins.
    pub async fn record_observed_capability(
        &self,
        provider: &str,
        model_id: &str,
        feature: &str,
        value: bool,
    ) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO observed_capabilities (provider, model_id, feature, value, updated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (provider, model_id, feature) DO UPDATE SET value = excluded.value,
                 updated_at = excluded.updated_at",
            )
            .bind(provider)
            .bind(model_id)
            .bind(feature)
            .bind(value)
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// `{model_id: {feature: value}}` for `provider`.
    pub async fn load_observed_capabilities(
        &self,
        provider: &str,
    ) -> Result<BTreeMap<String, BTreeMap<String, bool>>> {
        let rows = on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT model_id, feature, value FROM observed_capabilities WHERE provider = $1",
            )
            .bind(provider)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.text("model_id")?, r.text("feature")?, r.flag("value")?)))
                .collect::<Result<Vec<_>>>()?
        });
        let mut out: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
        for (model, feature, value) in rows {
            out.entry(model).or_default().insert(feature, value);
        }
        Ok(out)
    }

    /// Deletes every observation of `provider`'s models named in `model_ids` (a model's id and aliases); returns
    /// how many capability values were removed.
    pub async fn forget_observed_capabilities(
        &self,
        provider: &str,
        model_ids: &[&str],
    ) -> Result<u64> {
        let mut removed = 0;
        for model_id in model_ids {
            removed += on_pool!(self, pool => {
                sqlx::query("DELETE FROM observed_capabilities WHERE provider = $1 AND model_id = $2")
                    .bind(provider)
                    .bind(*model_id)
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
        }
        Ok(removed)
    }
}
