//! The OTLP/HTTP span exporter: finished spans go, as compact [`SpanRecord`]s, into a bounded queue that a thread of
//! its own drains in batches, turns into the official OTLP protobuf messages and POSTs to `{endpoint}/v1/traces`.
//! A request only pushes onto the queue (it wakes the thread once per full batch, never per span); a full queue drops
//! the span and counts it; a failed export is counted in `crux_exporter_failures_total{exporter="otlp_traces"}`.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status};
use prost::Message as _;

pub use opentelemetry_proto::tonic::trace::v1::span::SpanKind;

use crate::telemetry::catalog::Exporter;
use crate::telemetry::export_failed;

/// Spans waiting for the exporter thread at most (beyond, new ones are dropped and counted).
const MAX_QUEUE: usize = 8192;
/// Spans per export request; a full batch wakes the thread before its delay is up.
const BATCH: usize = 512;
/// Longest wait for a flush or shutdown to finish.
const WAIT: Duration = Duration::from_secs(10);

/// An attribute value, kept as cheap as the request can make it.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A string the request owns.
    Str(String),
    /// A fixed string.
    Static(&'static str),
    /// An integer.
    Int(i64),
    /// A float.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// A one-element string array (finish reasons).
    List(&'static str),
}

/// A finished span as the request hands it over.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    /// The trace id.
    pub trace_id: [u8; 16],
    /// This span's id.
    pub span_id: [u8; 8],
    /// The parent span's id, if any.
    pub parent: Option<[u8; 8]>,
    /// Whether the parent is the caller's (remote) span.
    pub remote_parent: bool,
    /// W3C trace flags.
    pub flags: u8,
    /// Server (the request) or client (an upstream attempt).
    pub kind: SpanKind,
    /// The span name.
    pub name: Cow<'static, str>,
    /// Start and end.
    pub times: (SystemTime, SystemTime),
    /// Attributes, keyed by convention names.
    pub attributes: Vec<(&'static str, Val)>,
    /// The error that ended it, if any.
    pub error: Option<&'static str>,
}

enum Ctl {
    Wake,
    Flush(SyncSender<()>),
    Stop(SyncSender<()>),
}

/// The span pipeline: the queue and its exporter thread.
#[derive(Debug)]
pub struct Spans {
    queue: SyncSender<SpanRecord>,
    ctl: Sender<Ctl>,
    pending: AtomicUsize,
}

static DROPPED: AtomicU64 = AtomicU64::new(0);

impl Spans {
    /// Start the exporter thread posting to `url` with `client`, at most `delay` after a span ends.
    pub fn start(
        url: String,
        client: reqwest::blocking::Client,
        service_name: &str,
        delay: Duration,
    ) -> std::io::Result<Self> {
        let (queue, spans) = mpsc::sync_channel(MAX_QUEUE);
        let (ctl, ctl_rx) = mpsc::channel();
        let sink = Sink {
            url,
            client,
            resource: Resource {
                attributes: vec![
                    attr("service.name", Val::Str(service_name.to_owned())),
                    attr("telemetry.sdk.language", Val::Static("rust")),
                    attr("telemetry.sdk.name", Val::Static("crux")),
                ],
                ..Resource::default()
            },
            reported: 0,
        };
        std::thread::Builder::new()
            .name("crux-otlp-spans".into())
            .spawn(move || sink.run(&spans, &ctl_rx, delay))?;
        Ok(Self {
            queue,
            ctl,
            pending: AtomicUsize::new(0),
        })
    }

    /// Queue a finished span (dropped and counted when the queue is full or the thread is gone).
    pub fn emit(&self, span: SpanRecord) {
        match self.queue.try_send(span) {
            Ok(()) => {
                if self.pending.fetch_add(1, Ordering::Relaxed) + 1 == BATCH {
                    self.pending.store(0, Ordering::Relaxed);
                    let _ = self.ctl.send(Ctl::Wake);
                }
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Send what is queued now and wait for it (tests, shutdown).
    pub fn flush(&self) {
        self.call(Ctl::Flush);
    }

    /// Flush and stop the exporter thread.
    pub fn shutdown(&self) {
        self.call(Ctl::Stop);
    }

    fn call(&self, msg: fn(SyncSender<()>) -> Ctl) {
        let (done, wait) = mpsc::sync_channel(1);
        if self.ctl.send(msg(done)).is_ok() {
            let _ = wait.recv_timeout(WAIT);
        }
    }
}

/// Spans dropped because the queue was full, so far.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

struct Sink {
    url: String,
    client: reqwest::blocking::Client,
    resource: Resource,
    /// Dropped spans already reported in the log.
    reported: u64,
}

impl Sink {
    fn run(mut self, spans: &Receiver<SpanRecord>, ctl: &Receiver<Ctl>, delay: Duration) {
        let mut due = Instant::now() + delay;
        loop {
            let msg = ctl.recv_timeout(due.saturating_duration_since(Instant::now()));
            if matches!(msg, Err(RecvTimeoutError::Timeout)) {
                due = Instant::now() + delay;
            }
            let mut batch = Vec::new();
            while let Ok(s) = spans.try_recv() {
                batch.push(s);
                if batch.len() == BATCH {
                    self.export(std::mem::take(&mut batch));
                }
            }
            self.export(batch);
            match msg {
                Ok(Ctl::Wake) | Err(RecvTimeoutError::Timeout) => {}
                Ok(Ctl::Flush(done)) => {
                    let _ = done.send(());
                }
                Ok(Ctl::Stop(done)) => {
                    let _ = done.send(());
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn export(&mut self, batch: Vec<SpanRecord>) {
        let dropped = dropped();
        if dropped > self.reported {
            tracing::warn!(
                dropped = dropped - self.reported,
                "OTLP spans dropped: the export queue was full"
            );
            self.reported = dropped;
        }
        if batch.is_empty() {
            return;
        }
        let body = request(self.resource.clone(), batch).encode_to_vec();
        let sent = self
            .client
            .post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/x-protobuf")
            .body(body)
            .send();
        let failure = match sent {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => r.status().to_string(),
            Err(e) => e.without_url().to_string(),
        };
        export_failed(Exporter::OtlpTraces);
        tracing::warn!(error = %failure, "OTLP span export failed");
    }
}

/// One export request: the resource, the `crux` scope and these spans.
fn request(resource: Resource, batch: Vec<SpanRecord>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "crux".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    ..InstrumentationScope::default()
                }),
                spans: batch.into_iter().map(span).collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// `flags` bits 8 and 9 of an OTLP span: whether the parent's remoteness is known, and that it is remote.
const HAS_IS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

fn span(r: SpanRecord) -> Span {
    let remote = if r.remote_parent { IS_REMOTE } else { 0 };
    Span {
        trace_id: r.trace_id.to_vec(),
        span_id: r.span_id.to_vec(),
        parent_span_id: r.parent.map(|p| p.to_vec()).unwrap_or_default(),
        flags: u32::from(r.flags) | HAS_IS_REMOTE | remote,
        name: r.name.into_owned(),
        kind: r.kind as i32,
        start_time_unix_nano: nanos(r.times.0),
        end_time_unix_nano: nanos(r.times.1),
        attributes: r.attributes.into_iter().map(|(k, v)| attr(k, v)).collect(),
        status: r.error.map(|e| Status {
            message: e.to_owned(),
            code: status::StatusCode::Error as i32,
        }),
        ..Span::default()
    }
}

fn attr(key: &str, v: Val) -> KeyValue {
    let value = match v {
        Val::Str(s) => any_value::Value::StringValue(s),
        Val::Static(s) => any_value::Value::StringValue(s.to_owned()),
        Val::Int(n) => any_value::Value::IntValue(n),
        Val::F64(x) => any_value::Value::DoubleValue(x),
        Val::Bool(b) => any_value::Value::BoolValue(b),
        Val::List(s) => any_value::Value::ArrayValue(ArrayValue {
            values: vec![AnyValue {
                value: Some(any_value::Value::StringValue(s.to_owned())),
            }],
        }),
    };
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(parent: Option<[u8; 8]>, remote: bool) -> SpanRecord {
        SpanRecord {
            trace_id: [7; 16],
            span_id: [1; 8],
            parent,
            remote_parent: remote,
            flags: 1,
            kind: SpanKind::Server,
            name: Cow::Borrowed("chat gpt"),
            times: (
                UNIX_EPOCH + Duration::from_secs(1),
                UNIX_EPOCH + Duration::from_secs(2),
            ),
            attributes: vec![
                ("gen_ai.request.model", Val::Str("gpt".into())),
                ("crux.retries", Val::Int(2)),
                ("gen_ai.response.finish_reasons", Val::List("stop")),
            ],
            error: Some("upstream_error"),
        }
    }

    #[test]
    fn a_record_becomes_an_otlp_span_that_decodes_back() {
        let batch = vec![record(Some([9; 8]), true), record(None, false)];
        let bytes = request(Resource::default(), batch).encode_to_vec();
        let back = ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap();
        let spans = &back.resource_spans[0].scope_spans[0].spans;
        assert_eq!(spans.len(), 2);
        let s = &spans[0];
        assert_eq!(s.trace_id, vec![7; 16]);
        assert_eq!(s.parent_span_id, vec![9; 8]);
        assert_eq!(s.flags, 0x301);
        assert_eq!(spans[1].flags, 0x101);
        assert!(spans[1].parent_span_id.is_empty());
        assert_eq!(s.kind, SpanKind::Server as i32);
        assert_eq!(s.start_time_unix_nano, 1_000_000_000);
        assert_eq!(s.end_time_unix_nano, 2_000_000_000);
        assert_eq!(
            s.status.as_ref().map(|st| st.code),
            Some(status::StatusCode::Error as i32)
        );
        let reasons = s
            .attributes
            .iter()
            .find(|kv| kv.key == "gen_ai.response.finish_reasons")
            .and_then(|kv| kv.value.clone()?.value);
        assert!(
            matches!(reasons, Some(any_value::Value::ArrayValue(a)) if a.values.len() == 1),
            "finish reasons are a string array"
        );
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let (queue, _spans) = mpsc::sync_channel(1);
        let (ctl, _ctl_rx) = mpsc::channel();
        let s = Spans {
            queue,
            ctl,
            pending: AtomicUsize::new(0),
        };
        let before = dropped();
        s.emit(record(None, false));
        s.emit(record(None, false));
        assert_eq!(dropped() - before, 1);
    }
}
