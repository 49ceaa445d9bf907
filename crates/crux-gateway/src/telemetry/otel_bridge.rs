//! A `metrics` recorder that feeds OTLP metrics from atomics: requests record into `metrics_util`'s atomic registry
//! (a counter add, a gauge store, a lock-free histogram push — no attribute hashing per call), and the OpenTelemetry
//! meter reads it when it exports: counters and gauges through observable instruments, histogram samples drained
//! into the SDK's histograms (explicit buckets from the catalogue) before each export, and also from
//! the gateway's upkeep (a [`Drainer`]) so samples never pile up. Names outside the catalogue are ignored.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::registry::{AtomicStorage, Registry};
use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::metrics::SdkMeterProvider;

use crate::telemetry::catalog::{self, CATALOG, Kind};

/// The atomic series and the SDK histograms their samples are drained into.
struct Series {
    registry: Registry<Key, AtomicStorage>,
    histograms: HashMap<&'static str, opentelemetry::metrics::Histogram<f64>>,
}

impl Series {
    /// Move every histogram sample recorded since the last drain into the SDK's aggregation.
    fn drain(&self) {
        self.registry.visit_histograms(|key, bucket| {
            let Some(h) = self.histograms.get(key.name()) else {
                return;
            };
            let mut attrs = None;
            bucket.clear_with(|samples| {
                let attrs = attrs.get_or_insert_with(|| attributes(key));
                for v in samples {
                    h.record(*v, attrs);
                }
            });
        });
    }
}

/// Drains an [`OtelRecorder`]'s histogram samples into the SDK.
#[derive(Clone)]
pub struct Drainer(Arc<Series>);

impl Drainer {
    /// Move the samples recorded so far into the SDK's histograms.
    pub fn drain(&self) {
        self.0.drain();
    }
}

/// Forwards the catalogue's series to OpenTelemetry instruments.
pub struct OtelRecorder {
    series: Arc<Series>,
    names: HashMap<&'static str, Kind>,
    // Kept alive: dropping an observable instrument unregisters its callback.
    _observed: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

fn attributes(key: &Key) -> Vec<KeyValue> {
    key.labels()
        .map(|l| KeyValue::new(l.key().to_owned(), l.value().to_owned()))
        .collect()
}

impl OtelRecorder {
    /// Instruments for every catalogue entry on `provider`'s meter `crux`.
    pub fn new(provider: &SdkMeterProvider) -> Self {
        let meter = provider.meter("crux");
        let histograms = CATALOG
            .iter()
            .filter(|(_, kind, _)| *kind == Kind::Histogram)
            .map(|(name, _, help)| {
                let h = meter
                    .f64_histogram(*name)
                    .with_description(*help)
                    .with_unit("s")
                    .with_boundaries(catalog::buckets(name).to_vec())
                    .build();
                (*name, h)
            })
            .collect();
        let series = Arc::new(Series {
            registry: Registry::atomic(),
            histograms,
        });
        let mut observed: Vec<Box<dyn std::any::Any + Send + Sync>> = Vec::new();
        for (name, kind, help) in CATALOG {
            let name: &'static str = name;
            let s = Arc::clone(&series);
            match kind {
                Kind::Counter => observed.push(Box::new(
                    meter
                        .u64_observable_counter(name)
                        .with_description(*help)
                        .with_callback(move |o| {
                            s.drain();
                            s.registry.visit_counters(|k, c| {
                                if k.name() == name {
                                    o.observe(c.load(Ordering::Relaxed), &attributes(k));
                                }
                            });
                        })
                        .build(),
                )),
                Kind::Gauge => observed.push(Box::new(
                    meter
                        .f64_observable_gauge(name)
                        .with_description(*help)
                        .with_callback(move |o| {
                            s.drain();
                            s.registry.visit_gauges(|k, g| {
                                if k.name() == name {
                                    let v = f64::from_bits(g.load(Ordering::Relaxed));
                                    o.observe(v, &attributes(k));
                                }
                            });
                        })
                        .build(),
                )),
                Kind::Histogram => {}
            }
        }
        Self {
            series,
            names: CATALOG.iter().map(|(n, k, _)| (*n, *k)).collect(),
            _observed: observed,
        }
    }

    /// What drains the histogram samples recorded so far into the SDK (the upkeep runs it on an interval).
    pub fn drainer(&self) -> Drainer {
        Drainer(Arc::clone(&self.series))
    }

    fn known(&self, key: &Key, kind: Kind) -> bool {
        self.names.get(key.name()) == Some(&kind)
    }
}

impl Recorder for OtelRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        if !self.known(key, Kind::Counter) {
            return Counter::noop();
        }
        let c = self.series.registry.get_or_create_counter(key, Arc::clone);
        Counter::from_arc(c)
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        if !self.known(key, Kind::Gauge) {
            return Gauge::noop();
        }
        Gauge::from_arc(self.series.registry.get_or_create_gauge(key, Arc::clone))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        if !self.known(key, Kind::Histogram) {
            return Histogram::noop();
        }
        Histogram::from_arc(
            self.series
                .registry
                .get_or_create_histogram(key, Arc::clone),
        )
    }
}
