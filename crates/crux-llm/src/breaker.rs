//! Circuit breakers per (provider, model): closed → open after N consecutive failures → half-open with one probe.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Breaker settings (`[resilience] breaker = { failures, open_ms }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub failures: u32,
    /// How long it stays open before one probe is let through, in milliseconds.
    pub open_ms: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failures: 5,
            open_ms: 30_000,
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

    fn now_ms(&self) -> u64 {
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
    Closed { failures: u32 },
    Open { until_ms: u64 },
    HalfOpen { probing: bool },
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

/// All breakers of a process, keyed by `provider/model`. Only targets that failed lately have an entry, so the
/// common case — every target healthy — is answered from one atomic read, without the lock shared by all requests.
#[derive(Debug, Default)]
pub struct Breakers {
    config: BreakerConfig,
    clock: Clock,
    states: Mutex<HashMap<String, Inner>>,
    /// `states.len()`, kept under the lock and read without it.
    tracked: AtomicUsize,
}

impl Breakers {
    /// Breakers with `config` on `clock`.
    pub fn new(config: BreakerConfig, clock: Clock) -> Self {
        Self {
            config,
            clock,
            states: Mutex::new(HashMap::new()),
            tracked: AtomicUsize::new(0),
        }
    }

    /// Ask to call `key`.
    pub fn admit(&self, key: &str) -> Admission {
        if self.tracked.load(Ordering::Acquire) == 0 {
            return Admission::Allowed;
        }
        let now = self.clock.now_ms();
        let Ok(mut states) = self.states.lock() else {
            return Admission::Allowed;
        };
        let Some(state) = states.get_mut(key) else {
            return Admission::Allowed;
        };
        match *state {
            Inner::Closed { .. } => Admission::Allowed,
            Inner::Open { until_ms } if now < until_ms => Admission::Rejected,
            Inner::Open { .. } | Inner::HalfOpen { probing: false } => {
                *state = Inner::HalfOpen { probing: true };
                Admission::Probe
            }
            Inner::HalfOpen { probing: true } => Admission::Rejected,
        }
    }

    /// Report the outcome of an admitted call.
    pub fn record(&self, key: &str, ok: bool) {
        if ok && self.tracked.load(Ordering::Acquire) == 0 {
            return;
        }
        let now = self.clock.now_ms();
        let Ok(mut states) = self.states.lock() else {
            return;
        };
        if ok {
            states.remove(key);
            self.tracked.store(states.len(), Ordering::Release);
            return;
        }
        let state = states
            .entry(key.to_owned())
            .or_insert(Inner::Closed { failures: 0 });
        *state = match *state {
            Inner::Closed { failures } if failures + 1 < self.config.failures.max(1) => {
                Inner::Closed {
                    failures: failures + 1,
                }
            }
            _ => Inner::Open {
                until_ms: now.saturating_add(self.config.open_ms),
            },
        };
        self.tracked.store(states.len(), Ordering::Release);
    }

    /// The state of `key` now.
    pub fn state(&self, key: &str) -> BreakerState {
        let now = self.clock.now_ms();
        match self.states.lock().ok().and_then(|s| s.get(key).copied()) {
            None | Some(Inner::Closed { .. }) => BreakerState::Closed,
            Some(Inner::Open { until_ms }) if now < until_ms => BreakerState::Open,
            Some(Inner::Open { .. } | Inner::HalfOpen { .. }) => BreakerState::HalfOpen,
        }
    }

    /// Every breaker that is not closed, with its state.
    pub fn snapshot(&self) -> Vec<(String, BreakerState)> {
        let keys: Vec<String> = self
            .states
            .lock()
            .map(|s| s.keys().cloned().collect())
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
mod tests {
    use super::*;

    fn breakers() -> (Breakers, Clock) {
        let clock = Clock::fake();
        (
            Breakers::new(
                BreakerConfig {
                    failures: 3,
                    open_ms: 1000,
                },
                clock.clone(),
            ),
            clock,
        )
    }

    #[test]
    fn opens_after_consecutive_failures_and_probes_once() {
        let (b, clock) = breakers();
        for _ in 0..2 {
            assert_eq!(b.admit("p/m"), Admission::Allowed);
            b.record("p/m", false);
        }
        assert_eq!(b.state("p/m"), BreakerState::Closed);
        b.record("p/m", false);
        assert_eq!(b.state("p/m"), BreakerState::Open);
        assert_eq!(b.admit("p/m"), Admission::Rejected);
        assert_eq!(b.admit("other/m"), Admission::Allowed);
        clock.advance(Duration::from_millis(999));
        assert_eq!(b.admit("p/m"), Admission::Rejected);
        clock.advance(Duration::from_millis(1));
        assert_eq!(b.state("p/m"), BreakerState::HalfOpen);
        assert_eq!(b.admit("p/m"), Admission::Probe);
        assert_eq!(
            b.admit("p/m"),
            Admission::Rejected,
            "only one probe at a time"
        );
        b.record("p/m", true);
        assert_eq!(b.state("p/m"), BreakerState::Closed);
        assert_eq!(b.admit("p/m"), Admission::Allowed);
    }

    #[test]
    fn failed_probe_reopens_and_success_resets_count() {
        let (b, clock) = breakers();
        for _ in 0..3 {
            b.record("k", false);
        }
        clock.advance(Duration::from_secs(1));
        assert_eq!(b.admit("k"), Admission::Probe);
        b.record("k", false);
        assert_eq!(b.state("k"), BreakerState::Open);
        assert_eq!(b.snapshot(), vec![("k".to_owned(), BreakerState::Open)]);
        let (b, _) = breakers();
        b.record("k", false);
        b.record("k", false);
        b.record("k", true);
        b.record("k", false);
        assert_eq!(
            b.state("k"),
            BreakerState::Closed,
            "success resets the consecutive count"
        );
    }
}
