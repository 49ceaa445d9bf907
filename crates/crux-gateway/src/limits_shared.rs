//! `[scale] redis_url`: exact limits across every instance — requests per minute, tokens per minute and the USD
//! budget of each virtual key — checked by one atomic Lua script per admission on Redis (its own clock):
//!
//! - **rpm**: a sliding window log (a sorted set of admission times, trimmed to the last 60 s); under the limit the
//!   request is added, at the limit the answer is how long until the oldest entry leaves. No instance can admit what
//!   another already used, so there is no overshoot.
//! - **tpm**: a sliding window of sixty one-second buckets (a hash of second → tokens) filled when each request
//!   finishes with its prompt plus completion tokens; a key whose last minute reached its limit is refused until its
//!   oldest bucket leaves. Requests already in flight when the limit is reached still finish (their size is known
//!   only then), as with every tpm limiter.
//! - **budget**: a spend counter per key, started from the store's total the first time Redis sees the key and
//!   raised by each answer's cost, so a budget is shared at once rather than once per store sync.
//!
//! When Redis cannot be reached the gateway keeps serving on its local limits (the store-synced ones) and says so
//! in `/ready` and `crux_redis_up`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::keys::CachedKey;
use crate::redis_link::RedisLink;

/// The window of a per-minute limit, in milliseconds.
const WINDOW_MS: u64 = 60_000;

/// How long a spend counter outlives its last change (then it starts again from the store's total).
const SPEND_TTL_MS: u64 = 7 * 24 * 3_600_000;

/// Check tpm and budget, then count rpm: `{1, 0}` admitted, `{0|2|3, ms}` limited by rpm, tpm or budget for `ms`.
const ADMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local tpm = tonumber(ARGV[4])
if tpm > 0 then
  local sec = math.floor(now / 1000)
  local buckets = redis.call('HGETALL', KEYS[2])
  local used, oldest = 0, sec
  for i = 1, #buckets, 2 do
    local s = tonumber(buckets[i])
    if s <= sec - 60 then
      redis.call('HDEL', KEYS[2], buckets[i])
    else
      used = used + tonumber(buckets[i + 1])
      if s < oldest then oldest = s end
    end
  end
  if used >= tpm then return {2, (oldest + 60) * 1000 - now} end
end
if ARGV[5] ~= '' then
  local spent = redis.call('GET', KEYS[3])
  if not spent then
    spent = ARGV[6]
    redis.call('SET', KEYS[3], spent, 'PX', ARGV[7])
  end
  if tonumber(spent) >= tonumber(ARGV[5]) then return {3, 3600000} end
end
local rpm = tonumber(ARGV[2])
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) >= rpm then
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    local wait = window
    if first[2] then wait = tonumber(first[2]) + window - now end
    return {0, wait}
  end
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
end
return {1, 0}
";

/// Add a finished request's tokens to this second's bucket and its cost to the spend counter.
const RECORD: &str = r"
local t = redis.call('TIME')
if tonumber(ARGV[1]) > 0 then
  redis.call('HINCRBY', KEYS[1], t[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 61000)
end
if tonumber(ARGV[2]) > 0 then
  if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[3]) end
  redis.call('INCRBYFLOAT', KEYS[2], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return 1
";

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Requests per minute.
    Rpm,
    /// Tokens per minute.
    Tpm,
    /// The USD budget.
    Budget,
}

/// What Redis said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Counted and admitted.
    Admitted,
    /// At a limit: retry after this many seconds.
    Limited(Limit, u64),
    /// Redis could not be asked: use the local limits.
    Unavailable,
}

/// The cross-instance limits.
#[derive(Debug)]
pub struct SharedLimits {
    link: RedisLink,
    admit: redis::Script,
    record: redis::Script,
    /// Makes each admission's member unique (with the instance's random id).
    seq: AtomicU64,
    instance: u64,
}

fn keys(id: &str) -> [String; 3] {
    [
        format!("crux:rpm:{id}"),
        format!("crux:tpm:{id}"),
        format!("crux:spend:{id}"),
    ]
}

impl SharedLimits {
    /// Limits kept in the Redis at `url`; a malformed URL is an error.
    pub fn new(url: &str) -> Result<Self, String> {
        Ok(Self {
            link: RedisLink::new(url, "limits").map_err(|e| format!("[scale] redis_url: {e}"))?,
            admit: redis::Script::new(ADMIT),
            record: redis::Script::new(RECORD),
            seq: AtomicU64::new(0),
            instance: fastrand::u64(..),
        })
    }

    /// Whether Redis answered the last call.
    pub fn is_up(&self) -> bool {
        self.link.is_up()
    }

    /// Whether `key` has a limit kept here.
    pub fn applies(key: &CachedKey) -> bool {
        key.rpm.is_some() || key.tpm.is_some() || key.budget_usd.is_some()
    }

    /// Check `key`'s tpm and budget and count one request against its rpm.
    pub async fn admit(&self, key: &CachedKey) -> Verdict {
        let Some(mut conn) = self.link.connection().await else {
            return Verdict::Unavailable;
        };
        let member = format!(
            "{:x}-{:x}",
            self.instance,
            self.seq.fetch_add(1, Ordering::Relaxed)
        );
        let [rpm_key, tpm_key, spend_key] = keys(&key.id);
        let answer: redis::RedisResult<(u8, i64)> = self
            .admit
            .key(rpm_key)
            .key(tpm_key)
            .key(spend_key)
            .arg(WINDOW_MS)
            .arg(key.rpm.unwrap_or(0))
            .arg(member)
            .arg(key.tpm.unwrap_or(0))
            .arg(key.budget_usd.map(|b| b.to_string()).unwrap_or_default())
            .arg(key.spend_usd)
            .arg(SPEND_TTL_MS)
            .invoke_async(&mut conn)
            .await;
        match answer {
            Ok((1, _)) => {
                self.link.ok();
                Verdict::Admitted
            }
            Ok((which, wait_ms)) => {
                self.link.ok();
                let secs = u64::try_from(wait_ms.max(0)).unwrap_or(0).div_ceil(1000);
                let limit = match which {
                    2 => Limit::Tpm,
                    3 => Limit::Budget,
                    _ => Limit::Rpm,
                };
                Verdict::Limited(limit, secs.max(1))
            }
            Err(e) => {
                self.link.failed(&e);
                Verdict::Unavailable
            }
        }
    }

    /// Add a finished request's `tokens` and `usd` to `key`'s shared counters (tpm and budget).
    pub async fn record(&self, key: &CachedKey, tokens: u64, usd: f64) {
        let track_tokens = if key.tpm.is_some() { tokens } else { 0 };
        let track_usd = if key.budget_usd.is_some() { usd } else { 0.0 };
        if track_tokens == 0 && track_usd <= 0.0 {
            return;
        }
        let Some(mut conn) = self.link.connection().await else {
            return;
        };
        let [_, tpm_key, spend_key] = keys(&key.id);
        let done: redis::RedisResult<i64> = self
            .record
            .key(tpm_key)
            .key(spend_key)
            .arg(track_tokens)
            .arg(track_usd)
            .arg(key.spend_usd)
            .arg(SPEND_TTL_MS)
            .invoke_async(&mut conn)
            .await;
        match done {
            Ok(_) => self.link.ok(),
            Err(e) => self.link.failed(&e),
        }
    }
}
