//! Scripted faults: parsing fault specs (header or `[[mock ...]]` directive) and per-spec counters.
//!
//! Grammar: items separated by commas and/or whitespace; each item is `key=value` or a bare flag.
//! Keys: `status`, `retry_after`, `retry_after_ms`, `should_retry`, `times`, `key`,
//! `first_byte_ms`, `stall_after`, `stall_ms`, `cut_after`, `truncate_after`, `delay`,
//! `cache_read`;
//! flags: `invalid_json`, `mid_error`. Anything else is rejected.

use std::time::Duration;

use crate::counters::FaultCounters;
use crate::errors::MockError;
use crate::state::Shared;

/// Default duration of a stall (`stall_after`) when `stall_ms` is not given.
pub(crate) const DEFAULT_STALL_MS: u64 = 120_000;

/// Opening token of an in-prompt fault directive.
const DIRECTIVE_OPEN: &str = "[[mock";
/// Closing token of an in-prompt fault directive.
const DIRECTIVE_CLOSE: &str = "]]";

/// The faults active for one request (all off by default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Faults {
    /// Answer this HTTP status with the wire's error body.
    pub status: Option<u16>,
    /// `retry-after` header value (seconds, passed verbatim).
    pub retry_after: Option<String>,
    /// `retry-after-ms` header value.
    pub retry_after_ms: Option<u64>,
    /// `x-should-retry` header value.
    pub should_retry: Option<bool>,
    /// Apply only to the first N requests carrying the same spec.
    pub times: Option<u64>,
    /// Sleep before sending status and headers.
    pub first_byte_ms: Option<u64>,
    /// Stop sending after N content chunks and keep the connection open.
    pub stall_after: Option<usize>,
    /// How long a stall lasts before the body ends (without terminator).
    pub stall_ms: u64,
    /// Abort the connection after N content chunks.
    pub cut_after: Option<usize>,
    /// End the body cleanly, without terminator, after N content chunks.
    pub truncate_after: Option<usize>,
    /// Send a frame (or body) that is not valid JSON.
    pub invalid_json: bool,
    /// Send an error frame after the first content chunk and close.
    pub mid_error: bool,
    /// Delay between streamed frames, in milliseconds.
    pub delay_ms: u64,
    /// Report this many prompt tokens as read from the provider's prompt cache.
    pub cache_read: Option<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            status: None,
            retry_after: None,
            retry_after_ms: None,
            should_retry: None,
            times: None,
            first_byte_ms: None,
            stall_after: None,
            stall_ms: DEFAULT_STALL_MS,
            cut_after: None,
            truncate_after: None,
            invalid_json: false,
            mid_error: false,
            delay_ms: 0,
            cache_read: None,
        }
    }
}

fn num<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("mock fault `{key}` needs a non-negative integer, got `{value}`"))
}

fn flag(key: &str, value: Option<&str>) -> Result<bool, String> {
    match value {
        None | Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(v) => Err(format!("mock fault `{key}` takes true/false, got `{v}`")),
    }
}

fn need<'a>(key: &str, value: Option<&'a str>) -> Result<&'a str, String> {
    value.ok_or_else(|| format!("mock fault `{key}` needs a value (`{key}=...`)"))
}

/// Splits a spec into its items (commas and whitespace separate items).
fn items(spec: &str) -> impl Iterator<Item = &str> {
    spec.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
}

