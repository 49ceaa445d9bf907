//! Cross-instance request counts per virtual key: the gateway's limit sync reads them once a second, so rpm limits
//! hold across several gateway instances sharing one store without a database round trip per request.

use crate::error::Result;
use crate::row::RowExt;
use crate::store::Store;

impl Store {
    /// Requests per virtual key since `since_ms` (epoch ms), counted from the chat logs every instance writes.
    pub async fn requests_per_key_since(&self, since_ms: i64) -> Result<Vec<(String, u64)>> {
        const SQL: &str = "SELECT virtual_key_id, COUNT(*) AS n FROM chat_logs \
             WHERE virtual_key_id IS NOT NULL AND ts >= $1 GROUP BY virtual_key_id";
        let counts = on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(since_ms).fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok((r.text("virtual_key_id")?, u64::try_from(r.int("n")?).unwrap_or(0))))
                .collect::<Result<Vec<_>>>()?
        });
        Ok(counts)
    }
}
