//! Circuit breakers per (provider, model): closed → open when a target keeps failing (a run of consecutive
//! failures, or a failure ratio over a rolling window: [`BreakerConfig`]) → half-open with one probe at a time →
//! closed again on the probe's success.

mod window;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use self::window::Window;

/// Breaker settings (`[resilience] breaker = { failures, open_ms, window_ms, min_calls, failure_ratio }`, every key
/// optional). A breaker opens on either rule: the last `failures` calls all failed (a dead upstream, at any
/// traffic), or the rolling window of the last `window_ms` holds at least `min_calls` calls of which at least
/// `failure_ratio` failed (a mostly failing one). A steady trickle of random errors (10 % of calls) trips neither.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker whatever the window holds.
    pub failures: u32,
    /// How long it stays open before one probe is let through, in milliseconds (also how long an unanswered
    /// probe holds off the next one).
    pub open_ms: u64,
    /// Length of the rolling window the failure ratio is taken over, in milliseconds.
    pub window_ms: u64,
    /// Calls the window must hold before its failure ratio counts.
    pub min_calls: u32,
    /// Share of failed calls in the window (0–1] that opens the breaker.
    pub failure_ratio: f64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failures: 10,
            open_ms: 30_000,
            window_ms: 30_000,
            min_calls: 20,
            failure_ratio: 0.5,
        }
    }
}

impl BreakerConfig {
    /// Why these settings cannot work, if they cannot.
    pub fn invalid(&self) -> Option<&'static str> {
        if self.failures == 0 {
            Some("breaker.failures must be at least 1")
        } else if self.min_calls == 0 {
            Some("breaker.min_calls must be at least 1")
        } else if self.window_ms == 0 {
            Some("breaker.window_ms must be at least 1")
        } else if !(self.failure_ratio > 0.0 && self.failure_ratio <= 1.0) {
            Some("breaker.failure_ratio must be in (0, 1]")
        } else {
            None
        }
    }

    /// A breaker that never opens (benchmarks measure the provider, not the breaker).
    pub fn never() -> Self {
        Self {
            failures: u32::MAX,
            min_calls: u32::MAX,
            ..Self::default()
        }
    }
}

/// The time source: the real monotonic clock, or a manually advanced one for tests.
#[derive(Debug, Clone)]
pub enum Clock {
    /// `Instant::now()`.
    System(Instant),
    /// Milliseconds since creation, advanced by [`Clock::advance`].
    Fake(Arc<AtomicU64>),
}

impl Default for Clock {
    fn default() -> Self {
        Clock::System(Instant::now())
    }
}

impl Clock {
    /// A fake clock at zero.
    pub fn fake() -> Self {
        Clock::Fake(Arc::new(AtomicU64::new(0)))
    }

    /// Move a fake clock forward (no effect on the system clock).
    pub fn advance(&self, by: Duration) {
        if let Clock::Fake(ms) = self {
            ms.fetch_add(
                u64::try_from(by.as_millis()).unwrap_or(u64::MAX),
                Ordering::SeqCst,
            );
        }
    }

    pub(crate) fn now_ms(&self) -> u64 {
        match self {
            Clock::System(origin) => {
                u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX)
            }
            Clock::Fake(ms) => ms.load(Ordering::SeqCst),
        }
    }
}

/// The externally visible state of one breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Requests flow.
    Closed,
    /// Requests fail fast.
    Open,
    /// One probe is in flight (or allowed next).
    HalfOpen,
}

impl BreakerState {
    /// Numeric value for the `crux_breaker_state` gauge: 0 closed, 1 half-open, 2 open.
    pub fn gauge(self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Inner {
    /// Calls flow; the window and the current run of failures decide when it opens.
    Closed { window: Window, consecutive: u32 },
    /// Failing fast until `until_ms`.
    Open { until_ms: u64 },
    /// A probe went out; another is let through once `probe_until_ms` passes without its outcome (a probe whose
    /// caller went away never reports).
    HalfOpen { probe_until_ms: u64 },
}

/// Whether a call may proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Allowed,
    /// Go ahead as the single half-open probe; report its outcome.
    Probe,
    /// Fail fast with `unavailable`.
    Rejected,
}

/// The breakers and when closed, idle ones were last swept out.
#[derive(Debug, Default)]
struct Table {
    states: HashMap<String, Inner>,
    swept_ms: u64,
}

/// All breakers of a process, keyed by `provider/model`.
#[derive(Debug, Default)]
pub struct Breakers {
    config: BreakerConfig,
    clock: Clock,
    table: Mutex<Table>,
}

impl Breakers {
    /// Breakers with `config` on `clock`.
    pub fn new(config: BreakerConfig, clock: Clock) -> Self {
        Self {
            config,
            clock,
            table: Mutex::new(Table::default()),
        }
    }

