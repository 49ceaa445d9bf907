//! Console sessions: a random session id (the HttpOnly cookie) mapped server-side to its CSRF token and expiry.
//! The master key is checked once at login and never leaves the server; each state-changing request must echo the
//! session's CSRF token (synchronizer token) in `x-csrf-token`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ring::rand::{SecureRandom, SystemRandom};

/// The session cookie's name.
pub const COOKIE: &str = "crux_session";
/// The request header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Sessions kept at most (the oldest is evicted beyond it), so a login flood cannot grow memory without bound.
const MAX_SESSIONS: usize = 1024;

#[derive(Debug, Clone)]
struct Session {
    csrf: String,
    expires: Instant,
}

/// The live console sessions.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes as hex, from the system's CSPRNG (`None` if it fails).
fn token() -> Option<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Constant-time equality of two tokens.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Sessions {
    /// A new session valid for `ttl`: `(session id, csrf token)`.
    pub fn create(&self, ttl: Duration) -> Option<(String, String)> {
        let (id, csrf) = (token()?, token()?);
        let now = Instant::now();
        let mut map = self.map.lock().ok()?;
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(
            id.clone(),
            Session {
                csrf: csrf.clone(),
                expires: now + ttl,
            },
        );
        Some((id, csrf))
    }

    /// The CSRF token of a live session.
    pub fn csrf(&self, id: &str) -> Option<String> {
        let map = self.map.lock().ok()?;
        map.get(id)
            .filter(|s| s.expires > Instant::now())
            .map(|s| s.csrf.clone())
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(id);
        }
    }
}

/// The session id in a `Cookie` header.
pub fn session_id(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_end() {
        let s = Sessions::default();
        let (id, csrf) = s.create(Duration::from_secs(60)).unwrap();
        assert_eq!(id.len(), 64);
        assert_ne!(id, csrf);
        assert_eq!(s.csrf(&id).as_deref(), Some(csrf.as_str()));
        s.remove(&id);
        assert_eq!(s.csrf(&id), None);
        let (gone, _) = s.create(Duration::ZERO).unwrap();
        assert_eq!(s.csrf(&gone), None, "expired at once");
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("a", "ab"));
    }

    #[test]
    fn cookie_parsing() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "a=1; crux_session=xyz; b=2".parse().unwrap());
        assert_eq!(session_id(&h), Some("xyz"));
        assert_eq!(session_id(&axum::http::HeaderMap::new()), None);
    }
}
