//! Error codes and the one error type of `crux-llm`, with classification from HTTP status and provider bodies.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::providers::ProviderId;
use crate::types::StreamMetrics;

/// Stable error codes (the original system's strings, plus `too_large` and `overloaded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Missing, invalid or forbidden credentials.
    Auth,
    /// Rate limited or out of quota.
    RateLimit,
    /// A timeout (connect, first byte, idle gap, total, or upstream 408/504).
    Timeout,
    /// The caller cancelled.
    Cancelled,
    /// A transient network or upstream failure (e.g. 502, a cut connection).
    Transient,
    /// The provider or model does not support the request.
    Unsupported,
    /// The request is invalid.
    Validation,
    /// Unknown model or resource.
    NotFound,
    /// Conflicting resource state (409).
    Conflict,
    /// Upstream server error (500).
    ServerError,
    /// A bug or unexpected state inside Crux.
    Internal,
    /// The upstream cannot be reached (connection refused, breaker open).
    Unavailable,
    /// Unclassified.
    Unknown,
    /// The input is too large for the model or the gateway.
    TooLarge,
    /// The upstream is overloaded (503, Anthropic 529).
    Overloaded,
}

impl ErrorCode {
    /// The stable string form.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Auth => "auth",
            ErrorCode::RateLimit => "rate_limit",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Transient => "transient",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::Validation => "validation",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::ServerError => "server_error",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Unknown => "unknown",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Overloaded => "overloaded",
        }
    }

    /// Whether a failure with this code may succeed when retried.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimit
                | ErrorCode::Timeout
                | ErrorCode::Transient
                | ErrorCode::Conflict
                | ErrorCode::ServerError
                | ErrorCode::Unavailable
                | ErrorCode::Overloaded
        )
    }

    /// Classify an upstream HTTP status.
    pub fn from_status(status: u16) -> ErrorCode {
        match status {
            400 | 422 => ErrorCode::Validation,
            401 | 403 => ErrorCode::Auth,
            402 => ErrorCode::RateLimit,
            404 => ErrorCode::NotFound,
            408 | 504 => ErrorCode::Timeout,
            409 => ErrorCode::Conflict,
            413 => ErrorCode::TooLarge,
            429 => ErrorCode::RateLimit,
            500 => ErrorCode::ServerError,
            502 => ErrorCode::Transient,
            503 | 529 => ErrorCode::Overloaded,
            501 | 505..=599 => ErrorCode::ServerError,
            _ => ErrorCode::Unknown,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which timeout fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Opening the connection.
    Connect,
    /// Waiting for the response head (or the whole non-stream body).
    FirstByte,
    /// The gap between two stream reads.
    Idle,
    /// The whole call.
    Total,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::FirstByte => "first byte",
            TimeoutPhase::Idle => "the next stream chunk",
            TimeoutPhase::Total => "the whole response",
        })
    }
}

/// A non-2xx answer from a provider.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamError {
    /// Who answered.
    pub provider: ProviderId,
    /// HTTP status.
    pub status: u16,
    /// Normalized class.
    pub code: ErrorCode,
    /// The provider's own message (secrets scrubbed).
    pub message: String,
    /// The provider's raw error body (secrets scrubbed), if any.
    pub body: Option<String>,
    /// Server-suggested wait before retrying.
    pub retry_after: Option<Duration>,
    /// Whether retrying can help (false for e.g. `insufficient_quota`).
    pub retryable: bool,
}

