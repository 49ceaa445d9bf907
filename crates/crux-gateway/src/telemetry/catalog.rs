//! The metric catalogue: every series the gateway records, its kind, unit, help text and histogram buckets. The
//! names are the contract of `docs/operability.md`, the dashboard and the alert rules under `deploy/`.

/// Whole request, upstream and TTFT buckets in seconds: 100 µs … 60 s.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0, 60.0,
];

/// Gateway overhead buckets in seconds: 10 µs … 1 s (a healthy gateway adds tens of microseconds).
pub const OVERHEAD_BUCKETS: [f64; 14] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 1.0,
];

/// Time-per-output-token buckets in seconds: 1 ms … 1 s.
pub const TPOT_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.5, 1.0];

/// A metric's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Monotonic count.
    Counter,
    /// Current value.
    Gauge,
    /// Distribution with explicit buckets.
    Histogram,
}

/// Requests finished, `{provider, model, route, status}`.
pub const REQUESTS: &str = "crux_requests_total";
/// Failed requests by error code, `{provider, route, code}`.
pub const ERRORS: &str = "crux_errors_total";
/// HTTP answers by status, every route (404s included), `{status}`.
pub const HTTP_RESPONSES: &str = "crux_http_responses_total";
/// Whole request duration, `{route}`.
pub const REQUEST_DURATION: &str = "crux_request_duration_seconds";
/// Upstream duration, `{provider}`.
pub const UPSTREAM_DURATION: &str = "crux_upstream_duration_seconds";
/// Gateway time excluding the upstream (non-streamed requests).
pub const OVERHEAD: &str = "crux_gateway_overhead_seconds";
/// Time to first token, `{provider}`.
pub const TTFT: &str = "crux_time_to_first_token_seconds";
/// Time per output token after the first, `{provider}`.
pub const TPOT: &str = "crux_time_per_output_token_seconds";
/// Tokens, `{kind, provider, model}`.
pub const TOKENS: &str = "crux_tokens_total";
/// Spend in millionths of a US dollar, `{provider, model}`.
pub const COST: &str = "crux_cost_microusd_total";
/// Upstream retries, `{provider, reason}`.
pub const RETRIES: &str = "crux_retries_total";
/// Route fallbacks.
pub const FALLBACKS: &str = "crux_fallbacks_total";
/// Whether Redis answers, `{use}` (`limits`, `cache`): 1 up, 0 down.
pub const REDIS_UP: &str = "crux_redis_up";
/// Answered requests when the response cache is on, `{result}` (`hit`, `miss`).
pub const CACHE: &str = "crux_cache_requests_total";
/// Breaker state, `{target}`.
pub const BREAKER: &str = "crux_breaker_state";
/// Requests being served.
pub const IN_FLIGHT: &str = "crux_requests_in_flight";
/// Write-queue depth (read at scrape time).
pub const QUEUE_DEPTH: &str = "crux_store_queue_depth";
/// Rows dropped by the write queue.
pub const DROPPED: &str = "crux_store_dropped_total";
/// Rows the store refused.
pub const FAILED_ROWS: &str = "crux_store_failed_total";
/// Exporter failures, `{exporter}`.
pub const EXPORTER_FAILURES: &str = "crux_exporter_failures_total";

/// Every series: name, kind, help.
pub const CATALOG: &[(&str, Kind, &str)] = &[
    (
        REQUESTS,
        Kind::Counter,
        "Requests finished, by provider, model, route and status.",
    ),
    (
        ERRORS,
        Kind::Counter,
        "Failed requests, by provider, route and error code.",
    ),
    (
        HTTP_RESPONSES,
        Kind::Counter,
        "HTTP answers by status code, every route included.",
    ),
    (
        REQUEST_DURATION,
        Kind::Histogram,
        "Whole request duration as seen by the gateway.",
    ),
    (
        UPSTREAM_DURATION,
        Kind::Histogram,
        "Time spent waiting on the upstream provider.",
    ),
    (
        OVERHEAD,
        Kind::Histogram,
        "Request duration minus upstream duration (non-streamed).",
    ),
    (
        TTFT,
        Kind::Histogram,
        "Time to the first streamed content token.",
    ),
    (
        TPOT,
        Kind::Histogram,
        "Time per output token after the first (streamed).",
    ),
    (
        TOKENS,
        Kind::Counter,
        "Tokens reported by providers, by kind, provider and model.",
    ),
    (
        COST,
        Kind::Counter,
        "Spend at registry prices, in millionths of a US dollar.",
    ),
    (
        RETRIES,
        Kind::Counter,
        "Upstream attempts beyond the first, by provider and reason.",
    ),
    (
        FALLBACKS,
        Kind::Counter,
        "Requests moved to the next route target.",
    ),
    (
        REDIS_UP,
        Kind::Gauge,
        "Whether Redis answered its last call, by use (limits, cache): 1 up, 0 down.",
    ),
    (
        CACHE,
        Kind::Counter,
        "Answered requests with the response cache on, by result (hit, miss).",
    ),
    (
        BREAKER,
        Kind::Gauge,
        "Circuit breaker state per target: 0 closed, 1 half-open, 2 open.",
    ),
    (
        IN_FLIGHT,
        Kind::Gauge,
        "Requests being served now (streams until their end).",
    ),
    (
        QUEUE_DEPTH,
        Kind::Gauge,
        "Records waiting in the store write queue.",
    ),
    (
        DROPPED,
        Kind::Counter,
        "Records dropped because the write queue was full.",
    ),
    (
        FAILED_ROWS,
        Kind::Counter,
        "Records the store refused as invalid.",
    ),
    (
        EXPORTER_FAILURES,
        Kind::Counter,
        "Exports that failed, by exporter (push, statsd, otlp).",
    ),
];

/// The buckets of a histogram.
pub fn buckets(name: &str) -> &'static [f64] {
    if name == TPOT {
        &TPOT_BUCKETS
    } else if name == OVERHEAD {
        &OVERHEAD_BUCKETS
    } else {
        &LATENCY_BUCKETS
    }
}

/// Exporters that count their failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exporter {
    /// Prometheus push gateway.
    Push,
    /// StatsD/DogStatsD over UDP.
    Statsd,
    /// OTLP/HTTP traces.
    OtlpTraces,
    /// OTLP/HTTP metrics.
    OtlpMetrics,
}

impl Exporter {
    /// Every exporter.
    pub const ALL: [Exporter; 4] = [
        Exporter::Push,
        Exporter::Statsd,
        Exporter::OtlpTraces,
        Exporter::OtlpMetrics,
    ];

    /// The `exporter` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Exporter::Push => "push",
            Exporter::Statsd => "statsd",
            Exporter::OtlpTraces => "otlp_traces",
            Exporter::OtlpMetrics => "otlp_metrics",
        }
    }
}
