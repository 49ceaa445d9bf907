//! Per-virtual-key limits held in memory: requests and tokens per minute (sliding windows), allowed models, USD
//! budgets. Tokens are counted when a request finishes (prompt plus completion); a key whose last minute reached
//! its tokens-per-minute limit is refused until enough of that minute has passed.
//!
//! Several instances sharing one store: once a second the sync task loads every key's request count over the last
//! minute (from all instances' chat logs) and its spend. Between syncs an instance adds what it admitted itself.
//! Worst-case overshoot per key: requests (or spend) that other instances admit within one sync interval plus the
//! write-queue flush delay — for N instances, at most (N − 1) × the per-instance admissions of that interval.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;
use crate::keys::CachedKey;

const WINDOW: Duration = Duration::from_secs(60);

/// Request timestamps and spend per key.
#[derive(Debug, Default)]
pub struct Limiter {
    windows: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// Spend added by this process since the key cache was last refreshed from the store.
    local_spend: Mutex<HashMap<String, f64>>,
    /// Requests per key over the last minute across every instance, as of the last sync.
    shared: Mutex<HashMap<String, u64>>,
    /// Requests this instance admitted since the last sync.
    since_sync: Mutex<HashMap<String, u64>>,
    /// Tokens per key over the last minute, by finishing time.
    tokens: Mutex<HashMap<String, VecDeque<(Instant, u64)>>>,
}

impl Limiter {
    /// Check (and count) one request by `key` against the limits kept here: budget, tokens, then requests per
    /// minute (the only one that counts, so a refused request uses no rpm).
    pub fn local(&self, key: &CachedKey) -> Result<(), ApiError> {
        self.budget(key)?;
        self.tpm(key)?;
        self.rpm(key)
    }

    /// The key may use the model `name`; `model_allowed` says whether it may use the name or any of its targets
    /// (the router then skips each target the key may not use).
    pub fn model(key: &CachedKey, name: &str, model_allowed: bool) -> Result<(), ApiError> {
        if let Some(allowed) = &key.models
            && !model_allowed
        {
            return Err(ApiError::forbidden(format!(
                "key '{}' may not use model '{name}' (allowed: {})",
                key.name,
                allowed.join(", ")
            )));
        }
        Ok(())
    }

    /// The key's budget is not spent (as far as this instance knows: the store's total plus its own spend since).
    pub fn budget(&self, key: &CachedKey) -> Result<(), ApiError> {
        if let Some(budget) = key.budget_usd {
            let spent = key.spend_usd + self.local_spend(&key.id);
            if spent >= budget {
                return Err(ApiError::rate_limited(
                    format!(
                        "key '{}' has spent its budget (${spent:.4} of ${budget:.2})",
                        key.name
                    ),
                    3600,
                ));
            }
        }
        Ok(())
    }