/// The error type of `crux-llm`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The provider answered with an error status.
    #[error("{} returned HTTP {}: {}", .0.provider, .0.status, .0.message)]
    Upstream(Box<UpstreamError>),
    /// The provider reported an error inside a successful response or stream.
    #[error("{provider} reported an error: {message}")]
    InBand {
        /// Who reported it.
        provider: ProviderId,
        /// Normalized class.
        code: ErrorCode,
        /// The provider's message (secrets scrubbed).
        message: String,
    },
    /// A timeout fired.
    #[error("{provider}: timed out waiting for {phase}")]
    Timeout {
        /// The provider.
        provider: ProviderId,
        /// Which timeout.
        phase: TimeoutPhase,
    },
    /// The connection could not be opened.
    #[error("{provider}: cannot connect: {message}")]
    Connect {
        /// The provider.
        provider: ProviderId,
        /// Transport detail.
        message: String,
    },
    /// The connection failed while reading or writing.
    #[error("{provider}: connection failed: {message}")]
    Transport {
        /// The provider.
        provider: ProviderId,
        /// Transport detail.
        message: String,
    },
    /// A stream closed before its wire terminator.
    #[error("{provider}: stream ended before its terminator (truncated response)")]
    Truncated {
        /// The provider.
        provider: ProviderId,
    },
    /// The provider's response could not be decoded.
    #[error("{provider}: invalid response: {message}")]
    Decode {
        /// The provider.
        provider: ProviderId,
        /// What was wrong.
        message: String,
    },
    /// The call was cancelled.
    #[error("request cancelled")]
    Cancelled,
    /// Missing key, bad base URL, or another configuration problem.
    #[error("{0}")]
    Config(String),
    /// The request cannot be expressed for this provider or model.
    #[error("{0}")]
    Unsupported(String),
    /// The caller may not use this target (a virtual key's model restriction); the router skips it.
    #[error("{0}")]
    Forbidden(String),
    /// The input does not fit the model's context window (or a configured input limit); rejected before sending.
    #[error("input too large for {model}: about {tokens} tokens, limit {limit}")]
    TooLarge {
        /// The model, `provider/model`.
        model: String,
        /// Counted (or estimated) input tokens, output reservation included.
        tokens: u64,
        /// The limit that was exceeded.
        limit: u64,
    },
    /// The terminal error of a stream, with the stream's metrics.
    #[error("{source}")]
    Stream {
        /// What failed.
        source: Box<Error>,
        /// Stream timings up to the failure.
        metrics: StreamMetrics,
    },
}

/// Shorthand result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The normalized code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Upstream(u) => u.code,
            Error::InBand { code, .. } => *code,
            Error::Timeout { .. } => ErrorCode::Timeout,
            Error::Connect { .. } => ErrorCode::Unavailable,
            Error::Transport { .. } | Error::Truncated { .. } => ErrorCode::Transient,
            Error::Decode { .. } => ErrorCode::ServerError,
            Error::Cancelled => ErrorCode::Cancelled,
            Error::Config(_) => ErrorCode::Validation,
            Error::Unsupported(_) => ErrorCode::Unsupported,
            Error::Forbidden(_) => ErrorCode::Auth,
            Error::TooLarge { .. } => ErrorCode::TooLarge,
            Error::Stream { source, .. } => source.code(),
        }
    }

    /// Whether the failed call may be retried (before anything was streamed).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Upstream(u) => u.retryable,
            // A connect timeout is cheap to retry; a hung upstream (no first byte) is not: retrying it would cost
            // (1 + retries) × first_byte before the caller hears anything, so it falls back to the next target.
            Error::Timeout { phase, .. } => *phase == TimeoutPhase::Connect,
            Error::Connect { .. } => true,
            Error::Stream { .. } | Error::InBand { .. } | Error::Decode { .. } => false,
            other => other.code().is_retryable(),
        }
    }

    /// The upstream HTTP status, if the provider answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Upstream(u) => Some(u.status),
            Error::Stream { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The server's retry hint, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Upstream(u) => u.retry_after,
            Error::Stream { source, .. } => source.retry_after(),
            _ => None,
        }
    }

    /// Stream metrics carried by a stream's terminal error.
    pub fn metrics(&self) -> Option<&StreamMetrics> {
        match self {
            Error::Stream { metrics, .. } => Some(metrics),
            _ => None,
        }
    }

    /// The error without its stream wrapper.
    pub fn root(&self) -> &Error {
        match self {
            Error::Stream { source, .. } => source.root(),
            other => other,
        }
    }

    /// The upstream error details, if the provider answered with an error status.
    pub fn upstream(&self) -> Option<&UpstreamError> {
        match self.root() {
            Error::Upstream(u) => Some(u),
            _ => None,
        }
    }
}

