//! Trace hooks for upstream attempts: the gateway installs two functions, one that gives an attempt of a traced
//! request its W3C `traceparent` (sent upstream) and one that receives the finished attempt (a child span). Without
//! them (library users, the CLI) or for an untraced request, an attempt costs one pointer check and sends nothing.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::SystemTime;

use http::{HeaderMap, HeaderValue};

/// A traced attempt's identity, from [`Hooks::begin`].
#[derive(Debug, Clone)]
pub struct Begun {
    /// The attempt's span id (the parent the upstream sees).
    pub span_id: [u8; 8],
    /// The `traceparent` header value to send upstream.
    pub traceparent: HeaderValue,
}

/// One finished upstream attempt, handed to [`Hooks::end`].
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The span id from [`Begun`].
    pub span_id: [u8; 8],
    /// The provider asked (`gen_ai.provider.name`).
    pub provider: &'static str,
    /// 0 for the first try, then 1, 2, … for retries.
    pub attempt: u32,
    /// When the request was handed to the connection.
    pub started: SystemTime,
    /// When the response head (or the failure) arrived.
    pub ended: SystemTime,
    /// The error code when the attempt failed.
    pub error: Option<&'static str>,
}

/// The installed hooks (plain functions: they read the request being served from their own task-local state).
#[derive(Debug, Clone, Copy)]
pub struct Hooks {
    /// Called before each attempt; `Some` when the request being served is traced.
    pub begin: fn() -> Option<Begun>,
    /// Called after each traced attempt.
    pub end: fn(Attempt),
}

static HOOKS: OnceLock<Hooks> = OnceLock::new();

/// Install the hooks (the first call wins; later calls are ignored).
pub fn set_hooks(hooks: Hooks) {
    let _ = HOOKS.set(hooks);
}

/// An attempt being traced: its headers carry the trace context; [`Span::end`] reports it.
pub(crate) struct Span {
    begun: Begun,
    end: fn(Attempt),
    started: SystemTime,
}

/// Start an attempt: the headers to send (`base`, plus `traceparent` when traced) and the span to end, if traced.
pub(crate) fn begin(base: &HeaderMap) -> (Cow<'_, HeaderMap>, Option<Span>) {
    let Some(hooks) = HOOKS.get() else {
        return (Cow::Borrowed(base), None);
    };
    let Some(begun) = (hooks.begin)() else {
        return (Cow::Borrowed(base), None);
    };
    let mut headers = base.clone();
    headers.insert("traceparent", begun.traceparent.clone());
    let span = Span {
        begun,
        end: hooks.end,
        started: SystemTime::now(),
    };
    (Cow::Owned(headers), Some(span))
}

impl Span {
    /// Report the attempt as finished now.
    pub(crate) fn end(self, provider: &'static str, attempt: u32, error: Option<&'static str>) {
        (self.end)(Attempt {
            span_id: self.begun.span_id,
            provider,
            attempt,
            started: self.started,
            ended: SystemTime::now(),
            error,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_hooks_the_headers_are_borrowed_and_nothing_is_traced() {
        let mut base = HeaderMap::new();
        base.insert("x-a", HeaderValue::from_static("1"));
        // The test binary installs no hooks.
        let (h, span) = begin(&base);
        assert!(matches!(h, Cow::Borrowed(_)));
        assert!(span.is_none());
    }
}