    /// Count one request against the key's requests-per-minute limit kept here (and synced from the store).
    pub fn rpm(&self, key: &CachedKey) -> Result<(), ApiError> {
        if let Some(rpm) = key.rpm {
            let now = Instant::now();
            let Ok(mut windows) = self.windows.lock() else {
                return Ok(());
            };
            let window = windows.entry(key.id.clone()).or_default();
            while window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= WINDOW)
            {
                window.pop_front();
            }
            let shared = self
                .shared
                .lock()
                .ok()
                .and_then(|m| m.get(&key.id).copied())
                .unwrap_or(0);
            let recent = self
                .since_sync
                .lock()
                .ok()
                .and_then(|m| m.get(&key.id).copied())
                .unwrap_or(0);
            if shared + recent >= u64::from(rpm) {
                return Err(ApiError::rate_limited(
                    format!(
                        "key '{}' exceeded its limit of {rpm} requests per minute (across instances)",
                        key.name
                    ),
                    1,
                ));
            }
            if window.len() >= rpm as usize {
                let wait = window
                    .front()
                    .map_or(WINDOW, |t| WINDOW.saturating_sub(now.duration_since(*t)));
                return Err(ApiError::rate_limited(
                    format!(
                        "key '{}' exceeded its limit of {rpm} requests per minute",
                        key.name
                    ),
                    wait.as_secs() + 1,
                ));
            }
            window.push_back(now);
            if let Ok(mut m) = self.since_sync.lock() {
                *m.entry(key.id.clone()).or_insert(0) += 1;
            }
        }
        Ok(())
    }

    /// Refuse a request by `key` while its tokens over the last minute reach its tokens-per-minute limit.
    pub fn tpm(&self, key: &CachedKey) -> Result<(), ApiError> {
        let (Some(tpm), Ok(mut all)) = (key.tpm, self.tokens.lock()) else {
            return Ok(());
        };
        let now = Instant::now();
        let Some(window) = all.get_mut(&key.id) else {
            return Ok(());
        };
        while window
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= WINDOW)
        {
            window.pop_front();
        }
        let used: u64 = window.iter().map(|(_, n)| n).sum();
        if used < u64::from(tpm) {
            return Ok(());
        }
        let wait = window.front().map_or(WINDOW, |(t, _)| {
            WINDOW.saturating_sub(now.duration_since(*t))
        });
        Err(ApiError::rate_limited(
            format!(
                "key '{}' used its limit of {tpm} tokens per minute ({used} in the last minute)",
                key.name
            ),
            wait.as_secs() + 1,
        ))
    }

    /// Count `tokens` a finished request of `key_id` used.
    pub fn add_tokens(&self, key_id: &str, tokens: u64) {
        if let Ok(mut all) = self.tokens.lock() {
            all.entry(key_id.to_owned())
                .or_default()
                .push_back((Instant::now(), tokens));
        }
    }

    /// Install the cross-instance counts of the last minute (from the store) and restart local counting.
    pub fn sync_counts(&self, counts: HashMap<String, u64>) {
        if let (Ok(mut shared), Ok(mut since)) = (self.shared.lock(), self.since_sync.lock()) {
            *shared = counts;
            since.clear();
        }
    }

    /// Record spend by `key_id` (kept until the next refresh from the store folds it in).
    pub fn add_spend(&self, key_id: &str, usd: f64) {
        if usd > 0.0
            && let Ok(mut m) = self.local_spend.lock()
        {
            *m.entry(key_id.to_owned()).or_insert(0.0) += usd;
        }
    }

    /// Local spend not yet reflected in the cached key.
    pub fn local_spend(&self, key_id: &str) -> f64 {
        self.local_spend
            .lock()
            .ok()
            .and_then(|m| m.get(key_id).copied())
            .unwrap_or(0.0)
    }

    /// Forget local spend once the store's totals include it.
    pub fn clear_spend(&self) {
        if let Ok(mut m) = self.local_spend.lock() {
            m.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CachedKey {
        CachedKey {
            id: "vk".into(),
            name: "team".into(),
            rpm: Some(2),
            tpm: None,
            budget_usd: Some(1.0),
            models: Some(vec!["openai/gpt-4o-mini".into(), "smart".into()]),
            spend_usd: 0.5,
        }
    }

    #[test]
    fn tokens_over_the_last_minute_are_limited() {
        let l = Limiter::default();
        let k = CachedKey {
            tpm: Some(100),
            rpm: None,
            ..key()
        };
        assert!(l.tpm(&k).is_ok());
        l.add_tokens("vk", 60);
        assert!(l.tpm(&k).is_ok());
        l.add_tokens("vk", 40);
        let e = l.tpm(&k).unwrap_err();
        assert_eq!(e.status, 429);
        assert!(e.message.contains("100 tokens per minute"), "{}", e.message);
        assert!(e.retry_after.unwrap() >= 1);
        l.add_tokens("other", 500);
        assert!(
            l.tpm(&CachedKey {
                id: "k2".into(),
                ..k
            })
            .is_ok()
        );
    }

    fn admit(l: &Limiter, k: &CachedKey, name: &str, allowed: bool) -> Result<(), ApiError> {
        Limiter::model(k, name, allowed)?;
        l.local(k)
    }

    #[test]
    fn rpm_models_and_budget() {
        let l = Limiter::default();
        let k = key();
        assert!(admit(&l, &k, "openai/gpt-4o-mini", true).is_ok());
        assert!(admit(&l, &k, "smart", true).is_ok());
        let e = admit(&l, &k, "smart", true).unwrap_err();
        assert_eq!(e.status, 429);
        assert!(e.retry_after.unwrap() >= 1);
        let e = admit(&l, &k, "anthropic/claude", false).unwrap_err();
        assert_eq!(e.status, 403);
        let l = Limiter::default();
        l.add_spend("vk", 0.6);
        let e = admit(&l, &k, "smart", true).unwrap_err();
        assert!(e.message.contains("budget"), "{}", e.message);
    }
}
