//! The response cache (`[cache]`, off unless configured): exact match on the normalized request — the name the caller
//! asked for, its messages, tools and parameters, and the caller's virtual key unless `shared = true` — holding the
//! core answer, so a hit is answered in any dialect, as JSON or replayed as a stream. In memory (moka, bounded by
//! entries and TTL), and in Redis when `url` is set, so instances share it. `Cache-Control: no-cache` skips the
//! lookup (the fresh answer is stored), `no-store` skips both. A Redis outage makes lookups miss; it never fails a
//! request.

use std::sync::Arc;
use std::time::Duration;

use crux_llm::{ChatRequest, ChatResponse, ModelId};
use http::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::redis_link::RedisLink;

/// `[cache]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// How long an answer is served from the cache.
    pub ttl: Duration,
    /// Answers kept in memory at most.
    pub max_entries: u64,
    /// Redis URL of a cache shared by every instance.
    pub redis_url: Option<String>,
    /// Share answers across virtual keys (default: each key has its own).
    pub shared: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(600),
            max_entries: 10_000,
            redis_url: None,
            shared: false,
        }
    }
}

/// What a request's `Cache-Control` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Look up, and store a fresh answer.
    #[default]
    Use,
    /// `no-cache`: do not answer from the cache, store the fresh answer.
    Refresh,
    /// `no-store`: neither.
    Bypass,
}

impl Policy {
    /// The policy of a request with these headers.
    pub fn of(headers: &HeaderMap) -> Self {
        let directives = headers
            .get_all(http::header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|d| d.trim().to_ascii_lowercase());
        let mut policy = Policy::Use;
        for d in directives {
            match d.as_str() {
                "no-store" => return Policy::Bypass,
                "no-cache" => policy = Policy::Refresh,
                _ => {}
            }
        }
        policy
    }
}

/// A cached answer: who served it and what they said.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cached {
    /// The `provider/model` that served.
    pub target: ModelId,
    /// The answer.
    pub response: ChatResponse,
}

/// A cache key (SHA-256 of the normalized request).
pub type Key = [u8; 32];

/// A SHA-256 that serde writes into.
struct Digest(ring::digest::Context);

impl std::io::Write for Digest {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The cache.
pub struct ResponseCache {
    config: CacheConfig,
    mem: moka::sync::Cache<Key, Arc<Cached>>,
    redis: Option<Arc<RedisLink>>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("ttl", &self.config.ttl)
            .field("redis", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

/// Fields of `extra` that change how an answer is delivered, not what it says.
const DELIVERY_FIELDS: [&str; 2] = ["stream", "stream_options"];

fn redis_key(key: &Key) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(11 + 64);
    s.push_str("crux:cache:");
    for b in key {
        let _ = write!(s, "{b:02x}");
    }
    s
}

async fn redis_get(link: &RedisLink, key: &Key) -> Option<Vec<u8>> {
    let mut conn = link.connection().await?;
    let got: redis::RedisResult<Option<Vec<u8>>> = redis::cmd("GET")
        .arg(redis_key(key))
        .query_async(&mut conn)
        .await;
    match got {
        Ok(v) => {
            link.ok();
            v
        }
        Err(e) => {
            link.failed(&e);
            None
        }
    }
}

async fn redis_set(link: &RedisLink, key: &Key, bytes: Vec<u8>, ttl: Duration) {
    let Some(mut conn) = link.connection().await else {
        return;
    };
    let set: redis::RedisResult<()> = redis::cmd("SET")
        .arg(redis_key(key))
        .arg(bytes)
        .arg("PX")
        .arg(u64::try_from(ttl.as_millis().max(1)).unwrap_or(u64::MAX))
        .query_async(&mut conn)
        .await;
    match set {
        Ok(()) => link.ok(),
        Err(e) => link.failed(&e),
    }
}

impl ResponseCache {
    /// A cache as configured; a malformed Redis URL is an error (said at startup).
    pub fn new(config: CacheConfig) -> Result<Self, String> {
        let redis = config
            .redis_url
            .as_deref()
            .map(|url| RedisLink::new(url, "response cache"))
            .transpose()
            .map_err(|e| format!("[cache] url: {e}"))?
            .map(Arc::new);
        Ok(Self {
            mem: moka::sync::Cache::builder()
                .max_capacity(config.max_entries)
                .time_to_live(config.ttl)
                .build(),
            config,
            redis,
        })
    }

    /// With a shared cache, whether Redis answered its last call (`None`: memory only).
    pub fn redis_up(&self) -> Option<bool> {
        self.redis.as_ref().map(|l| l.is_up())
    }

