//! In-process metrics with Prometheus text exposition (`GET /metrics`): counters, gauges and fixed-bucket histograms.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Latency buckets in seconds: 100 µs … 60 s.
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0, 60.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i] += 1;
        }
        self.sum += secs;
        self.count += 1;
    }
}

/// Series are keyed by `name{labels}`; label values are escaped once at insertion.
#[derive(Debug, Default)]
struct Series {
    counters: BTreeMap<(&'static str, String), f64>,
    gauges: BTreeMap<(&'static str, String), f64>,
    histograms: BTreeMap<(&'static str, String), Histogram>,
}

/// The metric names and help texts, in exposition order.
const HELP: &[(&str, &str, &str)] = &[
    (
        "crux_requests_total",
        "counter",
        "Requests served, by provider, model, route and status.",
    ),
    (
        "crux_request_duration_seconds",
        "histogram",
        "Whole request duration as seen by the gateway.",
    ),
    (
        "crux_upstream_duration_seconds",
        "histogram",
        "Time spent waiting on the upstream provider.",
    ),
    (
        "crux_gateway_overhead_seconds",
        "histogram",
        "Request duration minus upstream duration (non-streamed).",
    ),
    (
        "crux_time_to_first_token_seconds",
        "histogram",
        "Time to the first streamed content token.",
    ),
    (
        "crux_tokens_total",
        "counter",
        "Tokens reported by providers, by kind.",
    ),
    (
        "crux_retries_total",
        "counter",
        "Upstream attempts beyond the first.",
    ),
    (
        "crux_fallbacks_total",
        "counter",
        "Requests moved to the next route target.",
    ),
    (
        "crux_breaker_state",
        "gauge",
        "Circuit breaker state per provider/model: 0 closed, 1 half-open, 2 open.",
    ),
    (
        "crux_store_queue_depth",
        "gauge",
        "Records waiting in the store write queue.",
    ),
    (
        "crux_store_dropped_total",
        "counter",
        "Records dropped because the write queue was full.",
    ),
];

/// The gateway's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<Series>,
}

/// Render label pairs as `{a="x",b="y"}` with Prometheus escaping.
pub fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut out = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// Several updates under one lock (what a finished request records).
#[derive(Debug)]
pub struct Batch<'a> {
    s: MutexGuard<'a, Series>,
}

impl Batch<'_> {
    /// Add `by` to a counter.
    pub fn add(&mut self, name: &'static str, labels: String, by: f64) {
        *self.s.counters.entry((name, labels)).or_insert(0.0) += by;
    }

    /// Set a gauge.
    pub fn set(&mut self, name: &'static str, labels: String, value: f64) {
        self.s.gauges.insert((name, labels), value);
    }

    /// Record one observation of a duration.
    pub fn observe(&mut self, name: &'static str, labels: String, d: Duration) {
        self.s
            .histograms
            .entry((name, labels))
            .or_default()
            .observe(d.as_secs_f64());
    }
}

impl Metrics {
    /// Lock once for several updates.
    pub fn batch(&self) -> Option<Batch<'_>> {
        self.series.lock().ok().map(|s| Batch { s })
    }

    /// Add `by` to a counter.
    pub fn add(&self, name: &'static str, labels: String, by: f64) {
        if let Ok(mut s) = self.series.lock() {
            *s.counters.entry((name, labels)).or_insert(0.0) += by;
        }
    }

    /// Set a gauge.
    pub fn set(&self, name: &'static str, labels: String, value: f64) {
        if let Ok(mut s) = self.series.lock() {
            s.gauges.insert((name, labels), value);
        }
    }

    /// Record one observation of a duration.
    pub fn observe(&self, name: &'static str, labels: String, d: Duration) {
        if let Ok(mut s) = self.series.lock() {
            s.histograms
                .entry((name, labels))
                .or_default()
                .observe(d.as_secs_f64());
        }
    }

    /// The current value of a counter (tests and summaries).
    pub fn counter(&self, name: &'static str, labels: &str) -> f64 {
        self.series
            .lock()
            .ok()
            .and_then(|s| s.counters.get(&(name, labels.to_owned())).copied())
            .unwrap_or(0.0)
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let Ok(s) = self.series.lock() else {
            return String::new();
        };
        let mut out = String::with_capacity(4096);
        for (name, kind, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for ((n, l), v) in s.counters.iter().chain(s.gauges.iter()) {
                if n == name {
                    let _ = writeln!(out, "{n}{l} {v}");
                }
            }
            for ((n, l), h) in &s.histograms {
                if n != name {
                    continue;
                }
                let inner = l.trim_start_matches('{').trim_end_matches('}');
                let sep = if inner.is_empty() { "" } else { "," };
                let mut cumulative = 0;
                for (b, c) in BUCKETS.iter().zip(h.counts) {
                    cumulative += c;
                    let _ = writeln!(out, "{n}_bucket{{{inner}{sep}le=\"{b}\"}} {cumulative}");
                }
                let _ = writeln!(out, "{n}_bucket{{{inner}{sep}le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "{n}_sum{l} {}", h.sum);
                let _ = writeln!(out, "{n}_count{l} {}", h.count);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_format() {
        let m = Metrics::default();
        let l = labels(&[("provider", "openai"), ("model", "gpt\"4")]);
        m.add("crux_requests_total", l.clone(), 1.0);
        m.add("crux_requests_total", l.clone(), 1.0);
        m.observe(
            "crux_request_duration_seconds",
            labels(&[("route", "chat")]),
            Duration::from_millis(3),
        );
        let text = m.render();
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
        assert!(text.contains("# TYPE crux_breaker_state gauge"));
        assert_eq!(m.counter("crux_requests_total", &l), 2.0);
    }
}
