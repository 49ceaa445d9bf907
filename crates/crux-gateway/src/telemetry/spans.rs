//! OTLP traces without a tracing layer: each request carries a small [`RequestTrace`] (ids, start time, finished
//! attempts), and when it ends its server span and one client child span per upstream attempt (retries and fallback
//! targets included) are built once, after the OpenTelemetry GenAI conventions, and handed to the exporter thread of
//! [`super::span_export`], which encodes and sends them. Nothing is recorded per poll or per field.

use std::borrow::Cow;
use std::sync::Mutex;
use std::time::SystemTime;

use http::{HeaderMap, HeaderValue};
use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId};
use opentelemetry_sdk::propagation::TraceContextPropagator;

use crate::telemetry::record::Finalize;
use crate::telemetry::span_export::{SpanKind, SpanRecord, Spans, Val};

/// Request headers as the W3C propagator reads them.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// A request's trace: its ids (parented on the caller's `traceparent` when one came), its start and its attempts.
#[derive(Debug)]
pub struct RequestTrace {
    trace_id: TraceId,
    span_id: SpanId,
    parent: Option<SpanId>,
    flags: TraceFlags,
    started: SystemTime,
    attempts: Mutex<Vec<crux_llm::trace::Attempt>>,
}

fn new_span_id() -> SpanId {
    SpanId::from(fastrand::u64(1..))
}

/// What the request span describes besides the finalize record.
pub struct Served<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// URL path (truncated).
    pub path: &'a str,
    /// The request id.
    pub request_id: &'a str,
    /// The caller's session id, if given.
    pub session_id: Option<&'a str>,
    /// The response status (499 when the client left).
    pub status: u16,
}

impl RequestTrace {
    /// A trace for a request with these headers: the caller's trace continues when it sent a valid `traceparent`.
    pub fn start(headers: &HeaderMap) -> Self {
        let caller = headers
            .contains_key("traceparent")
            .then(|| {
                let cx = TraceContextPropagator::new().extract(&Headers(headers));
                cx.span().span_context().clone()
            })
            .filter(SpanContext::is_valid);
        let (trace_id, parent, flags) = match caller {
            Some(c) => (c.trace_id(), Some(c.span_id()), c.trace_flags()),
            None => (
                TraceId::from(fastrand::u128(1..)),
                None,
                TraceFlags::SAMPLED,
            ),
        };
        Self {
            trace_id,
            span_id: new_span_id(),
            parent,
            flags,
            started: SystemTime::now(),
            attempts: Mutex::new(Vec::new()),
        }
    }

    /// A new attempt's span id and the `traceparent` to send upstream with it.
    pub fn child(&self) -> Option<crux_llm::trace::Begun> {
        let id = new_span_id();
        let value = format!("00-{}-{}-{:02x}", self.trace_id, id, self.flags.to_u8());
        Some(crux_llm::trace::Begun {
            span_id: id.to_bytes(),
            traceparent: HeaderValue::from_str(&value).ok()?,
        })
    }

    /// Keep a finished attempt for the request's end.
    pub fn push(&self, attempt: crux_llm::trace::Attempt) {
        if let Ok(mut a) = self.attempts.lock() {
            a.push(attempt);
        }
    }

