//! Client authentication: master key, virtual keys (hash lookup in an in-memory cache), loopback-only dev mode.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName};
use secrecy::ExposeSecret;

use crate::error::ApiError;
use crate::keys::CachedKey;
use crate::state::AppState;

/// Anthropic's key header (its SDKs send the key here instead of `Authorization`).
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The master key: everything, including admin routes.
    Master,
    /// A virtual key with its limits.
    Virtual(Arc<CachedKey>),
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

/// Constant-time equality (compares digests so lengths leak nothing either).
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
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
                .get(X_API_KEY)
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
        // Without a master key the gateway is a loopback-only development server: a virtual key does not
        // open it to other machines (an IPv4-mapped loopback address counts as loopback).
        None if !peer.to_canonical().is_loopback() => Err(ApiError::forbidden(
            "this gateway has no master key (CRUX_MASTER_KEY) and serves only loopback clients",
        )),
        None => Ok(key
            .and_then(|k| state.keys.lookup(k))
            .map_or(Caller::Local, Caller::Virtual)),
    }
}

/// `GET /metrics`: with `[telemetry] metrics_auth` on (the default) it needs the master key when one is
/// configured, and is served to loopback clients only when none is; with it off, anyone who can reach the
/// listener may scrape.
pub fn metrics_access(state: &AppState, headers: &HeaderMap, peer: IpAddr) -> Result<(), ApiError> {
    if !state.config.metrics_auth {
        return Ok(());
    }
    match (
        authenticate(state, headers, peer)?,
        &state.config.master_key,
    ) {
        (Caller::Master, _) | (_, None) => Ok(()),
        _ => Err(ApiError::forbidden(
            "`/metrics` needs the master key ([telemetry] metrics_auth = true)",
        )),
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
}
