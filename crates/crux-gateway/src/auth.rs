//! Client authentication: master key, virtual keys (hash lookup in an in-memory cache), loopback-only dev mode.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use axum::http::HeaderMap;
use secrecy::ExposeSecret;

use crate::error::ApiError;
use crate::state::AppState;

/// A client key issued by `crux virtual-keys create`, as cached in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualKey {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Requests per minute.
    pub rpm: Option<u32>,
    /// Spend limit in USD.
    pub budget_usd: Option<f64>,
    /// Allowed model names (`provider/model` or aliases); `None` = all.
    pub models: Option<Vec<String>>,
    /// Spend recorded in the store when the cache was refreshed.
    pub spend_usd: f64,
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The master key: everything, including admin routes.
    Master,
    /// A virtual key with its limits.
    Virtual(Arc<VirtualKey>),
    /// No master key is configured and the client is on loopback (development mode).
    Local,
}

impl Caller {
    /// The virtual key id, if any.
    pub fn key_id(&self) -> Option<&str> {
        match self {
            Caller::Virtual(k) => Some(&k.id),
            _ => None,
        }
    }
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

/// Constant-time equality (compares digests so lengths leak nothing either).
fn same_secret(a: &str, b: &str) -> bool {
    let (da, db) = (
        ring::digest::digest(&ring::digest::SHA256, a.as_bytes()),
        ring::digest::digest(&ring::digest::SHA256, b.as_bytes()),
    );
    da.as_ref()
        .iter()
        .zip(db.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Virtual keys by hash, swapped wholesale on refresh; lookups never touch the database.
#[derive(Debug, Default)]
pub struct KeyCache {
    by_hash: RwLock<HashMap<String, Arc<VirtualKey>>>,
}

impl KeyCache {
    /// Replace the cached set (`(hash, key)` pairs of active keys).
    pub fn replace(&self, keys: impl IntoIterator<Item = (String, VirtualKey)>) {
        let map = keys.into_iter().map(|(h, k)| (h, Arc::new(k))).collect();
        if let Ok(mut guard) = self.by_hash.write() {
            *guard = map;
        }
    }

    /// Find the key whose hash matches `presented`.
    pub fn lookup(&self, presented: &str) -> Option<Arc<VirtualKey>> {
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

/// The key a client presented: `Authorization: Bearer KEY` or `x-api-key: KEY`.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, k)| k.trim());
    bearer
        .or_else(|| {
            headers
                .get("x-api-key")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        })
        .filter(|k| !k.is_empty())
}

/// Authenticate a request from `peer`.
pub fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    peer: IpAddr,
) -> Result<Caller, ApiError> {
    let key = presented_key(headers);
    match &state.config.master_key {
        Some(master) => {
            let key = key.ok_or_else(|| {
                ApiError::unauthorized(
                    "missing API key: send `Authorization: Bearer KEY` or `x-api-key: KEY`",
                )
            })?;
            if same_secret(key, master.expose_secret()) {
                return Ok(Caller::Master);
            }
            state
                .keys
                .lookup(key)
                .map(Caller::Virtual)
                .ok_or_else(|| ApiError::unauthorized("invalid API key"))
        }
        None => {
            if let Some(vk) = key.and_then(|k| state.keys.lookup(k)) {
                return Ok(Caller::Virtual(vk));
            }
            if peer.is_loopback() {
                Ok(Caller::Local)
            } else {
                Err(ApiError::forbidden(
                    "this gateway has no master key (CRUX_MASTER_KEY) and serves only loopback clients",
                ))
            }
        }
    }
}

/// Admin routes need the master key; without one configured they are closed.
pub fn require_admin(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    match (caller, &state.config.master_key) {
        (Caller::Master, _) => Ok(()),
        (_, None) => Err(ApiError::forbidden(
            "admin routes are closed: set CRUX_MASTER_KEY to enable them",
        )),
        _ => Err(ApiError::forbidden("this route needs the master key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_and_comparison() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(same_secret("k1", "k1"));
        assert!(!same_secret("k1", "k2"));
        assert!(!same_secret("k1", "k1-longer"));
    }

    #[test]
    fn presented_key_forms() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer  sk-1 ".parse().unwrap());
        assert_eq!(presented_key(&h), Some("sk-1"));
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "ak".parse().unwrap());
        assert_eq!(presented_key(&h), Some("ak"));
        assert_eq!(presented_key(&HeaderMap::new()), None);
    }

    #[test]
    fn cache_lookup() {
        let cache = KeyCache::default();
        let key = VirtualKey {
            id: "vk_1".into(),
            name: "n".into(),
            rpm: None,
            budget_usd: None,
            models: None,
            spend_usd: 0.0,
        };
        cache.replace([(hash_key("crux-vk-secret"), key)]);
        assert_eq!(cache.lookup("crux-vk-secret").unwrap().id, "vk_1");
        assert!(cache.lookup("other").is_none());
    }
}
