//! `[scale] redis_url`: exact requests-per-minute limits across every instance. Each admission runs one atomic Lua
//! script on Redis — a sliding window log per virtual key (a sorted set of admission times by Redis's own clock,
//! trimmed to the last 60 s): under the limit it adds the request, at the limit it answers how long until the oldest
//! entry leaves. No instance can admit what another already used, so there is no overshoot. When Redis cannot be
//! reached the gateway keeps serving on its local limits (the store-synced ones) and says so in `/ready` and
//! `crux_redis_up`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::redis_link::RedisLink;

/// The window of a requests-per-minute limit, in milliseconds.
const WINDOW_MS: u64 = 60_000;

/// Trim, count, admit: `{1, 0}` admitted, `{0, ms}` limited for `ms` more.
const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = window
  if oldest[2] then wait = tonumber(oldest[2]) + window - now end
  return {0, wait}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}
";

/// What Redis said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Counted and admitted.
    Admitted,
    /// At the limit: retry after this many seconds.
    Limited(u64),
    /// Redis could not be asked: use the local limits.
    Unavailable,
}

/// The cross-instance limits.
#[derive(Debug)]
pub struct SharedLimits {
    link: RedisLink,
    script: redis::Script,
    /// Makes each admission's member unique (with the instance's random id).
    seq: AtomicU64,
    instance: u64,
}

impl SharedLimits {
    /// Limits kept in the Redis at `url`; a malformed URL is an error.
    pub fn new(url: &str) -> Result<Self, String> {
        Ok(Self {
            link: RedisLink::new(url, "limits").map_err(|e| format!("[scale] redis_url: {e}"))?,
            script: redis::Script::new(SCRIPT),
            seq: AtomicU64::new(0),
            instance: fastrand::u64(..),
        })
    }

    /// Whether Redis answered the last call.
    pub fn is_up(&self) -> bool {
        self.link.is_up()
    }

    /// Count one request by virtual key `key_id` against `rpm` requests per minute.
    pub async fn admit(&self, key_id: &str, rpm: u32) -> Verdict {
        let Some(mut conn) = self.link.connection().await else {
            return Verdict::Unavailable;
        };
        let member = format!(
            "{:x}-{:x}",
            self.instance,
            self.seq.fetch_add(1, Ordering::Relaxed)
        );
        let answer: redis::RedisResult<(u8, i64)> = self
            .script
            .key(format!("crux:rpm:{key_id}"))
            .arg(WINDOW_MS)
            .arg(rpm)
            .arg(member)
            .invoke_async(&mut conn)
            .await;
        match answer {
            Ok((1, _)) => {
                self.link.ok();
                Verdict::Admitted
            }
            Ok((_, wait_ms)) => {
                self.link.ok();
                let secs = u64::try_from(wait_ms.max(0)).unwrap_or(0).div_ceil(1000);
                Verdict::Limited(secs.max(1))
            }
            Err(e) => {
                self.link.failed(&e);
                Verdict::Unavailable
            }
        }
    }
}
