//! Sending one request with per-phase timeouts, error classification and retries before the first byte.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::HeaderMap;
use secrecy::ExposeSecret;

use super::{Client, RetryLog, Target};
use crate::error::{Error, ErrorBody, Result, TimeoutPhase, UpstreamError};
use crate::providers::{AuthStyle, ProviderId};
use crate::scrub::scrub;

/// Largest error body kept from an upstream failure.
const MAX_ERROR_BODY: usize = 64 * 1024;

impl Client {
    /// Send `body` (POST) or nothing (GET) to `target`, retrying retryable failures until a 2xx head arrives.
    pub(crate) async fn send(
        &self,
        target: &Target,
        body: Option<Bytes>,
        deadline: Instant,
        retries: &RetryLog,
    ) -> Result<reqwest::Response> {
        let policy = self.inner.retry;
        let provider = target.spec.provider;
        let headers = &target.headers;
        let mut attempt: u32 = 0;
        loop {
            let (headers, span) = crate::trace::begin(headers);
            let sent = self
                .attempt(target, &headers, body.clone(), deadline, retries)
                .await;
            let err = match sent {
                Ok(resp) => {
                    if let Some(span) = span {
                        span.end(provider.as_str(), attempt, None);
                    }
                    retries.note_reported(resp.headers());
                    return Ok(resp);
                }
                Err(e) => {
                    if let Some(span) = span {
                        span.end(provider.as_str(), attempt, Some(e.code().as_str()));
                    }
                    e
                }
            };
            if attempt >= policy.max_retries || !err.is_retryable() {
                return Err(err);
            }
            let wait = match err.retry_after() {
                Some(hint) if hint <= policy.max_retry_after => hint,
                _ => backoff(policy.initial_backoff, policy.max_backoff, attempt),
            };
            if Instant::now() + wait >= deadline {
                return Err(err);
            }
            attempt += 1;
            retries.record(err.code());
            tracing::warn!(
                provider = provider.as_str(),
                attempt,
                error_code = err.code().as_str(),
                delay_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "retrying upstream request"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Send `body` to `target` once, without retries (an optional side call such as a cache creation).
    pub(crate) async fn send_once(
        &self,
        target: &Target,
        body: Bytes,
        deadline: Instant,
    ) -> Result<reqwest::Response> {
        let (headers, span) = crate::trace::begin(&target.headers);
        let sent = self
            .attempt(target, &headers, Some(body), deadline, &RetryLog::default())
            .await;
        if let Some(span) = span {
            let error = sent.as_ref().err().map(|e| e.code().as_str());
            span.end(target.spec.provider.as_str(), 0, error);
        }
        sent
    }

    async fn attempt(
        &self,
        target: &Target,
        headers: &HeaderMap,
        body: Option<Bytes>,
        deadline: Instant,
        log: &RetryLog,
    ) -> Result<reqwest::Response> {
        let provider = target.spec.provider;
        let headers = if target.spec.auth == AuthStyle::SigV4 {
            super::sigv4::sign(target, headers, body.as_deref())?
        } else {
            headers.clone()
        };
        let request = match body {
            Some(b) => self.http(provider).post(target.url.clone()).body(b),
            None => self.http(provider).get(target.url.clone()),
        }
        .headers(headers);
        let first_byte = Instant::now() + target.timeouts.first_byte;
        let (limit, phase) = if first_byte < deadline {
            (first_byte, TimeoutPhase::FirstByte)
        } else {
            (deadline, TimeoutPhase::Total)
        };
        // Waiting on the upstream: from handing the request to the connection to its response head.
        let sent = Instant::now();
        let resp = tokio::time::timeout_at(limit.into(), request.send()).await;
        log.waited(sent.elapsed());
        let resp = match resp {
            Err(_) => return Err(Error::Timeout { provider, phase }),
            Ok(Err(e)) => return Err(transport_error(provider, &e)),
            Ok(Ok(resp)) => resp,
        };
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(upstream_error(target, resp, limit).await)
    }
}

/// Exponential backoff with full jitter in [base/2, base] for the given retry number.
fn backoff(initial: Duration, cap: Duration, attempt: u32) -> Duration {
    let exp = initial
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(cap);
    let half = exp / 2;
    half + half.mul_f64(fastrand::f64())
}

/// Classify a transport failure without leaking URLs with secrets.
pub(crate) fn transport_error(provider: ProviderId, e: &reqwest::Error) -> Error {
    if e.is_connect() {
        if e.is_timeout() {
            return Error::Timeout {
                provider,
                phase: TimeoutPhase::Connect,
            };
        }
        return Error::Connect {
            provider,
            message: describe(e),
        };
    }
    Error::Transport {
        provider,
        message: describe(e),
    }
}

/// A one-line description of a transport error: the innermost cause, no URL.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    scrub(&source.to_string(), &[])
}

/// Turn a non-2xx response into an `UpstreamError`, keeping the provider's body (scrubbed).
async fn upstream_error(target: &Target, resp: reqwest::Response, limit: Instant) -> Error {
    let provider = target.spec.provider;
    let status = resp.status().as_u16();
    let retry_after = retry_after(resp.headers());
    let should_retry = resp
        .headers()
        .get("x-should-retry")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.eq_ignore_ascii_case("true"));
    let raw = match tokio::time::timeout_at(limit.into(), resp.bytes()).await {
        Ok(Ok(b)) => String::from_utf8_lossy(&b[..b.len().min(MAX_ERROR_BODY)]).into_owned(),
        _ => String::new(),
    };
    let key = target.key.as_ref().map(|k| k.expose_secret().to_owned());
    let known: Vec<&str> = key.as_deref().into_iter().collect();
    let body = scrub(&raw, &known);
    let parsed = ErrorBody::parse(&body);
    let (code, retryable) = parsed.classify(status);
    let message = parsed.message.clone().unwrap_or_else(|| {
        let trimmed = body.trim();
        if trimmed.is_empty() {
            format!("HTTP {status}")
        } else {
            trimmed.chars().take(300).collect()
        }
    });
    Error::Upstream(Box::new(UpstreamError {
        provider,
        status,
        code,
        message: scrub(&message, &known),
        body: (!body.trim().is_empty()).then_some(body),
        retry_after,
        retryable: should_retry.unwrap_or(retryable),
    }))
}

/// `retry-after-ms` (milliseconds) first, then `retry-after` (seconds, float, or an HTTP date).
pub(crate) fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate_parse(value)?;
    Some(when.duration_since(SystemTime::now()).unwrap_or_default())
}

/// Parse an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate_parse(s: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = i64::try_from(months.iter().position(|m| m == month)? + 1).ok()?;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let [hh, mm, ss] = hms.as_slice() else {
        return None;
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("1.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        assert_eq!(
            httpdate_parse("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let (i, cap) = (Duration::from_millis(100), Duration::from_millis(300));
        for attempt in 0..6 {
            let d = backoff(i, cap, attempt);
            let exp = (i * 2u32.pow(attempt)).min(cap);
            assert!(d >= exp / 2 && d <= exp, "{attempt}: {d:?}");
        }
    }
}
