//! The gateway's one instrumentation layer: the `metrics` facade into a per-gateway recorder (a fan-out of the
//! exporters chosen in `[telemetry]`), request spans for OTLP traces, and the access log. Recording never waits on
//! an exporter: Prometheus and StatsD aggregate in atomics, OTLP and push export from background threads and tasks,
//! and every export failure is counted in `crux_exporter_failures_total`, never returned to a request.

pub mod access;
pub mod catalog;
mod fanout;
pub mod otel_bridge;
pub mod otlp;
pub mod push;
pub mod record;
pub mod series;
pub mod span_export;
pub mod spans;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{Counter, Gauge, Key, Label, Level, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::telemetry::catalog::{CATALOG, Exporter, Kind};
pub use crate::telemetry::fanout::SharedRecorder;
use crate::telemetry::fanout::{Fan, FoldLabels};

static META: Metadata<'static> = Metadata::new("crux_gateway", Level::INFO, Some("crux_gateway"));

/// Export failures per exporter since the process started (exporters run on their own threads and tasks).
static FAILURES: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// Count one failed export (read into `crux_exporter_failures_total` at scrape and push time).
pub fn export_failed(exporter: Exporter) {
    FAILURES[exporter as usize].fetch_add(1, Ordering::Relaxed);
}

/// Failed exports of `exporter` so far.
pub fn export_failures(exporter: Exporter) -> u64 {
    FAILURES[exporter as usize].load(Ordering::Relaxed)
}

/// Prometheus push gateway settings (`[telemetry] push`).
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// Push gateway base URL, e.g. `http://127.0.0.1:9091`.
    pub url: String,
    /// Time between pushes.
    pub interval: Duration,
    /// The `job` grouping label.
    pub job: String,
    /// The `instance` grouping label.
    pub instance: String,
}

/// StatsD settings (`[telemetry] statsd`).
#[derive(Debug, Clone)]
pub struct StatsdConfig {
    /// `host:port` of the UDP receiver.
    pub addr: String,
    /// Time between flushes of aggregated values.
    pub flush_interval: Duration,
    /// Send labels as DogStatsD tags (`|#k:v`); without, plain StatsD lines.
    pub tags: bool,
}

/// OTLP/HTTP settings (`[telemetry] otlp`).
#[derive(Debug, Clone)]
pub struct OtlpConfig {
    /// Collector base URL, e.g. `http://127.0.0.1:4318` (`/v1/traces` and `/v1/metrics` are appended).
    pub endpoint: String,
    /// Time between metric exports.
    pub interval: Duration,
    /// `service.name` resource attribute.
    pub service_name: String,
    /// Export metrics as well as traces.
    pub metrics: bool,
}

/// Which exporters run (`[telemetry]`); `/metrics` itself is `GatewayConfig::prometheus`.
#[derive(Debug, Clone, Default)]
pub struct TelemetryConfig {
    /// Push to a Prometheus push gateway.
    pub push: Option<PushConfig>,
    /// Send to a StatsD receiver.
    pub statsd: Option<StatsdConfig>,
    /// Export traces (and, unless turned off, metrics) over OTLP/HTTP.
    pub otlp: Option<OtlpConfig>,
}

/// What refreshes live values (breakers, queue depth, exporter failures) before a scrape or a push.
pub type Live = Arc<std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>>;

/// The recorder a gateway records into, with the handles the hot path and the scrape need.
pub struct Telemetry {
    recorder: Arc<dyn Recorder + Send + Sync>,
    prometheus: Option<PrometheusHandle>,
    in_flight: Gauge,
    exporters: Vec<&'static str>,
    push: Option<tokio::task::JoinHandle<()>>,
    otel: Option<(
        opentelemetry_sdk::metrics::SdkMeterProvider,
        otel_bridge::Drainer,
    )>,
    spans: Option<Arc<span_export::Spans>>,
    live: Live,
    /// This recorder's identity in the per-thread series caches ([`series`]).
    owner: Arc<()>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("exporters", &self.exporters)
            .finish_non_exhaustive()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(p) = self.push.take() {
            p.abort();
        }
        if let Some((m, _)) = self.otel.take() {
            let _ = m.shutdown();
        }
        if let Some(s) = self.spans.take() {
            s.shutdown();
        }
    }
}

fn prometheus_recorder() -> metrics_exporter_prometheus::PrometheusRecorder {
    let mut b = PrometheusBuilder::new();
    for (name, kind, _) in CATALOG {
        if *kind == Kind::Histogram {
            b = match b
                .set_buckets_for_metric(Matcher::Full((*name).to_owned()), catalog::buckets(name))
            {
                Ok(b) => b,
                Err(_) => PrometheusBuilder::new(),
            };
        }
    }
    b.build_recorder()
}

