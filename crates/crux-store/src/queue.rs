//! The write queue: a bounded channel → one writer task → batched transactions (flush at N records or T ms),
//! which outlasts a database outage without losing what it accepted.
//!
//! [`QueueSender::try_enqueue`] never blocks and never awaits: when the channel is full (or shut down) the record is
//! dropped and counted.
//!
//! **Outages.** The writer moves records from the channel into its own backlog (at most
//! [`QueueConfig::max_pending`] records) and writes them from the front, in order, one batch per transaction. A
//! batch that fails goes back to the front of the backlog and is retried with exponential backoff
//! ([`QueueConfig::retry_initial`], doubling up to [`QueueConfig::retry_max`]) until the store answers again, so
//! chat logs, metric points and virtual-key spend are all written, in the order they were accepted. Meanwhile the
//! writer keeps taking records from the channel (also while a write attempt waits for a connection) until the
//! backlog is full; then the channel fills, and only then does `try_enqueue` drop and count. An outage loses nothing
//! while fewer than `capacity + max_pending` records arrive during it; beyond that the newest are dropped, the
//! oldest kept, and `crux_store_dropped_total` says how many.
//!
//! The bound is memory, not a local spill file. A spill file (append records to disk while the store is down,
//! replay them when it returns) was considered and not chosen: with SQLite the store already is the local disk, so
//! a spill file only helps PostgreSQL, whose outages (failover, restart) are covered by the default bound of 100,000
//! records (minutes of traffic at hundreds of requests per second); a spill file would need its own format, fsync
//! policy, corruption handling and replay after a crash; and it would keep request and response text on disk outside
//! the database's access control and retention. A full disk would just be another outage. Memory with a cap and
//! counted drops is bounded, simple and visible.
//!
//! **Refused records.** Data the database refuses (PostgreSQL SQLSTATE classes 22 and 23, SQLite `CONSTRAINT`,
//! `TOOBIG` and `MISMATCH`) can never be written, and retrying it would stall everything behind it: such a batch is
//! retried one record per transaction, and each refused record is skipped and counted in [`QueueStats::failed`].
//! Every other error (connection refused, pool timeout, a missing table, a read-only or locked database) is an
//! outage.
//!
//! **Shutdown.** [`WriteQueue::shutdown`] stops intake and writes everything queued, retrying as above, for at most
//! [`QueueConfig::shutdown_timeout`] (an unfinished write attempt is abandoned at the deadline); what is still
//! unwritten then is counted as dropped, so shutting down with a dead store ends on time.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use crate::batch::Record;
use crate::batch::{refused, write_batch};
use crate::redact::Redactor;
use crate::store::Store;

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
    /// Records the writer holds beyond the channel while the store is unavailable: the memory bound (at least
    /// `batch_rows`). Chat logs carry their text, so size this to the memory you can spare.
    pub max_pending: usize,
    /// Wait after the first failed attempt of a batch; doubles with each further failure…
    pub retry_initial: Duration,
    /// …up to this.
    pub retry_max: Duration,
    /// How long [`WriteQueue::shutdown`] keeps writing what is queued; the rest is then counted as dropped.
    pub shutdown_timeout: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            batch_rows: 500,
            flush_interval: Duration::from_millis(50),
            redactor: None,
            max_pending: 100_000,
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
            // Below Kubernetes' default 30 s termination grace period.
            shutdown_timeout: Duration::from_secs(20),
        }
    }
}

/// Queue counters, live (exported as `crux_store_queue_depth` and `crux_store_dropped_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct QueueStats {
    /// Records accepted and not yet stored or dropped (the queue depth): in the channel plus held by the writer.
    /// 0 once everything is written.
    pub queued: u64,
    /// Channel capacity.
    pub capacity: u64,
    /// Records stored.
    pub written: u64,
    /// Records refused because the queue was full or shut down, or still unwritten when the shutdown timeout ended.
    pub dropped: u64,
    /// Records the database refused as invalid (see the module docs): skipped, never retried.
    pub failed: u64,
    /// Of `queued`, the records the writer holds (taken from the channel, waiting for the store).
    pub pending: u64,
    /// Write attempts that failed and were retried (each failure of a batch counts once).
    pub failed_batches: u64,
}

