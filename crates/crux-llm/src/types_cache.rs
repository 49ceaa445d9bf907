//! Prompt-cache breakpoints of a normalized request (`ChatRequest::cache`), re-exported by `types`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A prompt-cache breakpoint: the tools, every system prompt and the first `messages` messages form a prefix the
/// caller wants cached (Anthropic's order is tools → system → messages; a breakpoint on a tool or a system block
/// covers the messages before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheBreakpoint {
    /// How many leading entries of [`crate::ChatRequest::messages`] the cached prefix covers.
    pub messages: usize,
    /// How long the caller wants the prefix kept.
    #[serde(default)]
    pub ttl: CacheTtl,
}

/// Lifetime of a cached prefix (Anthropic's `cache_control.ttl`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheTtl {
    /// `ephemeral`, the default: five minutes.
    #[default]
    FiveMinutes,
    /// `"ttl": "1h"`.
    OneHour,
}

impl CacheTtl {
    /// The lifetime in seconds.
    pub fn seconds(self) -> u64 {
        match self {
            CacheTtl::FiveMinutes => 300,
            CacheTtl::OneHour => 3_600,
        }
    }

    /// The TTL of an Anthropic `cache_control` object (`{"type":"ephemeral","ttl":"1h"}`).
    pub fn of_cache_control(control: &Value) -> CacheTtl {
        match control.get("ttl").and_then(Value::as_str) {
            Some("1h") => CacheTtl::OneHour,
            _ => CacheTtl::FiveMinutes,
        }
    }
}
