//! Load balancing over a route's deployments: the order a balanced alias tries its targets in, chosen per request by
//! its strategy (`ordered`, `weighted`, `least-busy`, `latency`), with deployments that just answered 429 or failed
//! cooling down (for the upstream's `retry-after`, else the route's cooldown) and tried last. A deployment with its
//! own quota (`rpm`, `tpm`: requests and tokens per clock minute, a fixed window) that has used it this minute is
//! tried last too, so its traffic moves to the others before the upstream refuses it. The state is atomics per
//! deployment, built once with the router: choosing costs no lock.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::breaker::Clock;
use crate::error::{Error, ErrorCode};
use crate::model_id::ModelId;

/// How a balanced alias picks the deployment to try first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// In the listed order (fallback only).
    #[default]
    Ordered,
    /// In proportion to the weights (smooth weighted round robin: exact shares, interleaved).
    Weighted,
    /// The one with the fewest requests in flight (ties in turn).
    LeastBusy,
    /// The one with the lowest moving average of latency (time to the answer, or to a stream's first content);
    /// every tenth request explores the others in turn.
    Latency,
}

impl Strategy {
    /// The config name.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Ordered => "ordered",
            Strategy::Weighted => "weighted",
            Strategy::LeastBusy => "least-busy",
            Strategy::Latency => "latency",
        }
    }
}

/// A balanced alias: its strategy, one weight per target and its cooldown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The strategy.
    pub strategy: Strategy,
    /// One weight per target, in the targets' order (1 when not given).
    pub weights: Vec<u32>,
    /// How long a deployment that failed (or said 429 without `retry-after`) is tried last.
    pub cooldown: Duration,
    /// One quota per target, in the targets' order (none when not given).
    pub quotas: Vec<Quota>,
}

/// A deployment's own limits per clock minute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    /// Requests per minute.
    pub rpm: Option<u32>,
    /// Tokens (prompt plus completion) per minute.
    pub tpm: Option<u32>,
}

/// Default cooldown of a failed deployment.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(5);
/// The longest `retry-after` honoured as a cooldown.
const MAX_COOLDOWN: Duration = Duration::from_secs(300);
/// One request in this many explores under the `latency` strategy.
const EXPLORE_EVERY: u64 = 10;

/// One deployment's live numbers.
#[derive(Debug, Default)]
pub struct DeploymentStats {
    in_flight: AtomicU32,
    /// Moving average of latency in µs (0: no sample yet).
    ewma_us: AtomicU64,
    /// Clock milliseconds until which it cools down.
    cool_until: AtomicU64,
    /// Its quota (0: none).
    rpm: u64,
    tpm: u64,
    /// The clock minute the counters below belong to.
    minute: AtomicU64,
    requests: AtomicU64,
    tokens: AtomicU64,
}

impl DeploymentStats {
    fn with_quota(q: Quota) -> Self {
        Self {
            rpm: q.rpm.map_or(0, u64::from),
            tpm: q.tpm.map_or(0, u64::from),
            ..Self::default()
        }
    }

    /// Start the counters afresh when a new minute began.
    fn roll(&self, minute: u64) {
        let seen = self.minute.load(Ordering::Relaxed);
        if seen != minute
            && self
                .minute
                .compare_exchange(seen, minute, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.requests.store(0, Ordering::Relaxed);
            self.tokens.store(0, Ordering::Relaxed);
        }
    }

    /// This minute's (requests, tokens).
    fn used(&self, minute: u64) -> (u64, u64) {
        if self.minute.load(Ordering::Relaxed) != minute {
            return (0, 0);
        }
        (
            self.requests.load(Ordering::Relaxed),
            self.tokens.load(Ordering::Relaxed),
        )
    }

    /// Whether its quota for `minute` is used up.
    fn spent(&self, minute: u64) -> bool {
        let (requests, tokens) = self.used(minute);
        (self.rpm > 0 && requests >= self.rpm) || (self.tpm > 0 && tokens >= self.tpm)
    }
}

/// What `/api/providers` shows of one deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentView {
    /// `provider/model`.
    pub model: String,
    /// Its weight.
    pub weight: u32,
    /// Requests in flight.
    pub in_flight: u32,
    /// Moving average of latency in ms, when measured.
    pub latency_ms: Option<f64>,
    /// Remaining cooldown in ms (0 when none).
    pub cooldown_ms: u64,
    /// Its requests-per-minute quota.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Its tokens-per-minute quota.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Requests it took this minute.
    pub requests_this_minute: u64,
    /// Tokens it used this minute.
    pub tokens_this_minute: u64,
}

