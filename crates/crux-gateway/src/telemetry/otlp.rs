//! OTLP/HTTP (protobuf) exporters: a tracer provider for the `tracing` layer (one span per request after the GenAI
//! semantic conventions, a child span per upstream attempt) and a meter provider fed by [`super::otel_bridge`].
//! Both export from the SDK's background threads; a failed export is counted in `crux_exporter_failures_total`.
//! W3C `traceparent` is read from callers by the access layer and written to upstream requests by [`inject`].

use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::telemetry::catalog::Exporter;
use crate::telemetry::{OtlpConfig, export_failed};

/// The tracer provider (flush it with `shutdown` before the process exits).
pub type TracerProvider = SdkTracerProvider;

/// Why an exporter could not be built.
pub type BuildError = String;

fn url(cfg: &OtlpConfig, signal: &str) -> String {
    format!("{}/v1/{signal}", cfg.endpoint.trim_end_matches('/'))
}

fn resource(cfg: &OtlpConfig) -> Resource {
    Resource::builder()
        .with_service_name(cfg.service_name.clone())
        .build()
}

/// The exporters' blocking HTTP client, built on a thread of its own (it owns a runtime, which cannot be
/// created inside the gateway's).
fn http_client() -> Result<reqwest::blocking::Client, String> {
    std::thread::spawn(|| {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())
    })
    .join()
    .map_err(|_| "the OTLP HTTP client could not be built".to_owned())?
}

/// Counts failed span exports.
#[derive(Debug)]
struct CountingSpans(opentelemetry_otlp::SpanExporter);

impl SpanExporter for CountingSpans {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let r = self.0.export(batch).await;
        if r.is_err() {
            export_failed(Exporter::OtlpTraces);
        }
        r
    }

    fn shutdown_with_timeout(&mut self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

/// A tracer provider exporting to `{endpoint}/v1/traces` in batches from a background thread.
pub fn tracer_provider(cfg: &OtlpConfig) -> Result<SdkTracerProvider, BuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(http_client()?)
        .with_endpoint(url(cfg, "traces"))
        .with_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(CountingSpans(exporter))
        .with_resource(resource(cfg))
        .build())
}

/// The `tracing` layer exporting the gateway's and the library's spans (only theirs) through `provider`.
pub fn layer<S>(provider: &SdkTracerProvider) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer as _;
    crux_llm::trace::set_injector(inject);
    let targets = tracing_subscriber::filter::Targets::new()
        .with_target("crux_gateway", tracing::Level::DEBUG)
        .with_target("crux_llm", tracing::Level::DEBUG);
    // No per-span source location, thread or busy/idle attributes: each would cost allocations and clock reads on
    // every request (and every poll) for fields the GenAI conventions do not ask for.
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("crux"))
        .with_error_records_to_exceptions(false)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_filter(targets)
}

/// Counts failed metric exports.
#[derive(Debug)]
struct CountingMetrics(opentelemetry_otlp::MetricExporter);

impl opentelemetry_sdk::metrics::exporter::PushMetricExporter for CountingMetrics {
    async fn export(&self, m: &opentelemetry_sdk::metrics::data::ResourceMetrics) -> OTelSdkResult {
        let r = self.0.export(m).await;
        if r.is_err() {
            export_failed(Exporter::OtlpMetrics);
        }
        r
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.0.temporality()
    }
}

/// A meter provider exporting to `{endpoint}/v1/metrics` every `interval` from a background thread.
pub fn meter_provider(cfg: &OtlpConfig) -> Result<SdkMeterProvider, BuildError> {
    let exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_http_client(http_client()?)
        .with_endpoint(url(cfg, "metrics"))
        .with_timeout(Duration::from_secs(5))
        .with_temporality(Temporality::Cumulative)
        .build()
        .map_err(|e| e.to_string())?;
    let reader = PeriodicReader::builder(CountingMetrics(exporter))
        .with_interval(cfg.interval)
        .build();
    Ok(SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(resource(cfg))
        .build())
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeadersMut<'a>(&'a mut http::HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(k, v);
        }
    }
}

/// Make the caller's W3C trace context (if any) the parent of `span`.
pub fn adopt_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    if headers.contains_key("traceparent") {
        let cx = TraceContextPropagator::new().extract(&Headers(headers));
        let _ = span.set_parent(cx);
    }
}

/// Rename a started span (OTLP span names follow `{operation} {model}` once the model is known).
pub fn rename(span: &tracing::Span, name: String) {
    use opentelemetry::trace::TraceContextExt as _;
    span.context().span().update_name(name);
}

/// Write the current span's W3C trace context into upstream request headers (installed into `crux_llm`).
pub fn inject(headers: &mut http::HeaderMap) {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return;
    }
    let cx = span.context();
    TraceContextPropagator::new().inject_context(&cx, &mut HeadersMut(headers));
}