    /// The key of `req` asked as `name` by virtual key `key_id`: the request is serialized straight into the
    /// digest (no copy of it, no buffer), its `extra` fields after it without the delivery ones. `req` is lent
    /// mutably only to set its `extra` aside while the rest is serialized; it comes back unchanged.
    pub fn key(&self, name: &str, key_id: Option<&str>, req: &mut ChatRequest) -> Key {
        let mut digest = Digest(ring::digest::Context::new(&ring::digest::SHA256));
        digest.0.update(b"crux-cache-v1\0");
        digest.0.update(name.as_bytes());
        digest.0.update(b"\0");
        if !self.config.shared {
            digest.0.update(key_id.unwrap_or("").as_bytes());
        }
        digest.0.update(b"\0");
        let extra = std::mem::take(&mut req.extra);
        let _ = serde_json::to_writer(&mut digest, &*req);
        for (k, v) in extra
            .iter()
            .filter(|(k, _)| !DELIVERY_FIELDS.contains(&k.as_str()))
        {
            digest.0.update(b"\0");
            digest.0.update(k.as_bytes());
            digest.0.update(b"\0");
            let _ = serde_json::to_writer(&mut digest, v);
        }
        req.extra = extra;
        let mut key = [0; 32];
        key.copy_from_slice(digest.0.finish().as_ref());
        key
    }

    /// The cached answer for `key`, if any (memory first, then Redis).
    pub async fn get(&self, key: &Key) -> Option<Arc<Cached>> {
        if let Some(hit) = self.mem.get(key) {
            return Some(hit);
        }
        let bytes = redis_get(self.redis.as_ref()?, key).await?;
        let cached: Arc<Cached> = Arc::new(serde_json::from_slice(&bytes).ok()?);
        self.mem.insert(*key, Arc::clone(&cached));
        Some(cached)
    }

    /// Keep `cached` under `key` (in memory now; in Redis from a task of its own).
    pub fn put(&self, key: Key, cached: Cached) {
        if let Some(shared) = &self.redis {
            let bytes = serde_json::to_vec(&cached).unwrap_or_default();
            let link = Arc::clone(shared);
            let ttl = self.config.ttl;
            tokio::spawn(async move { redis_set(&link, &key, bytes, ttl).await });
        }
        self.mem.insert(key, Arc::new(cached));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(text: &str) -> ChatRequest {
        ChatRequest::new(
            "openai/gpt-4o-mini".parse().unwrap(),
            vec![crux_llm::Message::user(text)],
        )
    }

    #[test]
    fn cache_control_decides_lookup_and_store() {
        let mut h = HeaderMap::new();
        assert_eq!(Policy::of(&h), Policy::Use);
        h.insert(
            http::header::CACHE_CONTROL,
            "max-age=0, No-Cache".parse().unwrap(),
        );
        assert_eq!(Policy::of(&h), Policy::Refresh);
        h.append(http::header::CACHE_CONTROL, "no-store".parse().unwrap());
        assert_eq!(Policy::of(&h), Policy::Bypass);
    }

    #[test]
    fn keys_differ_by_name_key_and_content_but_not_by_delivery() {
        let c = ResponseCache::new(CacheConfig::default()).unwrap();
        let a = c.key("smart", Some("vk1"), &mut req("hi"));
        assert_eq!(a, c.key("smart", Some("vk1"), &mut req("hi")));
        assert_ne!(
            a,
            c.key("smart", Some("vk2"), &mut req("hi")),
            "never across virtual keys"
        );
        assert_ne!(a, c.key("fast", Some("vk1"), &mut req("hi")));
        assert_ne!(a, c.key("smart", Some("vk1"), &mut req("hello")));
        let mut streamed = req("hi");
        streamed.extra.insert(
            "stream_options".into(),
            serde_json::json!({"include_usage": true}),
        );
        assert_eq!(a, c.key("smart", Some("vk1"), &mut streamed));
        assert_eq!(streamed.extra.len(), 1, "the request keeps its fields");
        let mut tools = req("hi");
        tools
            .extra
            .insert("parallel_tool_calls".into(), serde_json::json!(false));
        assert_ne!(
            a,
            c.key("smart", Some("vk1"), &mut tools),
            "other extra fields count"
        );
        let shared = ResponseCache::new(CacheConfig {
            shared: true,
            ..CacheConfig::default()
        })
        .unwrap();
        assert_eq!(
            shared.key("smart", Some("vk1"), &mut req("hi")),
            shared.key("smart", Some("vk2"), &mut req("hi"))
        );
    }

    #[test]
    fn a_bad_redis_url_is_refused_at_startup() {
        let e = ResponseCache::new(CacheConfig {
            redis_url: Some("http://nope".into()),
            ..CacheConfig::default()
        })
        .unwrap_err();
        assert!(e.contains("[cache] url"), "{e}");
    }
}