/// Counts a request in flight on a deployment until dropped.
#[derive(Debug)]
pub struct Busy(Arc<DeploymentStats>, u64);

impl Busy {
    /// Count the `tokens` the request used against the deployment's quota of the minute it started in.
    pub fn used(&self, tokens: u64) {
        if self.0.minute.load(Ordering::Relaxed) == self.1 {
            self.0.tokens.fetch_add(tokens, Ordering::Relaxed);
        }
    }
}

const MINUTE_MS: u64 = 60_000;

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Balanced {
    balance: Balance,
    /// Smooth weighted round-robin schedule (target indexes), one full cycle.
    schedule: Vec<usize>,
    turn: AtomicU64,
}

/// Every balanced alias's state.
#[derive(Default)]
pub(crate) struct Balancer {
    routes: HashMap<String, Balanced>,
    deployments: HashMap<ModelId, Arc<DeploymentStats>>,
    clock: Clock,
}

impl std::fmt::Debug for Balancer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Balancer")
            .field("routes", &self.routes.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// One cycle of smooth weighted round robin: each step every target gains its weight, the richest goes and pays
/// the total (so 3:1 gives a a b a, not a a a b).
fn schedule(weights: &[u32]) -> Vec<usize> {
    let total: i64 = weights.iter().map(|w| i64::from(*w)).sum();
    let mut current = vec![0_i64; weights.len()];
    let mut out = Vec::new();
    for _ in 0..total {
        for (c, w) in current.iter_mut().zip(weights) {
            *c += i64::from(*w);
        }
        // `max_by_key` keeps the last maximum: reversed, that is the first target among equals.
        let Some((best, _)) = current.iter().enumerate().rev().max_by_key(|(_, c)| **c) else {
            break;
        };
        current[best] -= total;
        out.push(best);
    }
    out
}

impl Balancer {
    /// The state for `balanced` aliases over `routes`.
    pub fn new(
        routes: &std::collections::BTreeMap<String, Vec<ModelId>>,
        balanced: &std::collections::BTreeMap<String, Balance>,
        clock: Clock,
    ) -> Self {
        let mut b = Balancer {
            clock,
            ..Balancer::default()
        };
        for (name, balance) in balanced {
            let Some(targets) = routes.get(name) else {
                continue;
            };
            let mut weights = balance.weights.clone();
            weights.resize(targets.len(), 1);
            let mut quotas = balance.quotas.clone();
            quotas.resize(targets.len(), Quota::default());
            for (t, q) in targets.iter().zip(&quotas) {
                b.deployments
                    .entry(t.clone())
                    .or_insert_with(|| Arc::new(DeploymentStats::with_quota(*q)));
            }
            b.routes.insert(
                name.clone(),
                Balanced {
                    schedule: schedule(&weights),
                    balance: Balance {
                        weights,
                        quotas,
                        ..balance.clone()
                    },
                    turn: AtomicU64::new(0),
                },
            );
        }
        b
    }

    /// Cooling down, or out of its quota this minute: tried after the others.
    fn cooling(&self, t: &ModelId, now: u64) -> bool {
        self.deployments
            .get(t)
            .is_some_and(|s| s.cool_until.load(Ordering::Relaxed) > now || s.spent(now / MINUTE_MS))
    }

    fn stat(&self, t: &ModelId, f: impl Fn(&DeploymentStats) -> u64) -> u64 {
        self.deployments.get(t).map_or(0, |s| f(s))
    }

    /// The order in which alias `name` tries `targets` for this request (`None`: not balanced, use them as listed).
    pub fn order(&self, name: &str, targets: &[ModelId]) -> Option<Vec<ModelId>> {
        let route = self.routes.get(name)?;
        let n = targets.len();
        let turn = route.turn.fetch_add(1, Ordering::Relaxed);
        let now = self.clock.now_ms();
        let rotate = usize::try_from(turn).unwrap_or(0) % n.max(1);
        let mut idx: Vec<usize> = (0..n).collect();
        match route.balance.strategy {
            Strategy::Ordered => {}
            Strategy::Weighted => {
                let len = route.schedule.len().max(1);
                let start = usize::try_from(turn).unwrap_or(0) % len;
                // The first deployment of the schedule from this turn on that is not cooling.
                let first = (0..len)
                    .map(|k| route.schedule[(start + k) % len])
                    .find(|&i| !self.cooling(&targets[i], now))
                    .unwrap_or(route.schedule[start]);
                idx.retain(|&i| i != first);
                idx.insert(0, first);
            }
            Strategy::LeastBusy => {
                idx.rotate_left(rotate);
                idx.sort_by_key(|&i| {
                    self.stat(&targets[i], |s| {
                        u64::from(s.in_flight.load(Ordering::Relaxed))
                    })
                });
            }
            Strategy::Latency => {
                if turn % EXPLORE_EVERY == EXPLORE_EVERY - 1 {
                    // Exploring: each deployment in turn goes first, so a slow one's average can recover.
                    let k = usize::try_from(turn / EXPLORE_EVERY).unwrap_or(0) % n.max(1);
                    idx.rotate_left(k);
                } else {
                    idx.rotate_left(rotate);
                    // Unmeasured deployments (0) come first: they are explored before the averages decide.
                    idx.sort_by_key(|&i| {
                        self.stat(&targets[i], |s| s.ewma_us.load(Ordering::Relaxed))
                    });
                }
            }
        }
        // Cooling deployments go last, in the same relative order.
        let (mut ready, cooling): (Vec<usize>, Vec<usize>) = idx
            .into_iter()
            .partition(|&i| !self.cooling(&targets[i], now));
        ready.extend(cooling);
        Some(ready.into_iter().map(|i| targets[i].clone()).collect())
    }

    /// Count a request in flight on `target` (when it is a deployment of a balanced alias).
    pub fn begin(&self, target: &ModelId) -> Option<Busy> {
        let s = self.deployments.get(target)?;
        s.in_flight.fetch_add(1, Ordering::Relaxed);
        let minute = self.clock.now_ms() / MINUTE_MS;
        s.roll(minute);
        s.requests.fetch_add(1, Ordering::Relaxed);
        Some(Busy(Arc::clone(s), minute))
    }

    /// Record how an attempt on `target` went: a latency sample, or a cooldown after 429 or an upstream failure.
    pub fn finish(&self, target: &ModelId, outcome: Result<Duration, &Error>, cooldown: Duration) {
        let Some(s) = self.deployments.get(target) else {
            return;
        };
        match outcome {
            Ok(took) => {
                let sample = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
                let old = s.ewma_us.load(Ordering::Relaxed);
                let new = if old == 0 {
                    sample
                } else {
                    (old * 4 + sample) / 5
                };
                s.ewma_us.store(new.max(1), Ordering::Relaxed);
            }
            Err(e) => {
                let wait = match e.code() {
                    ErrorCode::RateLimit => e.retry_after().unwrap_or(cooldown),
                    ErrorCode::Transient
                    | ErrorCode::ServerError
                    | ErrorCode::Timeout
                    | ErrorCode::Unavailable
                    | ErrorCode::Overloaded => e.retry_after().unwrap_or(cooldown),
                    _ => return,
                };
                let until = self.clock.now_ms()
                    + u64::try_from(wait.min(MAX_COOLDOWN).as_millis()).unwrap_or(u64::MAX);
                s.cool_until.fetch_max(until, Ordering::Relaxed);
            }
        }
    }

    /// The cooldown of alias `name` (the default when it is not balanced).
    pub fn cooldown(&self, name: &str) -> Duration {
        self.routes
            .get(name)
            .map_or(DEFAULT_COOLDOWN, |r| r.balance.cooldown)
    }

    /// Each balanced alias with its strategy and deployments.
    pub fn views(
        &self,
        routes: &std::collections::BTreeMap<String, Vec<ModelId>>,
    ) -> Vec<(String, Strategy, Vec<DeploymentView>)> {
        let now = self.clock.now_ms();
        let mut out: Vec<_> = self
            .routes
            .iter()
            .filter_map(|(name, r)| {
                let targets = routes.get(name)?;
                let views = targets
                    .iter()
                    .zip(&r.balance.weights)
                    .map(|(t, w)| {
                        let s = self.deployments.get(t);
                        let ewma = s.map_or(0, |s| s.ewma_us.load(Ordering::Relaxed));
                        let (requests, tokens) = s.map_or((0, 0), |s| s.used(now / MINUTE_MS));
                        DeploymentView {
                            rpm: s.map(|s| s.rpm).filter(|n| *n > 0),
                            tpm: s.map(|s| s.tpm).filter(|n| *n > 0),
                            requests_this_minute: requests,
                            tokens_this_minute: tokens,
                            model: t.to_string(),
                            weight: *w,
                            in_flight: s.map_or(0, |s| s.in_flight.load(Ordering::Relaxed)),
                            latency_ms: (ewma > 0).then(|| ewma as f64 / 1e3),
                            cooldown_ms: s.map_or(0, |s| {
                                s.cool_until.load(Ordering::Relaxed).saturating_sub(now)
                            }),
                        }
                    })
                    .collect();
                Some((name.clone(), r.balance.strategy, views))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

#[cfg(test)]
mod tests;