/// Facts extracted from a provider error body, whatever its dialect.
#[derive(Debug, Default, PartialEq)]
pub struct ErrorBody {
    /// Human-readable message.
    pub message: Option<String>,
    /// Machine code or type (`rate_limit_exceeded`, `overloaded_error`, `API_KEY_INVALID`, `429`...).
    pub codes: Vec<String>,
}

impl ErrorBody {
    /// Read the message and codes out of an OpenAI, OpenRouter, Mistral, Anthropic, Gemini or Ollama error body.
    pub fn parse(body: &str) -> ErrorBody {
        let Ok(v) = serde_json::from_str::<Value>(body.trim()) else {
            return ErrorBody::default();
        };
        let mut out = ErrorBody::default();
        let err = v.get("error").unwrap_or(&v);
        match err {
            Value::String(s) => out.message = Some(s.clone()),
            Value::Object(_) => {
                out.message = err
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                for key in ["code", "type", "status"] {
                    match err.get(key) {
                        Some(Value::String(s)) => out.codes.push(s.clone()),
                        Some(Value::Number(n)) => out.codes.push(n.to_string()),
                        _ => {}
                    }
                }
                if let Some(details) = err.get("details").and_then(Value::as_array) {
                    out.codes.extend(
                        details
                            .iter()
                            .filter_map(|d| d.get("reason").and_then(Value::as_str))
                            .map(str::to_owned),
                    );
                }
            }
            _ => {}
        }
        out
    }

    /// Refine a status-derived code with the body's machine codes.
    pub fn classify(&self, status: u16) -> (ErrorCode, bool) {
        let has = |c: &str| self.codes.iter().any(|x| x == c);
        let code =
            if has("API_KEY_INVALID") || has("invalid_api_key") || has("authentication_error") {
                ErrorCode::Auth
            } else if has("context_length_exceeded") || has("request_too_large") {
                ErrorCode::TooLarge
            } else if has("overloaded_error") {
                ErrorCode::Overloaded
            } else {
                ErrorCode::from_status(status)
            };
        let permanent = has("insufficient_quota") || has("billing_error") || status == 402;
        (code, code.is_retryable() && !permanent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classification() {
        assert_eq!(ErrorCode::from_status(401), ErrorCode::Auth);
        assert_eq!(ErrorCode::from_status(429), ErrorCode::RateLimit);
        assert_eq!(ErrorCode::from_status(529), ErrorCode::Overloaded);
        assert_eq!(ErrorCode::from_status(502), ErrorCode::Transient);
        assert!(ErrorCode::from_status(500).is_retryable());
        assert!(!ErrorCode::from_status(400).is_retryable());
    }

    #[test]
    fn openrouter_numeric_code_and_quota() {
        let body = ErrorBody::parse(r#"{"error":{"code":402,"message":"Insufficient credits"}}"#);
        assert_eq!(body.message.as_deref(), Some("Insufficient credits"));
        assert_eq!(body.codes, vec!["402"]);
        assert_eq!(body.classify(402), (ErrorCode::RateLimit, false));
        let quota = ErrorBody::parse(
            r#"{"error":{"message":"q","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        );
        assert_eq!(quota.classify(429), (ErrorCode::RateLimit, false));
    }

    #[test]
    fn gemini_invalid_key_is_auth() {
        let body = ErrorBody::parse(
            r#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}"#,
        );
        assert_eq!(body.classify(400).0, ErrorCode::Auth);
    }

    #[test]
    fn mistral_and_ollama_shapes() {
        let m = ErrorBody::parse(
            r#"{"object":"error","message":"bad","type":"invalid_request_error","code":"3280"}"#,
        );
        assert_eq!(m.message.as_deref(), Some("bad"));
        let o = ErrorBody::parse(r#"{"error":"model 'x' not found"}"#);
        assert_eq!(o.message.as_deref(), Some("model 'x' not found"));
        assert_eq!(ErrorBody::parse("<html>"), ErrorBody::default());
    }

    #[test]
    fn stream_wrapper_delegates() {
        let e = Error::Stream {
            source: Box::new(Error::Truncated {
                provider: ProviderId::OpenAi,
            }),
            metrics: StreamMetrics::default(),
        };
        assert_eq!(e.code(), ErrorCode::Transient);
        assert!(e.metrics().is_some());
        assert!(e.to_string().contains("truncated"));
    }
}