impl Telemetry {
    /// A recorder that discards everything (no exporter at all).
    pub fn off() -> Self {
        Self::assemble(Vec::new(), None, Vec::new(), None, None, Live::default())
    }

    /// The Prometheus registry only (`/metrics`, the tests' default).
    pub fn prometheus() -> Self {
        let p = prometheus_recorder();
        let handle = p.handle();
        Self::assemble(
            vec![Box::new(p)],
            Some(handle),
            vec!["prometheus"],
            None,
            None,
            Live::default(),
        )
    }

    /// Start the exporters of `config` (the push task needs a Tokio runtime; without one it is skipped and counted
    /// as a failure). `prometheus` keeps a registry for `/metrics`; push reuses it.
    pub fn start(prometheus: bool, config: &TelemetryConfig) -> Self {
        let mut parts: Vec<Box<dyn Recorder + Send + Sync>> = Vec::new();
        let mut names = Vec::new();
        let mut handle = None;
        if prometheus || config.push.is_some() {
            let p = prometheus_recorder();
            handle = Some(p.handle());
            parts.push(Box::new(p));
            names.push("prometheus");
        }
        if let Some(s) = &config.statsd {
            match statsd(s) {
                Ok(r) if s.tags => {
                    parts.push(Box::new(r));
                    names.push("statsd");
                }
                Ok(r) => {
                    parts.push(Box::new(FoldLabels(r)));
                    names.push("statsd");
                }
                Err(e) => {
                    tracing::warn!(error = %e, addr = %s.addr, "statsd exporter not started");
                    export_failed(Exporter::Statsd);
                }
            }
        }
        let mut otel = None;
        if let Some(o) = config.otlp.as_ref().filter(|o| o.metrics) {
            match otlp::meter_provider(o) {
                Ok(provider) => {
                    let r = otel_bridge::OtelRecorder::new(&provider);
                    otel = Some((provider, r.drainer()));
                    parts.push(Box::new(r));
                    names.push("otlp_metrics");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "OTLP metrics exporter not started");
                    export_failed(Exporter::OtlpMetrics);
                }
            }
        }
        let spans = config.otlp.as_ref().and_then(|o| match otlp::spans(o) {
            Ok(s) => {
                crux_llm::trace::set_hooks(crux_llm::trace::Hooks {
                    begin: access::begin_attempt,
                    end: access::end_attempt,
                });
                names.push("otlp_traces");
                Some(Arc::new(s))
            }
            Err(e) => {
                tracing::warn!(error = %e, "OTLP traces exporter not started");
                export_failed(Exporter::OtlpTraces);
                None
            }
        });
        let live = Live::default();
        let push = match (&config.push, &handle) {
            (Some(cfg), Some(h)) => {
                names.push("push");
                push::spawn(cfg.clone(), h.clone(), Arc::clone(&live))
            }
            _ => None,
        };
        let mut t = Self::assemble(parts, handle, names, push, otel, live);
        t.spans = spans;
        t
    }

    fn assemble(
        mut parts: Vec<Box<dyn Recorder + Send + Sync>>,
        prometheus: Option<PrometheusHandle>,
        exporters: Vec<&'static str>,
        push: Option<tokio::task::JoinHandle<()>>,
        otel: Option<(
            opentelemetry_sdk::metrics::SdkMeterProvider,
            otel_bridge::Drainer,
        )>,
        live: Live,
    ) -> Self {
        let recorder: Arc<dyn Recorder + Send + Sync> = match parts.len() {
            0 => Arc::new(metrics::NoopRecorder),
            1 => match parts.pop() {
                Some(one) => Arc::from(one),
                None => Arc::new(metrics::NoopRecorder),
            },
            _ => Arc::new(Fan::new(parts)),
        };
        for (name, kind, help) in CATALOG {
            let help = SharedString::const_str(help);
            match kind {
                Kind::Counter => recorder.describe_counter((*name).into(), None, help),
                Kind::Gauge => recorder.describe_gauge((*name).into(), None, help),
                Kind::Histogram => {
                    recorder.describe_histogram((*name).into(), Some(metrics::Unit::Seconds), help)
                }
            }
        }
        let in_flight = recorder.register_gauge(&Key::from_static_name(catalog::IN_FLIGHT), &META);
        Self {
            recorder,
            prometheus,
            in_flight,
            exporters,
            push,
            otel,
            spans: None,
            live,
            owner: Arc::new(()),
        }
    }

    /// Set what refreshes live values before each push (once; later calls are ignored).
    pub fn set_live(&self, refresh: Box<dyn Fn() + Send + Sync>) {
        let _ = self.live.set(refresh);
    }

    /// Refresh live values now (the scrape does this).
    pub fn refresh_live(&self) {
        if let Some(f) = self.live.get() {
            f();
        }
    }

    /// Run `f` with this gateway's recorder as the `metrics` recorder of the current thread (the macros inside
    /// record here; without any exporter they cost a no-op call).
    pub fn record<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&*self.recorder, f)
    }

    /// The handles of a request's (provider, model, route, status) series, cached on this thread; each handle is
    /// made with [`Self::record`] on its first use.
    pub fn series(
        &self,
        provider: &'static str,
        model: &str,
        route: &'static str,
        status: &'static str,
    ) -> std::rc::Rc<series::Series> {
        series::lookup(&self.owner, provider, model, route, status)
    }

    /// A shared handle to the recorder, e.g. to install it as the process's global recorder.
    pub fn shared_recorder(&self) -> SharedRecorder {
        SharedRecorder(Arc::clone(&self.recorder))
    }

    /// Make this recorder the process's global `metrics` recorder too (once; `false` if one was installed), so
    /// library code using the facade records into the same exporters.
    pub fn install_global(&self) -> bool {
        metrics::set_global_recorder(self.shared_recorder()).is_ok()
    }

    /// The in-flight gauge (incremented and decremented by the access layer).
    pub fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// The OTLP span pipeline, when traces are exported.
    pub fn spans(&self) -> Option<&Arc<span_export::Spans>> {
        self.spans.as_ref()
    }

    /// Send the spans and metrics waiting for their next export now.
    pub fn flush(&self) {
        if let Some(s) = &self.spans {
            s.flush();
        }
        if let Some((m, _)) = &self.otel {
            let _ = m.force_flush();
        }
    }

    /// The exporters running.
    pub fn exporters(&self) -> &[&'static str] {
        &self.exporters
    }

    /// Set a counter's absolute value (live values read at scrape time).
    pub fn absolute(&self, name: &'static str, labels: Vec<Label>, value: u64) {
        let c: Counter = self
            .recorder
            .register_counter(&Key::from_parts(name, labels), &META);
        c.absolute(value);
    }

    /// Set a gauge.
    pub fn set(&self, name: &'static str, labels: Vec<Label>, value: f64) {
        self.recorder
            .register_gauge(&Key::from_parts(name, labels), &META)
            .set(value);
    }

    /// Copy the exporter failure counts into the registry.
    pub fn note_exporter_failures(&self) {
        for e in Exporter::ALL {
            let n = export_failures(e);
            if n > 0 || self.exporters.iter().any(|x| e.as_str().starts_with(x)) {
                self.absolute(
                    catalog::EXPORTER_FAILURES,
                    vec![Label::from_static_parts("exporter", e.as_str())],
                    n,
                );
            }
        }
    }

    /// Prometheus text exposition (empty without a Prometheus registry).
    pub fn render(&self) -> String {
        self.prometheus
            .as_ref()
            .map(PrometheusHandle::render)
            .unwrap_or_default()
    }

    /// Drain histogram samples into buckets (call on an interval so an unscraped registry stays bounded).
    pub fn upkeep(&self) {
        if let Some(p) = &self.prometheus {
            p.run_upkeep();
        }
        if let Some((_, d)) = &self.otel {
            d.drain();
        }
    }
}

