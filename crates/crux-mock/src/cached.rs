//! The mock's Gemini `cachedContents`: what each created cache holds and until when (a leaf type shared by the
//! server state and the Gemini handlers).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One created cache.
#[derive(Debug, Clone)]
pub(crate) struct CachedContent {
    /// `models/…`.
    pub model: String,
    /// `systemInstruction`, `tools`, `toolConfig` as sent (absent ones left out).
    pub fields: Vec<(&'static str, Value)>,
    /// The cached turns.
    pub contents: Vec<Value>,
    /// Tokens the cache holds (the mock's count).
    pub tokens: u64,
    /// When it expires.
    pub expires: Instant,
}

/// Every cache created on one server, by name.
#[derive(Debug, Default)]
pub(crate) struct CachedContents {
    entries: Mutex<HashMap<String, CachedContent>>,
    seq: AtomicU64,
}

impl CachedContents {
    /// Store `entry` and return its new name, `cachedContents/mock-N`.
    pub(crate) fn insert(&self, entry: CachedContent) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let name = format!("cachedContents/mock-{n}");
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(name.clone(), entry);
        }
        name
    }

    /// The live cache called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<CachedContent> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(name)
            .filter(|e| e.expires > Instant::now())
            .cloned()
    }

    /// Names of the live caches.
    pub(crate) fn names(&self) -> Vec<String> {
        let now = Instant::now();
        let Ok(entries) = self.entries.lock() else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .iter()
            .filter(|(_, e)| e.expires > now)
            .map(|(n, _)| n.clone())
            .collect();
        names.sort();
        names
    }

    /// Forget every cache (as if each had expired).
    pub(crate) fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// A protobuf `Duration` in JSON (`"300s"`, `"1.5s"`).
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let secs: f64 = text.strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}
