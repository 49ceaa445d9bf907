//! Stored Responses API objects (`store: true`): one row per response, read back only for `previous_response_id`
//! chaining and `GET /v1/responses/{id}`.

use serde_json::Value as Json;

use crate::error::{Result, StoreError};
use crate::row::RowExt;
use crate::store::Store;

/// One stored response.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// `resp_…` id.
    pub id: String,
    /// Unix seconds, as in the object.
    pub created_at: i64,
    /// The model name the caller used.
    pub model: String,
    /// `completed` or `incomplete`.
    pub status: String,
    /// The virtual key that created it (only that key may read it back); `None` for the master key.
    pub virtual_key_id: Option<String>,
    /// Every input item the response answered, chained history first (a JSON array).
    pub input: Json,
    /// The `response` object as answered (output items, usage, echoed `instructions`, …).
    pub response: Json,
}

impl StoredResponse {
    /// The conversation a chained request continues: the input items, then the output items.
    pub fn conversation(&self) -> Vec<Json> {
        let mut items = self.input.as_array().cloned().unwrap_or_default();
        if let Some(out) = self.response.get("output").and_then(Json::as_array) {
            items.extend(out.iter().cloned());
        }
        items
    }
}

const INSERT: &str = "INSERT INTO responses (id, created_at, model, status, virtual_key_id, input, response)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (id) DO UPDATE SET status = excluded.status, input = excluded.input, response = excluded.response";

const SELECT: &str = "SELECT id, created_at, model, status, virtual_key_id, input, response FROM responses \
    WHERE id = $1";

fn parse(col: &str, text: &str) -> Result<Json> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("responses.{col}: {e}")))
}

impl Store {
    /// Keeps `r` (replacing a response with the same id).
    pub async fn put_response(&self, r: &StoredResponse) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(INSERT)
                .bind(&r.id)
                .bind(r.created_at)
                .bind(&r.model)
                .bind(&r.status)
                .bind(r.virtual_key_id.as_deref())
                .bind(r.input.to_string())
                .bind(r.response.to_string())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The stored response `id`, if any.
    pub async fn get_response(&self, id: &str) -> Result<Option<StoredResponse>> {
        let row = on_pool!(self, pool => {
            match sqlx::query(SELECT).bind(id).fetch_optional(pool).await? {
                Some(row) => Some((
                    row.text("id")?,
                    row.int("created_at")?,
                    row.text("model")?,
                    row.text("status")?,
                    row.opt_text("virtual_key_id")?,
                    row.text("input")?,
                    row.text("response")?,
                )),
                None => None,
            }
        });
        let Some((id, created_at, model, status, virtual_key_id, input, response)) = row else {
            return Ok(None);
        };
        Ok(Some(StoredResponse {
            id,
            created_at,
            model,
            status,
            virtual_key_id,
            input: parse("input", &input)?,
            response: parse("response", &response)?,
        }))
    }

    /// Deletes the stored response `id`; `false` when there was none.
    pub async fn delete_response(&self, id: &str) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM responses WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }
}
