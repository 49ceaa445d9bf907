//! Recorder plumbing: one recorder in front of every exporter's (its composite handles cached per series, so a
//! request's `counter!` looks one key up once instead of registering it with every exporter), a shared handle for
//! the process-wide recorder, and the label folding plain StatsD needs.

use std::sync::Arc;

use metrics::{Counter, Gauge, Key, Level, Metadata, Recorder, SharedString};
use metrics_util::registry::{Registry, Storage};

static META: Metadata<'static> = Metadata::new("crux_gateway", Level::INFO, Some("crux_gateway"));

type Parts = Arc<Vec<Box<dyn Recorder + Send + Sync>>>;

/// Every exporter's recorder behind one (`metrics_util`'s own fan-out is not `Send`). The `metrics` macros register
/// a series on every call; the registry (sharded, read-locked per shard) hands back the composite handle built the
/// first time, so the exporters' own registries and allocations are paid once per series, not once per call.
pub(super) struct Fan {
    parts: Parts,
    handles: Registry<Key, Build>,
}

impl Fan {
    pub(super) fn new(parts: Vec<Box<dyn Recorder + Send + Sync>>) -> Self {
        let parts: Parts = Arc::new(parts);
        Self {
            handles: Registry::new(Build(Arc::clone(&parts))),
            parts,
        }
    }
}

/// Builds a series' composite handle from every exporter (the registry's storage).
pub(super) struct Build(Parts);

impl Storage<Key> for Build {
    type Counter = Arc<Each<Counter>>;
    type Gauge = Arc<Each<Gauge>>;
    type Histogram = Arc<Each<metrics::Histogram>>;

    fn counter(&self, key: &Key) -> Self::Counter {
        Arc::new(Each(
            self.0
                .iter()
                .map(|r| r.register_counter(key, &META))
                .collect(),
        ))
    }
    fn gauge(&self, key: &Key) -> Self::Gauge {
        Arc::new(Each(
            self.0
                .iter()
                .map(|r| r.register_gauge(key, &META))
                .collect(),
        ))
    }
    fn histogram(&self, key: &Key) -> Self::Histogram {
        Arc::new(Each(
            self.0
                .iter()
                .map(|r| r.register_histogram(key, &META))
                .collect(),
        ))
    }
}

impl Recorder for Fan {
    fn describe_counter(&self, k: metrics::KeyName, u: Option<metrics::Unit>, d: SharedString) {
        for r in self.parts.iter() {
            r.describe_counter(k.clone(), u, d.clone());
        }
    }
    fn describe_gauge(&self, k: metrics::KeyName, u: Option<metrics::Unit>, d: SharedString) {
        for r in self.parts.iter() {
            r.describe_gauge(k.clone(), u, d.clone());
        }
    }
    fn describe_histogram(&self, k: metrics::KeyName, u: Option<metrics::Unit>, d: SharedString) {
        for r in self.parts.iter() {
            r.describe_histogram(k.clone(), u, d.clone());
        }
    }
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.handles.get_or_create_counter(key, Arc::clone))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.handles.get_or_create_gauge(key, Arc::clone))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> metrics::Histogram {
        metrics::Histogram::from_arc(self.handles.get_or_create_histogram(key, Arc::clone))
    }
}

/// One handle per exporter behind one handle.
pub(super) struct Each<H>(Vec<H>);

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
