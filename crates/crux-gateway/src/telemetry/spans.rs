//! OTLP traces without a tracing layer: each request carries a small [`RequestTrace`] (ids, start time, finished
//! attempts), and when it ends its server span and one client child span per upstream attempt (retries and fallback
//! targets included) are built once, after the OpenTelemetry GenAI conventions, and handed to the SDK's batch
//! processor, which encodes and sends them from its own thread. Nothing is recorded per poll or per field.

use std::borrow::Cow;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue};
use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SpanData, SpanEvents, SpanLinks, SpanProcessor as _,
};

use crate::telemetry::record::Finalize;

/// Spans waiting for the exporter thread at most (beyond, new ones are dropped and counted by the SDK).
const MAX_QUEUE: usize = 8192;

/// The span pipeline: the SDK's batch processor over the counting OTLP/HTTP exporter.
#[derive(Debug)]
pub struct Spans {
    processor: BatchSpanProcessor,
    scope: InstrumentationScope,
}

impl Spans {
    /// Export to `{endpoint}/v1/traces` in batches, at most `delay` apart.
    pub fn new(
        exporter: impl opentelemetry_sdk::trace::SpanExporter + 'static,
        resource: &opentelemetry_sdk::Resource,
        delay: Duration,
    ) -> Self {
        let config = BatchConfigBuilder::default()
            .with_max_queue_size(MAX_QUEUE)
            .with_scheduled_delay(delay)
            .build();
        let mut processor = BatchSpanProcessor::builder(exporter)
            .with_batch_config(config)
            .build();
        processor.set_resource(resource);
        Self {
            processor,
            scope: InstrumentationScope::builder("crux").build(),
        }
    }

    /// Send what is queued now (tests, shutdown).
    pub fn flush(&self) {
        let _ = self.processor.force_flush();
    }

    /// Flush and stop the exporter thread.
    pub fn shutdown(&self) {
        let _ = self.processor.shutdown();
    }

    fn emit(&self, span: SpanData) {
        self.processor.on_end(span);
    }
}

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

    fn context(&self, span_id: SpanId) -> SpanContext {
        SpanContext::new(self.trace_id, span_id, self.flags, false, TraceState::NONE)
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
            let mut attributes = vec![
                KeyValue::new("gen_ai.provider.name", a.provider),
                KeyValue::new("crux.attempt", i64::from(a.attempt)),
            ];
            if let Some(f) = f {
                attributes.push(KeyValue::new("gen_ai.operation.name", f.operation));
            }
            let status = a.error.map_or(Status::Unset, |e| {
                attributes.push(KeyValue::new("error.type", e));
                Status::error(e)
            });
            spans.emit(self.data(
                spans,
                SpanId::from_bytes(a.span_id),
                self.span_id,
                SpanKind::Client,
                Cow::Borrowed(a.provider),
                (a.started, a.ended),
                attributes,
                status,
            ));
        }
        let (name, attributes, failed) = server_attributes(served, f);
        let status = if failed {
            Status::error(f.and_then(|f| f.error_code).unwrap_or("http error"))
        } else {
            Status::Unset
        };
        spans.emit(self.data(
            spans,
            self.span_id,
            self.parent.unwrap_or(SpanId::INVALID),
            SpanKind::Server,
            Cow::Owned(name),
            (self.started, ended),
            attributes,
            status,
        ));
    }

    #[allow(clippy::too_many_arguments)]
    fn data(
        &self,
        spans: &Spans,
        id: SpanId,
        parent: SpanId,
        kind: SpanKind,
        name: Cow<'static, str>,
        (start_time, end_time): (SystemTime, SystemTime),
        attributes: Vec<KeyValue>,
        status: Status,
    ) -> SpanData {
        SpanData {
            span_context: self.context(id),
            parent_span_id: parent,
            parent_span_is_remote: kind == SpanKind::Server && self.parent.is_some(),
            span_kind: kind,
            name,
            start_time,
            end_time,
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status,
            instrumentation_scope: spans.scope.clone(),
        }
    }
}

fn string(s: &str) -> Value {
    Value::String(StringValue::from(s.to_owned()))
}

/// The server span's name, attributes (GenAI conventions plus `crux.*`) and whether it failed.
fn server_attributes(s: &Served<'_>, f: Option<&Finalize>) -> (String, Vec<KeyValue>, bool) {
    let mut a = Vec::with_capacity(18);
    a.push(KeyValue::new("http.request.method", string(s.method)));
    a.push(KeyValue::new("url.path", string(s.path)));
    a.push(KeyValue::new(
        "http.response.status_code",
        i64::from(s.status),
    ));
    a.push(KeyValue::new("crux.request_id", string(s.request_id)));
    if let Some(id) = s.session_id {
        a.push(KeyValue::new("session.id", string(id)));
    }
    let Some(f) = f else {
        return (format!("{} {}", s.method, s.path), a, s.status >= 500);
    };
    let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    a.push(KeyValue::new("gen_ai.operation.name", f.operation));
    a.push(KeyValue::new("gen_ai.request.model", string(&f.model)));
    if let Some(p) = f.provider {
        a.push(KeyValue::new("gen_ai.provider.name", p));
    }
    if let Some(t) = &f.target {
        let model = t.split_once('/').map_or(t.as_str(), |(_, m)| m);
        a.push(KeyValue::new("gen_ai.response.model", string(model)));
    }
    if let Some(n) = f.prompt_tokens {
        a.push(KeyValue::new("gen_ai.usage.input_tokens", int(n)));
    }
    if let Some(n) = f.completion_tokens {
        a.push(KeyValue::new("gen_ai.usage.output_tokens", int(n)));
    }
    let reason = if f.error_code.is_some() {
        "error"
    } else {
        "stop"
    };
    a.push(KeyValue::new(
        "gen_ai.response.finish_reasons",
        Value::Array(vec![StringValue::from(reason)].into()),
    ));
    if let Some(code) = f.error_code {
        a.push(KeyValue::new("error.type", code));
    }
    if let Some(c) = f.cost_usd {
        a.push(KeyValue::new("crux.cost_usd", c));
    }
    a.push(KeyValue::new("crux.fallbacks", i64::from(f.fallbacks)));
    a.push(KeyValue::new(
        "crux.retries",
        i64::try_from(f.retries).unwrap_or(i64::MAX),
    ));
    a.push(KeyValue::new("crux.streamed", f.streamed));
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
        assert!(attrs.iter().any(|kv| kv.key.as_str() == "session.id"));
    }
}
