//! One batch of the write queue in one transaction, and which of its failures are the data's fault (skipped)
//! rather than the store's (retried).

use crate::error::{Result, StoreError};
use crate::logs::{ChatLog, write_chat_logs};
use crate::metrics::{MetricPoint, write_points};
use crate::store::{Backend, Store};
use crate::time::now_ms;
use crate::virtual_keys::add_spend;

/// One thing to persist.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A chat log (its metric point is written with it).
    ChatLog(Box<ChatLog>),
    /// A metric point alone (a request whose text is not logged).
    Metric(MetricPoint),
    /// Spend to add to a virtual key.
    Spend {
        /// Virtual key id.
        virtual_key_id: String,
        /// USD to add.
        usd: f64,
    },
}

/// Whether the database refused the data itself (so retrying cannot help), as opposed to being unavailable.
pub(crate) fn refused(e: &StoreError, backend: Backend) -> bool {
    match e {
        StoreError::Database(sqlx::Error::Encode(_)) => true,
        StoreError::Database(sqlx::Error::Database(db)) => {
            db.code().is_some_and(|code| match backend {
                // Extended result codes: the primary code is the low byte (18 TOOBIG, 19 CONSTRAINT, 20 MISMATCH).
                Backend::Sqlite => code
                    .parse::<i64>()
                    .is_ok_and(|c| matches!(c & 0xff, 18..=20)),
                // SQLSTATE class 22 (data exception) or 23 (integrity constraint violation).
                Backend::Postgres => code.starts_with("22") || code.starts_with("23"),
            })
        }
        _ => false,
    }
}

/// Stores a batch of records in one transaction.
pub(crate) async fn write_batch(store: &Store, batch: &[Record]) -> Result<()> {
    let mut logs = Vec::new();
    let mut points = Vec::new();
    let mut spends = Vec::new();
    for record in batch {
        match record {
            Record::ChatLog(l) => logs.push(&**l),
            Record::Metric(p) => points.push(p),
            Record::Spend {
                virtual_key_id,
                usd,
            } => spends.push((virtual_key_id, *usd)),
        }
    }
    let mut tx = store.begin_write().await?;
    if !logs.is_empty() {
        write_chat_logs(&mut tx, &logs).await?;
    }
    if !points.is_empty() {
        write_points(&mut tx, &points).await?;
    }
    let now = now_ms();
    for (id, usd) in spends {
        add_spend(&mut tx, id, usd, now).await?;
    }
    tx.commit().await
}
