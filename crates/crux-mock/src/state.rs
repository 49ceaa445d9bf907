//! Per-server shared state: recordings, fault counters, id sequences and the shutdown signal.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::cached::CachedContents;
use crate::counters::FaultCounters;
use crate::record::Recorder;
use crate::signatures::Signatures;
use crate::usage::ReportedUsage;

/// State shared by every handler and streaming body of one server.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Recorded requests and streams.
    pub recorder: Recorder,
    /// `times=N` counters.
    pub counters: FaultCounters,
    /// Thinking-block signatures issued by this server (kept across `reset`).
    pub signatures: Signatures,
    /// Gemini `cachedContents` created on this server (kept across `reset`, like real caches until they expire).
    pub cached_contents: CachedContents,
    response_seq: AtomicU64,
    tool_call_seq: AtomicU64,
    usage: Mutex<Vec<ReportedUsage>>,
    shutdown: watch::Sender<bool>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            recorder: Recorder::default(),
            counters: FaultCounters::default(),
            signatures: Signatures::default(),
            cached_contents: CachedContents::default(),
            response_seq: AtomicU64::new(0),
            tool_call_seq: AtomicU64::new(0),
            usage: Mutex::new(Vec::new()),
            shutdown: watch::Sender::new(false),
        }
    }
}

impl Shared {
    /// Next response sequence number (1, 2, ...).
    pub(crate) fn next_response(&self) -> u64 {
        self.response_seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Next tool call id: `call` + 5 digits (9 alphanumeric chars, Mistral-safe).
    pub(crate) fn next_tool_call_id(&self) -> String {
        let n = self.tool_call_seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("call{:05}", n % 100_000)
    }

    /// Next tool call id with a wire-specific prefix: `PREFIX` + `mock` + 5 digits (shares the
    /// counter of [`Shared::next_tool_call_id`]), e.g. `toolu_mock00001`.
    pub(crate) fn next_prefixed_call_id(&self, prefix: &str) -> String {
        let n = self.tool_call_seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{prefix}mock{:05}", n % 100_000)
    }

    /// Remembers the usage an answer reports (normalized: prompt includes cache reads, completion includes
    /// reasoning), so tests can compare a client's numbers with the mock's.
    pub(crate) fn report_usage(&self, prompt: u64, completion: u64) {
        if let Ok(mut ledger) = self.usage.lock() {
            ledger.push(ReportedUsage { prompt, completion });
        }
    }

    /// Every usage reported so far, in answer order.
    pub(crate) fn reported_usage(&self) -> Vec<ReportedUsage> {
        self.usage.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Clears recordings, fault counters and the usage ledger.
    pub(crate) fn reset(&self) {
        self.recorder.clear();
        self.counters.clear();
        if let Ok(mut ledger) = self.usage.lock() {
            ledger.clear();
        }
    }

    /// Signals every in-flight sleep (pacing, stalls) to stop.
    pub(crate) fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Sleeps for `duration`; returns false if the server shut down first.
    pub(crate) async fn sleep(&self, duration: Duration) -> bool {
        if duration.is_zero() {
            return !*self.shutdown.borrow();
        }
        let mut rx = self.shutdown.subscribe();
        tokio::select! {
            () = tokio::time::sleep(duration) => true,
            _ = rx.wait_for(|down| *down) => false,
        }
    }
}
