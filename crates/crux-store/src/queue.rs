//! The write queue: a bounded channel → one writer task → batched transactions (flush at N records or T ms).
//!
//! [`QueueSender::try_enqueue`] never blocks and never awaits: when the channel is full (or shut down) the record is
//! dropped and counted. [`WriteQueue::shutdown`] stops intake, drains every queued record, and returns the counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::Result;
use crate::logs::{ChatLog, write_chat_logs};
use crate::metrics::{MetricPoint, write_points};
use crate::redact::Redactor;
use crate::store::Store;
use crate::time::now_ms;

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

/// Queue settings.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Records the channel holds before new ones are dropped.
    pub capacity: usize,
    /// Flush when a batch has this many records…
    pub batch_rows: usize,
    /// …or when its first record has waited this long.
    pub flush_interval: Duration,
    /// Applied to chat logs in the writer task, before they are stored (off the request path).
    pub redactor: Option<Arc<Redactor>>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            batch_rows: 500,
            flush_interval: Duration::from_millis(50),
            redactor: None,
        }
    }
}

/// Queue counters (exported as `crux_store_queue_depth` and `crux_store_dropped_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct QueueStats {
    /// Records waiting in the channel now (the queue depth).
    pub queued: u64,
    /// Channel capacity.
    pub capacity: u64,
    /// Records stored.
    pub written: u64,
    /// Records refused because the queue was full or shut down.
    pub dropped: u64,
    /// Records lost because their batch failed to commit after retries.
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    written: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
}

/// A cheap, cloneable handle for enqueuing from request handlers.
#[derive(Debug, Clone)]
pub struct QueueSender {
    tx: mpsc::Sender<Record>,
    counters: Arc<Counters>,
}

impl QueueSender {
    /// Queues `record` without waiting; `false` (and the dropped counter incremented) when the queue is full or
    /// shut down.
    pub fn try_enqueue(&self, record: Record) -> bool {
        match self.tx.try_send(record) {
            Ok(()) => true,
            Err(_) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Current counters.
    pub fn stats(&self) -> QueueStats {
        let capacity = self.tx.max_capacity();
        QueueStats {
            queued: (capacity - self.tx.capacity()) as u64,
            capacity: capacity as u64,
            written: self.counters.written.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
        }
    }
}

/// The queue and its writer task.
#[derive(Debug)]
pub struct WriteQueue {
    sender: QueueSender,
    stop: Option<oneshot::Sender<()>>,
    writer: JoinHandle<()>,
}

impl WriteQueue {
    /// Starts the writer task on the current Tokio runtime.
    pub fn spawn(store: Store, config: QueueConfig) -> WriteQueue {
        let capacity = config.capacity.max(1);
        let (tx, rx) = mpsc::channel(capacity);
        let (stop_tx, stop_rx) = oneshot::channel();
        let counters = Arc::new(Counters::default());
        let writer = tokio::spawn(run_writer(store, rx, stop_rx, config, counters.clone()));
        WriteQueue {
            sender: QueueSender { tx, counters },
            stop: Some(stop_tx),
            writer,
        }
    }

    /// A handle for enqueuing from other tasks.
    pub fn sender(&self) -> QueueSender {
        self.sender.clone()
    }

    /// See [`QueueSender::try_enqueue`].
    pub fn try_enqueue(&self, record: Record) -> bool {
        self.sender.try_enqueue(record)
    }

    /// Current counters.
    pub fn stats(&self) -> QueueStats {
        self.sender.stats()
    }

    /// Stops intake (later `try_enqueue` calls are dropped), writes everything already queued, and returns the
    /// final counters.
    pub async fn shutdown(mut self) -> QueueStats {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Err(e) = (&mut self.writer).await {
            tracing::error!(error = %e, "store write queue task failed");
        }
        self.sender.stats()
    }
}

async fn run_writer(
    store: Store,
    mut rx: mpsc::Receiver<Record>,
    mut stop: oneshot::Receiver<()>,
    config: QueueConfig,
    counters: Arc<Counters>,
) {
    let max = config.batch_rows.max(1);
    let mut batch: Vec<Record> = Vec::with_capacity(max);
    let mut stopping = false;
    loop {
        if batch.is_empty() {
            tokio::select! {
                n = rx.recv_many(&mut batch, max) => if n == 0 { break },
                _ = &mut stop, if !stopping => {
                    stopping = true;
                    rx.close();
                    continue;
                }
            }
        }
        let deadline = Instant::now() + config.flush_interval;
        while batch.len() < max && !stopping {
            let room = max - batch.len();
            tokio::select! {
                n = rx.recv_many(&mut batch, room) => if n == 0 { break },
                () = tokio::time::sleep_until(deadline) => break,
                _ = &mut stop => {
                    stopping = true;
                    rx.close();
                }
            }
        }
        while stopping && batch.len() < max {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        flush(&store, &mut batch, config.redactor.as_deref(), &counters).await;
    }
}

/// Writes one batch in one transaction, retrying a failed commit twice before counting the batch as failed.
async fn flush(
    store: &Store,
    batch: &mut Vec<Record>,
    redactor: Option<&Redactor>,
    counters: &Counters,
) {
    if let Some(r) = redactor {
        for record in batch.iter_mut() {
            if let Record::ChatLog(log) = record {
                log.redact(r);
            }
        }
    }
    let n = batch.len() as u64;
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=3 {
        match write_batch(store, batch).await {
            Ok(()) => {
                counters.written.fetch_add(n, Ordering::Relaxed);
                batch.clear();
                return;
            }
            Err(e) if attempt < 3 => {
                tracing::warn!(error = %e, attempt, records = n, "store write batch failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => {
                tracing::error!(error = %e, records = n, error_code = e.code().as_str(), "store write batch lost");
            }
        }
    }
    counters.failed.fetch_add(n, Ordering::Relaxed);
    batch.clear();
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
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE virtual_keys SET spend_usd = spend_usd + $1, last_used_at = $2 WHERE id = $3")
                .bind(usd)
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        });
    }
    tx.commit().await
}