#[derive(Debug)]
struct Counters {
    written: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    held: AtomicU64,
    failed_batches: AtomicU64,
    /// Records in the channel at which a sender wakes the writer ([`Writer::during`]): what its backlog lacks to a
    /// full batch while it fills one, `usize::MAX` while it receives each record itself.
    want: AtomicUsize,
    /// How a sender wakes the writer once `want` records wait in the channel.
    wake: Notify,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            held: AtomicU64::new(0),
            failed_batches: AtomicU64::new(0),
            want: AtomicUsize::new(usize::MAX),
            wake: Notify::new(),
        }
    }
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
            Ok(()) => {
                // The writer is not woken per record: only once its batch is full, or by its own timer.
                let in_channel = self.tx.max_capacity() - self.tx.capacity();
                if in_channel >= self.counters.want.load(Ordering::Relaxed) {
                    self.counters.wake.notify_one();
                }
                true
            }
            Err(_) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Current counters, read live (cheap: a few atomic loads), so a metrics scrape can report the depth as it is.
    pub fn stats(&self) -> QueueStats {
        let capacity = self.tx.max_capacity();
        let in_channel = capacity.saturating_sub(self.tx.capacity()) as u64;
        let pending = self.counters.held.load(Ordering::Relaxed);
        QueueStats {
            queued: in_channel + pending,
            capacity: capacity as u64,
            written: self.counters.written.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            pending,
            failed_batches: self.counters.failed_batches.load(Ordering::Relaxed),
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
        let writer = Writer {
            rx,
            stop: stop_rx,
            inbox: Vec::new(),
            backlog: VecDeque::new(),
            held: 0,
            max_held: config.max_pending.max(config.batch_rows.max(1)),
            deadline: None,
            closed: false,
            config,
            counters: counters.clone(),
        };
        WriteQueue {
            sender: QueueSender { tx, counters },
            stop: Some(stop_tx),
            writer: tokio::spawn(writer.run(store)),
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

    /// Stops intake (later `try_enqueue` calls are dropped), writes everything already queued — retrying while the
    /// store is unavailable, for at most [`QueueConfig::shutdown_timeout`], after which the rest is counted as
    /// dropped — and returns the final counters.
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

/// Records taken from the channel per receive.
const CHUNK: usize = 1024;

/// The shutdown deadline passed while waiting.
struct Expired;

/// The writer task's state.
struct Writer {
    rx: mpsc::Receiver<Record>,
    stop: oneshot::Receiver<()>,
    inbox: Vec<Record>,
    /// Records taken from the channel and not yet stored, oldest first.
    backlog: VecDeque<Record>,
    /// The backlog plus the batch being written (mirrored in `Counters::held`).
    held: usize,
    max_held: usize,
    /// Set when shutdown starts: when to stop trying.
    deadline: Option<Instant>,
    /// The channel is closed and empty.
    closed: bool,
    config: QueueConfig,
    counters: Arc<Counters>,
}

impl Writer {
    async fn run(mut self, store: Store) {
        let max = self.config.batch_rows.max(1);
        let mut delay = self.config.retry_initial;
        let mut failures: u64 = 0;
        // Records still to write one per transaction, to isolate a record the database refuses.
        let mut solo = 0usize;
        loop {
            if self.backlog.is_empty() {
                if self.closed {
                    return;
                }
                let first = self.during(std::future::pending::<()>(), |w| {
                    !w.backlog.is_empty() || w.closed
                });
                if first.await.is_err() {
                    return self.give_up(Vec::new());
                }
                continue;
            }
            if self.backlog.len() < max && self.deadline.is_none() && failures == 0 {
                let flush_at = Instant::now() + self.config.flush_interval;
                let fill = self.during(tokio::time::sleep_until(flush_at), |w| {
                    w.backlog.len() >= max || w.deadline.is_some()
                });
                if fill.await.is_err() {
                    return self.give_up(Vec::new());
                }
            }
            // What arrived during the fill window is still in the channel.
            if !self.closed {
                self.take(self.max_held.saturating_sub(self.held).min(CHUNK));
            }
            let n = if solo > 0 {
                1
            } else {
                max.min(self.backlog.len())
            };
            let batch: Vec<Record> = self.backlog.drain(..n).collect();
            let result = match self.during(write_batch(&store, &batch), |_| false).await {
                Ok(Some(result)) => result,
                Ok(None) | Err(Expired) => return self.give_up(batch),
            };
            match result {
                Ok(()) => {
                    self.counters.written.fetch_add(n as u64, Ordering::Relaxed);
                    self.settle(n);
                    if failures > 0 {
                        tracing::info!(failed_attempts = failures, "store writes recovered");
                    }
                    (failures, delay, solo) =
                        (0, self.config.retry_initial, solo.saturating_sub(1));
                }
                Err(e) if n == 1 && refused(&e, store.backend()) => {
                    tracing::error!(error = %e, "store refused a record; skipped");
                    self.counters.failed.fetch_add(1, Ordering::Relaxed);
                    self.settle(1);
                    solo = solo.saturating_sub(1);
                }
                Err(e) if refused(&e, store.backend()) => {
                    tracing::warn!(error = %e, records = n, "store refused a batch; writing it one record at a time");
                    self.requeue(batch);
                    solo = n;
                }
                Err(e) => {
                    failures += 1;
                    self.counters.failed_batches.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        error = %e, error_code = e.code().as_str(), attempt = failures, records = n,
                        held = self.held, retry_in_ms = delay.as_millis() as u64,
                        "store write batch failed; keeping it to retry"
                    );
                    self.requeue(batch);
                    if self
                        .during(tokio::time::sleep(delay), |_| false)
                        .await
                        .is_err()
                    {
                        return self.give_up(Vec::new());
                    }
                    delay = (delay * 2).min(self.config.retry_max.max(self.config.retry_initial));
                }
            }
        }
    }

    /// Waits for `fut` while moving records from the channel into the backlog (up to the memory bound) and watching
    /// for shutdown. `Ok(None)` when `ready` holds first; `Err` when the shutdown deadline passes first.
    ///
    /// Idle (or while shutting down) the writer receives each record as it comes; once it holds some (or writes a
    /// batch), it takes the channel's records in bulk — when a sender sees a full batch waiting (`want`) or every
    /// `flush_interval` — so a steady stream of requests does not wake it once per record.
    async fn during<F: Future>(
        &mut self,
        fut: F,
        ready: impl Fn(&Self) -> bool,
    ) -> Result<Option<F::Output>, Expired> {
        tokio::pin!(fut);
        let tick = tokio::time::sleep(self.config.flush_interval);
        tokio::pin!(tick);
        loop {
            if ready(self) {
                return Ok(None);
            }
            let room = if self.deadline.is_some() {
                CHUNK
            } else {
                self.max_held.saturating_sub(self.held).min(CHUNK)
            };
            let deadline = self.deadline;
            let open = room > 0 && !self.closed;
            // Idle (nothing held, not even a batch being written) or shutting down: take each record at once.
            let eager = (self.backlog.is_empty() && self.held == 0) || deadline.is_some();
            let want = if eager || !open {
                usize::MAX
            } else {
                self.config
                    .batch_rows
                    .saturating_sub(self.backlog.len())
                    .max(1)
            };
            self.counters.want.store(want, Ordering::Relaxed);
            // Senders that came before `want` was set did not wake the writer.
            if open && !eager && self.rx.len() >= want {
                self.take(room);
                continue;
            }
            let counters = Arc::clone(&self.counters);
            tokio::select! {
                biased;
                out = &mut fut => return Ok(Some(out)),
                () = until(deadline) => return Err(Expired),
                _ = &mut self.stop, if deadline.is_none() => self.begin_stop(),
                n = self.rx.recv_many(&mut self.inbox, room), if open && eager => {
                    if n == 0 {
                        self.closed = true;
                    } else {
                        self.accept();
                    }
                }
                () = counters.wake.notified(), if open && !eager => self.take(room),
                () = &mut tick, if open && !eager => {
                    self.take(room);
                    tick.as_mut().reset(Instant::now() + self.config.flush_interval);
                }
            }
        }
    }

    /// Takes up to `room` records waiting in the channel, without waiting.
    fn take(&mut self, room: usize) {
        while self.inbox.len() < room && !self.closed {
            match self.rx.try_recv() {
                Ok(record) => self.inbox.push(record),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => self.closed = true,
            }
        }
        self.accept();
    }

    /// Moves the inbox into the backlog, redacting chat logs on the way (once, however often they are retried).
    fn accept(&mut self) {
        let n = self.inbox.len();
        let redactor = self.config.redactor.clone();
        for mut record in self.inbox.drain(..) {
            if let (Some(r), Record::ChatLog(log)) = (redactor.as_deref(), &mut record) {
                log.redact(r);
            }
            self.backlog.push_back(record);
        }
        self.held += n;
        self.counters.held.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn begin_stop(&mut self) {
        self.deadline = Some(Instant::now() + self.config.shutdown_timeout);
        self.rx.close();
    }

    /// `n` held records are done with (written or refused).
    fn settle(&mut self, n: usize) {
        self.held -= n;
        self.counters.held.fetch_sub(n as u64, Ordering::Relaxed);
    }

    /// Puts a failed batch back at the front of the backlog, in its order.
    fn requeue(&mut self, batch: Vec<Record>) {
        for record in batch.into_iter().rev() {
            self.backlog.push_front(record);
        }
    }

    /// The shutdown deadline passed: counts everything still held or queued as dropped.
    fn give_up(mut self, batch: Vec<Record>) {
        drop(batch);
        let mut in_channel = 0u64;
        while self.rx.try_recv().is_ok() {
            in_channel += 1;
        }
        let held = self.held as u64;
        self.counters
            .dropped
            .fetch_add(held + in_channel, Ordering::Relaxed);
        self.counters.held.fetch_sub(held, Ordering::Relaxed);
        tracing::error!(
            records = held + in_channel,
            "store write queue shut down before the store accepted its records; they are dropped"
        );
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
