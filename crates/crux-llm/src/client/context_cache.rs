//! Gemini context caches for requests with cache breakpoints: the caches this process created, in memory (key →
//! `cachedContents/…` name until shortly before Gemini deletes it), finding or creating the one a request can use,
//! and remembering failed creations briefly so a prefix that cannot be cached is not retried on every call.
//!
//! Caching never fails a request: a create that fails, or a cache the upstream no longer knows, means the request
//! goes out uncached. No store read happens on the request path.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use secrecy::ExposeSecret;

use super::{Client, Target, read_body};
use crate::error::Error;
use crate::providers::{ProviderId, Wire};
use crate::types::ChatRequest;
use crate::wire::gemini::cache::{self as plan, CacheKey, CachePlan};
use crate::wire::{self, gemini};

/// Most entries kept; expired ones are dropped first, then the soonest to expire.
const MAX_ENTRIES: usize = 4_096;
/// A cache is no longer used this long before its TTL ends (a request in flight must not outlive it).
const EXPIRY_MARGIN: Duration = Duration::from_secs(15);
/// How long a failed creation keeps the same prefix from being tried again.
const FAILED_FOR: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
enum Entry {
    Ready { name: String, until: Instant },
    Failed { until: Instant },
}

impl Entry {
    fn until(&self) -> Instant {
        match self {
            Entry::Ready { until, .. } | Entry::Failed { until } => *until,
        }
    }
}

/// The context caches one client (and every [`Client::with_key`] copy) created.
#[derive(Debug, Default)]
pub(crate) struct ContextCaches {
    entries: Mutex<HashMap<CacheKey, Entry>>,
}

impl ContextCaches {
    fn get(&self, key: &CacheKey) -> Option<Entry> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|e| e.until() > Instant::now())
            .cloned()
    }

    fn put(&self, key: CacheKey, entry: Entry) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            let now = Instant::now();
            entries.retain(|_, e| e.until() > now);
            if entries.len() >= MAX_ENTRIES
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.until())
                    .map(|(k, _)| *k)
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key, entry);
    }

    fn forget(&self, key: &CacheKey) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }
}

/// A request body that refers to a context cache, and the cache's key (forgotten if the upstream rejects it).
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    pub body: Bytes,
    pub key: CacheKey,
}

impl Client {
    /// The cache plan of a Gemini request with cache breakpoints (`None` for every other request).
    pub(crate) fn cache_plan(&self, req: &ChatRequest) -> Option<CachePlan> {
        if req.cache.is_empty() || wire::wire_for(&req.model) != Wire::Gemini {
            return None;
        }
        let spec = req.model.provider.spec();
        let (body, bounds) = gemini::request::build_with_bounds(spec, req).ok()?;
        let base = self.target(spec.provider, "").ok()?;
        let mut scope = String::from(base.url).into_bytes();
        scope.push(0);
        if let Some(k) = &base.key {
            scope.extend_from_slice(k.expose_secret().as_bytes());
        }
        plan::plan(&scope, req, &body, &bounds)
    }

    /// The body to send for `plan`: one referring to a live cache of its write point, else to a cache created now,
    /// else to the longest live cache of a shorter prefix; `None` sends the request uncached.
    pub(crate) async fn use_cache(
        &self,
        provider: ProviderId,
        p: &CachePlan,
        deadline: Instant,
    ) -> Option<Cached> {
        let caches = &self.inner.caches;
        let (write, write_key) = *p.candidates.first()?;
        let mut may_create = true;
        match caches.get(&write_key) {
            Some(Entry::Ready { name, .. }) => return Some(cached(p, write, write_key, &name)),
            Some(Entry::Failed { .. }) => may_create = false,
            None => {}
        }
        if may_create && p.prefix_tokens(write) >= plan::min_tokens(p.model()) {
            match self.create_cache(provider, p, write, deadline).await {
                Ok(name) => {
                    let until =
                        Instant::now() + Duration::from_secs(p.ttl.seconds()) - EXPIRY_MARGIN;
                    caches.put(
                        write_key,
                        Entry::Ready {
                            name: name.clone(),
                            until,
                        },
                    );
                    return Some(cached(p, write, write_key, &name));
                }
                Err(e) => {
                    tracing::info!(model = p.model(), error = %e, "gemini context cache not created; sending uncached");
                    caches.put(
                        write_key,
                        Entry::Failed {
                            until: Instant::now() + FAILED_FOR,
                        },
                    );
                }
            }
        }
        p.candidates[1..]
            .iter()
            .find_map(|(k, key)| match caches.get(key) {
                Some(Entry::Ready { name, .. }) => Some(cached(p, *k, *key, &name)),
                _ => None,
            })
    }

    /// Drop a cache the upstream rejected (expired or deleted early).
    pub(crate) fn forget_cache(&self, key: &CacheKey) {
        self.inner.caches.forget(key);
    }

    async fn create_cache(
        &self,
        provider: ProviderId,
        p: &CachePlan,
        k: usize,
        deadline: Instant,
    ) -> crate::error::Result<String> {
        let target: Target = self.target(provider, "/v1beta/cachedContents")?;
        let resp = self.send_once(&target, p.create_body(k), deadline).await?;
        let body = read_body(target.spec.provider, resp, deadline).await?;
        plan::created_name(&body).ok_or_else(|| Error::Decode {
            provider: target.spec.provider,
            message: "the cachedContents answer has no cache name".into(),
        })
    }
}

fn cached(p: &CachePlan, k: usize, key: CacheKey, name: &str) -> Cached {
    Cached {
        body: p.cached_body(k, name),
        key,
    }
}

/// Whether an upstream error may come from the cache a request referred to (gone, or refused with it): the
/// request is then sent once more, uncached.
pub(crate) fn is_cache_error(e: &Error) -> bool {
    matches!(e, Error::Upstream(u) if matches!(u.status, 400 | 403 | 404))
}
