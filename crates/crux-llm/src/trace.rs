//! Trace context for upstream requests: the gateway installs one function that writes the current span's W3C
//! `traceparent` into each upstream attempt's headers. Without it (library users, tests) nothing is added.

use std::sync::OnceLock;

static INJECTOR: OnceLock<fn(&mut http::HeaderMap)> = OnceLock::new();

/// Install the header injector (the first call wins; later calls are ignored).
pub fn set_injector(f: fn(&mut http::HeaderMap)) {
    let _ = INJECTOR.set(f);
}

/// The headers to send for one attempt: `base` plus the trace context when an injector is installed.
pub(crate) fn with_context(base: &http::HeaderMap) -> std::borrow::Cow<'_, http::HeaderMap> {
    match INJECTOR.get() {
        Some(inject) => {
            let mut h = base.clone();
            inject(&mut h);
            std::borrow::Cow::Owned(h)
        }
        None => std::borrow::Cow::Borrowed(base),
    }
}
