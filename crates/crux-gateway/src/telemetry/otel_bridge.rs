//! A `metrics` recorder that forwards into an OpenTelemetry meter, so the same instrumentation feeds OTLP metrics.
//! Instruments are created once, from the catalogue, when the recorder is built; names outside the catalogue are
//! ignored. Scrape-time absolute counters (store drops, exporter failures) are not forwarded (OTLP gets the rates).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::metrics::SdkMeterProvider;

use crate::telemetry::catalog::{self, CATALOG, Kind};

enum Instrument {
    Counter(opentelemetry::metrics::Counter<u64>),
    Gauge(opentelemetry::metrics::Gauge<f64>),
    Histogram(opentelemetry::metrics::Histogram<f64>),
}

/// Forwards the catalogue's series to OpenTelemetry instruments.
pub struct OtelRecorder {
    instruments: HashMap<&'static str, Instrument>,
}

impl OtelRecorder {
    /// Instruments for every catalogue entry on `provider`'s meter `crux`.
    pub fn new(provider: &SdkMeterProvider) -> Self {
        let meter = provider.meter("crux");
        let instruments = CATALOG
            .iter()
            .map(|(name, kind, help)| {
                let i = match kind {
                    Kind::Counter => Instrument::Counter(
                        meter.u64_counter(*name).with_description(*help).build(),
                    ),
                    Kind::Gauge => {
                        Instrument::Gauge(meter.f64_gauge(*name).with_description(*help).build())
                    }
                    Kind::Histogram => Instrument::Histogram(
                        meter
                            .f64_histogram(*name)
                            .with_description(*help)
                            .with_unit("s")
                            .with_boundaries(catalog::buckets(name).to_vec())
                            .build(),
                    ),
                };
                (*name, i)
            })
            .collect();
        Self { instruments }
    }
}

fn attributes(key: &Key) -> Vec<KeyValue> {
    key.labels()
        .map(|l| KeyValue::new(l.key().to_owned(), l.value().to_owned()))
        .collect()
}

struct OtelCounter(opentelemetry::metrics::Counter<u64>, Vec<KeyValue>);

impl CounterFn for OtelCounter {
    fn increment(&self, value: u64) {
        self.0.add(value, &self.1);
    }

    fn absolute(&self, _value: u64) {}
}

struct OtelGauge(opentelemetry::metrics::Gauge<f64>, Vec<KeyValue>, AtomicU64);

impl OtelGauge {
    fn update(&self, f: impl Fn(f64) -> f64) {
        let mut next = 0.0;
        let _ = self
            .2
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |bits| {
                next = f(f64::from_bits(bits));
                Some(next.to_bits())
            });
        self.0.record(next, &self.1);
    }
}

impl GaugeFn for OtelGauge {
    fn increment(&self, value: f64) {
        self.update(|v| v + value);
    }

    fn decrement(&self, value: f64) {
        self.update(|v| v - value);
    }

    fn set(&self, value: f64) {
        self.update(|_| value);
    }
}

struct OtelHistogram(opentelemetry::metrics::Histogram<f64>, Vec<KeyValue>);

impl HistogramFn for OtelHistogram {
    fn record(&self, value: f64) {
        self.0.record(value, &self.1);
    }
}

impl Recorder for OtelRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        match self.instruments.get(key.name()) {
            Some(Instrument::Counter(c)) => {
                Counter::from_arc(Arc::new(OtelCounter(c.clone(), attributes(key))))
            }
            _ => Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        match self.instruments.get(key.name()) {
            Some(Instrument::Gauge(g)) => Gauge::from_arc(Arc::new(OtelGauge(
                g.clone(),
                attributes(key),
                AtomicU64::new(0f64.to_bits()),
            ))),
            _ => Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        match self.instruments.get(key.name()) {
            Some(Instrument::Histogram(h)) => {
                Histogram::from_arc(Arc::new(OtelHistogram(h.clone(), attributes(key))))
            }
            _ => Histogram::noop(),
        }
    }
}