    fn closed(&self) -> Inner {
        Inner::Closed {
            window: Window::new(self.config.window_ms),
            consecutive: 0,
        }
    }

    fn open(&self, now: u64) -> Inner {
        Inner::Open {
            until_ms: now.saturating_add(self.config.open_ms),
        }
    }

    /// Ask to call `key`.
    pub fn admit(&self, key: &str) -> Admission {
        let now = self.clock.now_ms();
        let Ok(mut table) = self.table.lock() else {
            return Admission::Allowed;
        };
        let Some(state) = table.states.get_mut(key) else {
            return Admission::Allowed;
        };
        match *state {
            Inner::Closed { .. } => Admission::Allowed,
            Inner::Open { until_ms } if now < until_ms => Admission::Rejected,
            Inner::HalfOpen { probe_until_ms } if now < probe_until_ms => Admission::Rejected,
            Inner::Open { .. } | Inner::HalfOpen { .. } => {
                *state = Inner::HalfOpen {
                    probe_until_ms: now.saturating_add(self.config.open_ms.max(1)),
                };
                Admission::Probe
            }
        }
    }

    /// Report the outcome of an admitted call. While open, outcomes of calls admitted before it opened change
    /// nothing; half-open, the first outcome decides (success closes with a fresh window, failure reopens).
    pub fn record(&self, key: &str, ok: bool) {
        let now = self.clock.now_ms();
        let Ok(mut table) = self.table.lock() else {
            return;
        };
        self.sweep(&mut table, now);
        let c = &self.config;
        let fresh = self.closed();
        let state = table.states.entry(key.to_owned()).or_insert(fresh);
        *state = match *state {
            Inner::Closed {
                mut window,
                consecutive,
            } => {
                window.add(now, !ok);
                let consecutive = if ok { 0 } else { consecutive.saturating_add(1) };
                let (calls, failures) = window.totals(now);
                #[allow(clippy::cast_precision_loss)]
                let ratio_tripped = !ok
                    && calls >= u64::from(c.min_calls)
                    && failures as f64 >= c.failure_ratio * calls as f64;
                if consecutive >= c.failures || ratio_tripped {
                    self.open(now)
                } else {
                    Inner::Closed {
                        window,
                        consecutive,
                    }
                }
            }
            open @ Inner::Open { .. } => open,
            Inner::HalfOpen { .. } if ok => fresh,
            Inner::HalfOpen { .. } => self.open(now),
        };
    }

    /// Drop closed breakers with nothing in their window and no failure run under way, at most once per window
    /// (names the callers made up must not pile up).
    fn sweep(&self, table: &mut Table, now: u64) {
        if now.saturating_sub(table.swept_ms) < self.config.window_ms {
            return;
        }
        table.swept_ms = now;
        table.states.retain(|_, s| match s {
            Inner::Closed {
                window,
                consecutive,
            } => *consecutive > 0 || window.totals(now).0 > 0,
            Inner::Open { .. } | Inner::HalfOpen { .. } => true,
        });
    }

    /// The state of `key` now.
    pub fn state(&self, key: &str) -> BreakerState {
        let now = self.clock.now_ms();
        let state = self
            .table
            .lock()
            .ok()
            .and_then(|t| t.states.get(key).copied());
        match state {
            None | Some(Inner::Closed { .. }) => BreakerState::Closed,
            Some(Inner::Open { until_ms }) if now < until_ms => BreakerState::Open,
            Some(Inner::Open { .. } | Inner::HalfOpen { .. }) => BreakerState::HalfOpen,
        }
    }

    /// Every breaker the process holds (those called within the last window, and every one not closed), with its
    /// state, sorted by key.
    pub fn snapshot(&self) -> Vec<(String, BreakerState)> {
        let keys: Vec<String> = self
            .table
            .lock()
            .map(|t| t.states.keys().cloned().collect())
            .unwrap_or_default();
        let mut out: Vec<(String, BreakerState)> = keys
            .into_iter()
            .map(|k| (k.clone(), self.state(&k)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

#[cfg(test)]
mod tests;