    /// Build the request's spans and queue them for export (nothing when the caller's trace is not sampled).
    pub fn finish(&self, spans: &Spans, served: &Served<'_>, f: Option<&Finalize>) {
        if !self.flags.is_sampled() {
            return;
        }
        let ended = SystemTime::now();
        let attempts = self
            .attempts
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default();
        for a in attempts {
            let mut attributes = Vec::with_capacity(4);
            attributes.push(("gen_ai.provider.name", Val::Static(a.provider)));
            attributes.push(("crux.attempt", Val::Int(i64::from(a.attempt))));
            if let Some(f) = f {
                attributes.push(("gen_ai.operation.name", Val::Static(f.operation)));
            }
            if let Some(e) = a.error {
                attributes.push(("error.type", Val::Static(e)));
            }
            spans.emit(self.record(
                a.span_id,
                Some(self.span_id.to_bytes()),
                SpanKind::Client,
                Cow::Borrowed(a.provider),
                (a.started, a.ended),
                attributes,
                a.error,
            ));
        }
        let (name, attributes, failed) = server_attributes(served, f);
        let error = failed.then(|| f.and_then(|f| f.error_code).unwrap_or("http error"));
        spans.emit(self.record(
            self.span_id.to_bytes(),
            self.parent.map(SpanId::to_bytes),
            SpanKind::Server,
            Cow::Owned(name),
            (self.started, ended),
            attributes,
            error,
        ));
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        span_id: [u8; 8],
        parent: Option<[u8; 8]>,
        kind: SpanKind,
        name: Cow<'static, str>,
        times: (SystemTime, SystemTime),
        attributes: Vec<(&'static str, Val)>,
        error: Option<&'static str>,
    ) -> SpanRecord {
        SpanRecord {
            trace_id: self.trace_id.to_bytes(),
            span_id,
            parent,
            remote_parent: kind == SpanKind::Server && self.parent.is_some(),
            flags: self.flags.to_u8(),
            kind,
            name,
            times,
            attributes,
            error,
        }
    }
}

fn string(s: &str) -> Val {
    Val::Str(s.to_owned())
}

/// The server span's name, attributes (GenAI conventions plus `crux.*`) and whether it failed.
fn server_attributes(
    s: &Served<'_>,
    f: Option<&Finalize>,
) -> (String, Vec<(&'static str, Val)>, bool) {
    let mut a = Vec::with_capacity(18);
    a.push(("http.request.method", string(s.method)));
    a.push(("url.path", string(s.path)));
    a.push(("http.response.status_code", Val::Int(i64::from(s.status))));
    a.push(("crux.request_id", string(s.request_id)));
    if let Some(id) = s.session_id {
        a.push(("session.id", string(id)));
    }
    let Some(f) = f else {
        return (format!("{} {}", s.method, s.path), a, s.status >= 500);
    };
    let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    a.push(("gen_ai.operation.name", Val::Static(f.operation)));
    a.push(("gen_ai.request.model", string(&f.model)));
    if let Some(p) = f.provider {
        a.push(("gen_ai.provider.name", Val::Static(p)));
    }
    if let Some(t) = &f.target {
        let model = t.split_once('/').map_or(t.as_str(), |(_, m)| m);
        a.push(("gen_ai.response.model", string(model)));
    }
    if let Some(n) = f.prompt_tokens {
        a.push(("gen_ai.usage.input_tokens", Val::Int(int(n))));
    }
    if let Some(n) = f.completion_tokens {
        a.push(("gen_ai.usage.output_tokens", Val::Int(int(n))));
    }
    let reason = if f.error_code.is_some() {
        "error"
    } else {
        "stop"
    };
    a.push(("gen_ai.response.finish_reasons", Val::List(reason)));
    if let Some(code) = f.error_code {
        a.push(("error.type", Val::Static(code)));
    }
    if let Some(c) = f.cost_usd {
        a.push(("crux.cost_usd", Val::F64(c)));
    }
    a.push(("crux.fallbacks", Val::Int(i64::from(f.fallbacks))));
    a.push((
        "crux.retries",
        Val::Int(i64::try_from(f.retries).unwrap_or(i64::MAX)),
    ));
    a.push(("crux.streamed", Val::Bool(f.streamed)));
    let failed = f.error_code.is_some() || s.status >= 500;
    (format!("{} {}", f.operation, f.model), a, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_traceparent_is_continued_and_its_sampling_kept() {
        let mut h = HeaderMap::new();
        h.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
        );
        let t = RequestTrace::start(&h);
        assert_eq!(t.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(t.parent, Some(SpanId::from(0x00f0_67aa_0ba9_02b7)));
        let child = t.child().unwrap();
        let tp = child.traceparent.to_str().unwrap();
        assert!(
            tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "{tp}"
        );
        assert!(tp.ends_with("-00"), "not sampled stays not sampled: {tp}");
        assert!(!tp.contains("00f067aa0ba902b7"));
    }

    #[test]
    fn without_or_with_a_broken_traceparent_a_new_sampled_trace_starts() {
        let mut h = HeaderMap::new();
        h.insert("traceparent", HeaderValue::from_static("00-zz-yy-01"));
        for headers in [HeaderMap::new(), h] {
            let t = RequestTrace::start(&headers);
            assert_ne!(t.trace_id, TraceId::INVALID);
            assert!(t.parent.is_none());
            assert!(t.flags.is_sampled());
            assert!(
                t.child()
                    .unwrap()
                    .traceparent
                    .to_str()
                    .unwrap()
                    .ends_with("-01")
            );
        }
    }

    #[test]
    fn a_request_without_finalize_is_named_by_route_and_fails_on_5xx() {
        let s = Served {
            method: "GET",
            path: "/nope",
            request_id: "r1",
            session_id: Some("s1"),
            status: 503,
        };
        let (name, attrs, failed) = server_attributes(&s, None);
        assert_eq!(name, "GET /nope");
        assert!(failed);
        assert!(attrs.iter().any(|(k, _)| *k == "session.id"));
    }
}
