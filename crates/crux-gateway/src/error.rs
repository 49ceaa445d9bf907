//! Gateway errors and their rendering in the caller's dialect (OpenAI, Anthropic or the native `/api` envelope).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crux_llm::{Error, ErrorCode};
use serde_json::json;

/// Which API shape the caller speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `/v1/chat/completions`, `/v1/models`, `/v1/embeddings`.
    OpenAi,
    /// `/v1/messages`.
    Anthropic,
    /// `/api/*`.
    Native,
}

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status (before dialect adjustments such as Anthropic's 529).
    pub status: StatusCode,
    /// Normalized code.
    pub code: ErrorCode,
    /// Human-readable message (upstream messages pass through; secrets are already scrubbed).
    pub message: String,
    /// Seconds to wait before retrying.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status and code.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    /// 400 validation.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::Validation, message)
    }
    /// 401 missing or bad client key.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Auth, message)
    }
    /// 403 forbidden.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Auth, message)
    }
    /// 404 unknown model, provider or route.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }
    /// 429 with a retry hint.
    pub fn rate_limited(message: impl Into<String>, retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimit, message)
        }
    }

    /// Render in `dialect`.
    pub fn render(&self, dialect: Dialect) -> Response {
        let mut status = self.status;
        let body = match dialect {
            Dialect::OpenAi => {
                let kind = match status.as_u16() {
                    401 => "authentication_error",
                    403 => "permission_error",
                    404 => "not_found_error",
                    429 => "rate_limit_error",
                    400..=499 => "invalid_request_error",
                    _ => "api_error",
                };
                json!({"error": {"message": self.message, "type": kind, "param": null, "code": self.code.as_str()}})
            }
            Dialect::Anthropic => {
                if self.code == ErrorCode::Overloaded {
                    status = StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                }
                let kind = match status.as_u16() {
                    401 => "authentication_error",
                    403 => "permission_error",
                    404 => "not_found_error",
                    413 => "request_too_large",
                    429 => "rate_limit_error",
                    529 => "overloaded_error",
                    400..=499 => "invalid_request_error",
                    _ => "api_error",
                };
                json!({"type": "error", "error": {"type": kind, "message": self.message}})
            }
            Dialect::Native => {
                json!({"ok": false, "error": {"code": self.code.as_str(), "message": self.message}})
            }
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<&Error> for ApiError {
    fn from(e: &Error) -> Self {
        let code = e.code();
        let status = match (e.root(), code) {
            (Error::Config(_), _) => StatusCode::BAD_GATEWAY,
            (_, ErrorCode::Validation | ErrorCode::Unsupported) => StatusCode::BAD_REQUEST,
            (_, ErrorCode::NotFound) => StatusCode::NOT_FOUND,
            (_, ErrorCode::TooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            (_, ErrorCode::RateLimit) => StatusCode::TOO_MANY_REQUESTS,
            (_, ErrorCode::Timeout) => StatusCode::GATEWAY_TIMEOUT,
            (_, ErrorCode::Overloaded) => StatusCode::SERVICE_UNAVAILABLE,
            (_, ErrorCode::Internal) => StatusCode::INTERNAL_SERVER_ERROR,
            (_, ErrorCode::Cancelled) => {
                StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST)
            }
            // Upstream auth failures are the gateway's credentials, not the caller's: an upstream failure.
            _ => StatusCode::BAD_GATEWAY,
        };
        let code = match (e.root(), code) {
            (Error::Config(_), _) => ErrorCode::Unavailable,
            _ => code,
        };
        Self {
            status,
            code,
            message: e.to_string(),
            retry_after: e
                .retry_after()
                .map(|d| d.as_secs().max(1))
                .or((code == ErrorCode::RateLimit).then_some(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_shapes() {
        let e = ApiError::rate_limited("slow down", 3);
        let r = e.render(Dialect::OpenAi);
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "3");
        let overloaded = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Overloaded,
            "busy",
        );
        assert_eq!(overloaded.render(Dialect::Anthropic).status().as_u16(), 529);
        assert_eq!(overloaded.render(Dialect::OpenAi).status().as_u16(), 503);
    }

    #[test]
    fn upstream_errors_map_to_gateway_statuses() {
        let timeout = Error::Timeout {
            provider: crux_llm::ProviderId::OpenAi,
            phase: crux_llm::error::TimeoutPhase::FirstByte,
        };
        assert_eq!(ApiError::from(&timeout).status, StatusCode::GATEWAY_TIMEOUT);
        let cut = Error::Transport {
            provider: crux_llm::ProviderId::OpenAi,
            message: "reset".into(),
        };
        assert_eq!(ApiError::from(&cut).status, StatusCode::BAD_GATEWAY);
        let missing = Error::Config("no API key for groq: set GROQ_API_KEY".into());
        let e = ApiError::from(&missing);
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_GATEWAY, ErrorCode::Unavailable)
        );
    }
}
