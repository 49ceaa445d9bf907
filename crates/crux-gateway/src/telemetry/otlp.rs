//! OTLP/HTTP (protobuf) exporters: the span pipeline of [`super::span_export`] (one span per request after the GenAI
//! semantic conventions, a child span per upstream attempt) and a meter provider fed by [`super::otel_bridge`].
//! Both export from background threads; a failed export is counted in `crux_exporter_failures_total`.

use std::time::Duration;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};

use crate::telemetry::catalog::Exporter;
use crate::telemetry::span_export::Spans;
use crate::telemetry::{OtlpConfig, export_failed};

/// Longest time a finished span waits for its batch to be sent.
const MAX_SPAN_DELAY: Duration = Duration::from_secs(5);

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

/// The span pipeline exporting to `{endpoint}/v1/traces` in batches from a thread of its own, at most
/// `interval` (and at most 5 s) after a span ends.
pub fn spans(cfg: &OtlpConfig) -> Result<Spans, BuildError> {
    Spans::start(
        url(cfg, "traces"),
        http_client()?,
        &cfg.service_name,
        cfg.interval.min(MAX_SPAN_DELAY),
    )
    .map_err(|e| e.to_string())
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