impl Faults {
    /// Applies one `key=value` or flag item.
    fn apply(&mut self, item: &str) -> Result<(), String> {
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (item, None),
        };
        match key {
            "status" => {
                let code: u16 = num(key, need(key, value)?)?;
                if !(400..=599).contains(&code) {
                    return Err(format!("mock fault `status` must be 400..=599, got {code}"));
                }
                self.status = Some(code);
            }
            "retry_after" => {
                let v = need(key, value)?;
                if v.parse::<f64>().is_err() {
                    return Err(format!("mock fault `retry_after` needs seconds, got `{v}`"));
                }
                self.retry_after = Some(v.to_owned());
            }
            "retry_after_ms" => self.retry_after_ms = Some(num(key, need(key, value)?)?),
            "should_retry" => self.should_retry = Some(flag(key, value)?),
            "times" => self.times = Some(num(key, need(key, value)?)?),
            "key" => {
                need(key, value)?;
            }
            "first_byte_ms" => self.first_byte_ms = Some(num(key, need(key, value)?)?),
            "stall_after" => self.stall_after = Some(num(key, need(key, value)?)?),
            "stall_ms" => self.stall_ms = num(key, need(key, value)?)?,
            "cut_after" => self.cut_after = Some(num(key, need(key, value)?)?),
            "truncate_after" => self.truncate_after = Some(num(key, need(key, value)?)?),
            "delay" => self.delay_ms = num(key, need(key, value)?)?,
            "cache_read" => self.cache_read = Some(num(key, need(key, value)?)?),
            "invalid_json" => self.invalid_json = flag(key, value)?,
            "mid_error" => self.mid_error = flag(key, value)?,
            other => {
                return Err(format!(
                    "unknown mock fault key `{other}` (known: status, retry_after, \
                     retry_after_ms, should_retry, times, key, first_byte_ms, stall_after, \
                     stall_ms, cut_after, truncate_after, invalid_json, mid_error, delay, \
                     cache_read)"
                ));
            }
        }
        Ok(())
    }

    /// Parses a whole spec such as `status=429,retry_after=1 times=2`.
    pub(crate) fn parse(spec: &str) -> Result<Self, String> {
        let mut faults = Self::default();
        for item in items(spec) {
            faults.apply(item)?;
        }
        Ok(faults)
    }

    /// Resolves the faults of one request from the `x-mock-fault` header and the in-prompt
    /// directives, honouring `times` through `counters`. Unknown keys are a 400 error.
    pub(crate) fn resolve(
        header: Option<&str>,
        directives: &[String],
        counters: &FaultCounters,
    ) -> Result<Self, MockError> {
        let all: Vec<&str> = header
            .into_iter()
            .chain(directives.iter().map(String::as_str))
            .flat_map(items)
            .collect();
        if all.is_empty() {
            return Ok(Self::default());
        }
        let spec = all.join(",");
        let faults = Self::parse(&spec).map_err(|m| MockError::invalid(m, None))?;
        if counters.admit(&spec, faults.times) {
            Ok(faults)
        } else {
            Ok(Self::default())
        }
    }

    /// Applies the pre-response faults: sleeps `first_byte_ms`, then fails with the scripted
    /// `status` (carrying the retry headers), if any.
    pub(crate) async fn before_response(&self, shared: &Shared) -> Result<(), MockError> {
        if let Some(ms) = self.first_byte_ms {
            shared.sleep(Duration::from_millis(ms)).await;
        }
        match self.status {
            Some(status) => Err(MockError::scripted(status, self.response_headers())),
            None => Ok(()),
        }
    }

    /// Extra response headers requested by the spec (`retry-after`, `retry-after-ms`,
    /// `x-should-retry`).
    pub(crate) fn response_headers(&self) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        if let Some(v) = &self.retry_after {
            headers.push(("retry-after".to_owned(), v.clone()));
        }
        if let Some(v) = self.retry_after_ms {
            headers.push(("retry-after-ms".to_owned(), v.to_string()));
        }
        if let Some(v) = self.should_retry {
            headers.push(("x-should-retry".to_owned(), v.to_string()));
        }
        headers
    }
}

/// Removes every `[[mock SPEC]]` directive from `text`, returning the specs in order.
pub(crate) fn take_directives(text: &mut String) -> Vec<String> {
    let mut specs = Vec::new();
    let mut from = 0;
    while let Some(rel) = text[from..].find(DIRECTIVE_OPEN) {
        let start = from + rel;
        let after_open = start + DIRECTIVE_OPEN.len();
        let rest = &text[after_open..];
        let well_formed = rest.starts_with(DIRECTIVE_CLOSE)
            || rest.chars().next().is_some_and(char::is_whitespace);
        match rest.find(DIRECTIVE_CLOSE) {
            Some(close) if well_formed => {
                specs.push(rest[..close].trim().to_owned());
                text.replace_range(start..after_open + close + DIRECTIVE_CLOSE.len(), "");
                from = start;
            }
            _ => from = after_open,
        }
    }
    specs
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_items_with_commas_and_spaces() {
        let f = Faults::parse("status=429, retry_after=1.5 times=2,key=a invalid_json").unwrap();
        assert_eq!(f.status, Some(429));
        assert_eq!(f.retry_after.as_deref(), Some("1.5"));
        assert_eq!(f.times, Some(2));
        assert!(f.invalid_json);
        assert_eq!(f.stall_ms, DEFAULT_STALL_MS);
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        assert!(Faults::parse("stauts=500").unwrap_err().contains("stauts"));
        assert!(Faults::parse("delay=abc").is_err());
        assert!(Faults::parse("status=200").is_err());
        assert!(Faults::parse("status").is_err());
    }

    #[test]
    fn directives_are_removed() {
        let mut t = "hi [[mock delay=5]] there [[mockery]] [[mock]]!".to_owned();
        let specs = take_directives(&mut t);
        assert_eq!(specs, vec!["delay=5".to_owned(), String::new()]);
        assert_eq!(t, "hi  there [[mockery]] !");
    }
}
