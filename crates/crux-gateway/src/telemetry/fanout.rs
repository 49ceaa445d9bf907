//! Recorder plumbing: one recorder in front of every exporter's, a shared handle for the process-wide recorder, and
//! the label folding plain StatsD needs.

use std::sync::Arc;

use metrics::{Counter, Gauge, Key, Metadata, Recorder, SharedString};

/// Every exporter's recorder behind one (`metrics_util`'s own fan-out is not `Send`).
pub(super) struct Fan(pub(super) Vec<Box<dyn Recorder + Send + Sync>>);

impl Recorder for Fan {
    fn describe_counter(&self, k: metrics::KeyName, u: Option<metrics::Unit>, d: SharedString) {
        for r in &self.0 {
            r.describe_counter(k.clone(), u, d.clone());
        }
    }
    fn describe_gauge(&self, k: metrics::KeyName, u: Option<metrics::Unit>, d: SharedString) {
        for r in &self.0 {
            r.describe_gauge(k.clone(), u, d.clone());
        }
    }
    fn describe_histogram(&self, k: metrics::KeyName, u: Option<metrics::Unit>, d: SharedString) {
        for r in &self.0 {
            r.describe_histogram(k.clone(), u, d.clone());
        }
    }
    fn register_counter(&self, key: &Key, m: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Each(
            self.0.iter().map(|r| r.register_counter(key, m)).collect(),
        )))
    }
    fn register_gauge(&self, key: &Key, m: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Arc::new(Each(
            self.0.iter().map(|r| r.register_gauge(key, m)).collect(),
        )))
    }
    fn register_histogram(&self, key: &Key, m: &Metadata<'_>) -> metrics::Histogram {
        metrics::Histogram::from_arc(Arc::new(Each(
            self.0
                .iter()
                .map(|r| r.register_histogram(key, m))
                .collect(),
        )))
    }
}

/// One handle per exporter behind one handle.
struct Each<H>(Vec<H>);

impl metrics::CounterFn for Each<Counter> {
    fn increment(&self, value: u64) {
        self.0.iter().for_each(|c| c.increment(value));
    }
    fn absolute(&self, value: u64) {
        self.0.iter().for_each(|c| c.absolute(value));
    }
}

impl metrics::GaugeFn for Each<Gauge> {
    fn increment(&self, value: f64) {
        self.0.iter().for_each(|g| g.increment(value));
    }
    fn decrement(&self, value: f64) {
        self.0.iter().for_each(|g| g.decrement(value));
    }
    fn set(&self, value: f64) {
        self.0.iter().for_each(|g| g.set(value));
    }
}

impl metrics::HistogramFn for Each<metrics::Histogram> {
    fn record(&self, value: f64) {
        self.0.iter().for_each(|h| h.record(value));
    }
}

/// The gateway's recorder, cheaply cloned (install it with `metrics::set_global_recorder`).
#[derive(Clone)]
pub struct SharedRecorder(pub(super) Arc<dyn Recorder + Send + Sync>);

impl std::fmt::Debug for SharedRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedRecorder")
    }
}

macro_rules! delegate_recorder {
    ($t:ty, $inner:tt) => {
        impl Recorder for $t {
            fn describe_counter(
                &self,
                k: metrics::KeyName,
                u: Option<metrics::Unit>,
                d: SharedString,
            ) {
                self.$inner.describe_counter(k, u, d);
            }
            fn describe_gauge(
                &self,
                k: metrics::KeyName,
                u: Option<metrics::Unit>,
                d: SharedString,
            ) {
                self.$inner.describe_gauge(k, u, d);
            }
            fn describe_histogram(
                &self,
                k: metrics::KeyName,
                u: Option<metrics::Unit>,
                d: SharedString,
            ) {
                self.$inner.describe_histogram(k, u, d);
            }
            fn register_counter(&self, key: &Key, m: &Metadata<'_>) -> Counter {
                self.$inner.register_counter(key, m)
            }
            fn register_gauge(&self, key: &Key, m: &Metadata<'_>) -> Gauge {
                self.$inner.register_gauge(key, m)
            }
            fn register_histogram(&self, key: &Key, m: &Metadata<'_>) -> metrics::Histogram {
                self.$inner.register_histogram(key, m)
            }
        }
    };
}

/// Plain StatsD has no tags: label values become dotted name parts (`crux_requests_total.openai.gpt-4o.ok`).
pub(super) struct FoldLabels<R>(pub(super) R);

fn folded(key: &Key) -> Key {
    let mut name = key.name().to_owned();
    for l in key.labels() {
        name.push('.');
        name.extend(l.value().chars().map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        }));
    }
    Key::from_name(name)
}

impl<R: Recorder> Recorder for FoldLabels<R> {
    fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, m: &Metadata<'_>) -> Counter {
        self.0.register_counter(&folded(key), m)
    }
    fn register_gauge(&self, key: &Key, m: &Metadata<'_>) -> Gauge {
        self.0.register_gauge(&folded(key), m)
    }
    fn register_histogram(&self, key: &Key, m: &Metadata<'_>) -> metrics::Histogram {
        self.0.register_histogram(&folded(key), m)
    }
}
delegate_recorder!(SharedRecorder, 0);
