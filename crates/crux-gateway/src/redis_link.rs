//! One Redis connection shared by the response cache and the cross-instance limits: opened on first use (1 s connect
//! and response timeouts), reconnected by redis-rs's connection manager, and left alone for 5 s after a failure so a
//! Redis outage costs requests nothing but a flag check. Whether it is up is visible to `/ready` and the metrics.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

/// How long Redis is left alone after it failed.
const BACKOFF_S: u64 = 5;

/// A lazily opened, shared Redis connection.
pub struct RedisLink {
    what: &'static str,
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    /// Seconds since `started` before which Redis is not tried again.
    down_until: AtomicU64,
    /// The last call succeeded (true until one fails).
    up: AtomicBool,
    started: Instant,
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLink")
            .field("for", &self.what)
            .field("up", &self.is_up())
            .finish_non_exhaustive()
    }
}

impl RedisLink {
    /// A link to `url` used for `what` (named in warnings); a malformed URL is an error.
    pub fn new(url: &str, what: &'static str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        Ok(Self {
            what,
            client,
            conn: OnceCell::new(),
            down_until: AtomicU64::new(0),
            up: AtomicBool::new(true),
            started: Instant::now(),
        })
    }

    fn now_s(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Whether the last call succeeded.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// The connection, unless Redis failed in the last few seconds or cannot be reached now.
    pub async fn connection(&self) -> Option<ConnectionManager> {
        if self.down_until.load(Ordering::Relaxed) > self.now_s() {
            return None;
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        match self
            .conn
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config))
            .await
        {
            Ok(c) => Some(c.clone()),
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    /// Note a failed call: Redis is left alone for a few seconds.
    pub fn failed(&self, e: &redis::RedisError) {
        self.down_until
            .store(self.now_s() + BACKOFF_S, Ordering::Relaxed);
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!(error = %e, what = self.what, "Redis unavailable; serving without it");
        }
    }

    /// Note a successful call.
    pub fn ok(&self) {
        if !self.up.swap(true, Ordering::Relaxed) {
            tracing::info!(what = self.what, "Redis is back");
        }
    }
}
