//! Wire-neutral error model: what went wrong, independent of how a provider wire renders it.

/// The class of an error, which each wire maps to its own `type`/`code` vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// 400 / 422: malformed request or bad parameter.
    InvalidRequest,
    /// 401: missing or invalid credentials.
    Authentication,
    /// 403: no access to the resource.
    Permission,
    /// 404: unknown model or route.
    NotFound,
    /// 408: request timed out.
    Timeout,
    /// 409: conflicting resource state.
    Conflict,
    /// 429: rate limited.
    RateLimit,
    /// 500 and other 5xx: internal failure.
    Server,
    /// 502 / 503: upstream overloaded or unavailable.
    Unavailable,
    /// 529: provider overloaded.
    Overloaded,
}

impl ErrorKind {
    /// The realistic kind for an HTTP status.
    pub(crate) fn for_status(status: u16) -> Self {
        match status {
            401 => Self::Authentication,
            403 => Self::Permission,
            404 => Self::NotFound,
            408 => Self::Timeout,
            409 => Self::Conflict,
            429 => Self::RateLimit,
            502 | 503 => Self::Unavailable,
            529 => Self::Overloaded,
            s if s >= 500 => Self::Server,
            _ => Self::InvalidRequest,
        }
    }
}

/// An error response to render on some wire.
#[derive(Clone, Debug)]
pub(crate) struct MockError {
    /// HTTP status to answer with.
    pub status: u16,
    /// Error class.
    pub kind: ErrorKind,
    /// Human-readable message.
    pub message: String,
    /// The offending request parameter, when known.
    pub param: Option<String>,
    /// A machine code overriding the wire's default for `kind` (OpenAI `unsupported_parameter`).
    pub code: Option<&'static str>,
    /// Extra response headers (e.g. `retry-after`).
    pub headers: Vec<(String, String)>,
}

impl MockError {
    /// A 400 invalid-request error.
    pub(crate) fn invalid(message: impl Into<String>, param: Option<&str>) -> Self {
        Self {
            status: 400,
            kind: ErrorKind::InvalidRequest,
            message: message.into(),
            param: param.map(str::to_owned),
            code: None,
            headers: Vec::new(),
        }
    }

    /// A 401 authentication error.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            status: 401,
            kind: ErrorKind::Authentication,
            message: message.into(),
            param: None,
            code: None,
            headers: Vec::new(),
        }
    }

    /// The error a scripted `status=CODE` fault produces.
    pub(crate) fn scripted(status: u16, headers: Vec<(String, String)>) -> Self {
        let kind = ErrorKind::for_status(status);
        let what = match kind {
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::Authentication => "incorrect API key provided",
            ErrorKind::Permission => "you do not have access to this resource",
            ErrorKind::NotFound => "the model does not exist or you do not have access to it",
            ErrorKind::Timeout => "request timed out",
            ErrorKind::Conflict => "conflicting request",
            ErrorKind::RateLimit => "rate limit reached for requests",
            ErrorKind::Server => "the server had an error while processing your request",
            ErrorKind::Unavailable => "the engine is currently overloaded, please try again later",
            ErrorKind::Overloaded => "overloaded",
        };
        Self {
            status,
            kind,
            message: format!("mock fault: HTTP {status}: {what}"),
            param: None,
            code: None,
            headers,
        }
    }
}