fn statsd(s: &StatsdConfig) -> Result<metrics_exporter_dogstatsd::DogStatsDRecorder, String> {
    let b = metrics_exporter_dogstatsd::DogStatsDBuilder::default()
        .with_remote_address(&s.addr)
        .map_err(|e| e.to_string())?
        .with_flush_interval(s.flush_interval)
        .with_telemetry(false)
        .with_histogram_sampling(true)
        .send_histograms_as_distributions(s.tags);
    b.build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_explicit_buckets_and_escaped_labels() {
        let t = Telemetry::prometheus();
        t.record(|| {
            metrics::counter!(catalog::REQUESTS, "provider" => "openai", "model" => "gpt\"4")
                .increment(2);
            metrics::histogram!(catalog::REQUEST_DURATION, "route" => "chat").record(0.003);
        });
        let text = t.render();
        assert!(
            text.contains("crux_requests_total{provider=\"openai\",model=\"gpt\\\"4\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("crux_request_duration_seconds_bucket{route=\"chat\",le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("crux_request_duration_seconds_bucket{route=\"chat\",le=\"+Inf\"} 1")
        );
    }

    #[test]
    fn off_records_nothing_and_renders_empty() {
        let t = Telemetry::off();
        t.record(|| metrics::counter!(catalog::REQUESTS).increment(1));
        assert_eq!(t.render(), "");
    }
}
