//! The in-memory virtual-key cache: keys by SHA-256 hash, swapped wholesale by the sync task; lookups never touch
//! the database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A client key issued by `crux virtual-keys create`, as cached in memory (the store's `VirtualKey` minus its
/// hash and timestamps).
#[derive(Debug, Clone, PartialEq)]
pub struct CachedKey {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Requests per minute.
    pub rpm: Option<u32>,
    /// Tokens (prompt plus completion) per minute.
    pub tpm: Option<u32>,
    /// Spend limit in USD.
    pub budget_usd: Option<f64>,
    /// Allowed model names (`provider/model` or aliases); `None` = all.
    pub models: Option<Vec<String>>,
    /// Spend recorded in the store when the cache was refreshed.
    pub spend_usd: f64,
}

/// SHA-256 of a key as lowercase hex (how virtual keys are stored and looked up).
pub fn hash_key(key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    digest
        .as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
            s
        })
}

/// Virtual keys by hash, swapped wholesale on refresh; lookups never touch the database.
#[derive(Debug, Default)]
pub struct KeyCache {
    by_hash: RwLock<HashMap<String, Arc<CachedKey>>>,
}

impl KeyCache {
    /// Replace the cached set (`(hash, key)` pairs of active keys).
    pub fn replace(&self, keys: impl IntoIterator<Item = (String, CachedKey)>) {
        let map = keys.into_iter().map(|(h, k)| (h, Arc::new(k))).collect();
        if let Ok(mut guard) = self.by_hash.write() {
            *guard = map;
        }
    }

    /// Find the key whose hash matches `presented`.
    pub fn lookup(&self, presented: &str) -> Option<Arc<CachedKey>> {
        let hash = hash_key(presented);
        self.by_hash.read().ok()?.get(&hash).cloned()
    }

    /// Number of cached keys.
    pub fn len(&self) -> usize {
        self.by_hash.read().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether no keys are cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn cache_lookup() {
        let cache = KeyCache::default();
        let key = CachedKey {
            id: "vk_1".into(),
            name: "n".into(),
            rpm: None,
            tpm: None,
            budget_usd: None,
            models: None,
            spend_usd: 0.0,
        };
        cache.replace([(hash_key("crux-vk-secret"), key)]);
        assert_eq!(cache.lookup("crux-vk-secret").unwrap().id, "vk_1");
        assert!(cache.lookup("other").is_none());
    }
}
