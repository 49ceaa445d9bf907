//! Benchmark statistics: one `Sample` per request, folded into a `Phase` (latency and TTFT percentiles in
//! milliseconds, tokens per second, errors by code). Warmup and measured requests are separate phases, so warmup
//! never leaks into the numbers and is still reported on its own.

use std::collections::BTreeMap;

use serde::Serialize;

/// What one request measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// From sending to the last byte of the answer, in milliseconds.
    pub latency_ms: f64,
    /// From sending to the first content (streams only), in milliseconds.
    pub ttft_ms: Option<f64>,
    /// Input tokens reported.
    pub prompt_tokens: Option<u64>,
    /// Output tokens reported.
    pub completion_tokens: Option<u64>,
    /// The overhead the gateway reported for this request (`x-crux-overhead-ms`), in milliseconds.
    pub reported_overhead_ms: Option<f64>,
    /// The error code, when the request failed.
    pub error: Option<String>,
}

/// Percentiles of a set of durations, all in milliseconds (nearest-rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// Smallest.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Nearest-rank percentiles of `values`; `None` when there are none.
pub fn percentiles(values: &[f64]) -> Option<Percentiles> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = |p: f64| {
        let n = v.len() as f64;
        let i = (p / 100.0 * n).ceil() as usize;
        v[i.clamp(1, v.len()) - 1]
    };
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    Some(Percentiles {
        min: round(v[0]),
        p50: round(rank(50.0)),
        p90: round(rank(90.0)),
        p95: round(rank(95.0)),
        p99: round(rank(99.0)),
        max: round(v[v.len() - 1]),
        mean: round(mean),
    })
}

/// The summary of one phase (the warmup, or the measured requests).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    /// Requests sent.
    pub requests: u64,
    /// Requests answered.
    pub ok: u64,
    /// Failed requests by error code.
    pub errors: BTreeMap<String, u64>,
    /// Wall-clock time of the phase, in milliseconds.
    pub wall_ms: f64,
    /// Answered requests per second of wall time.
    pub requests_per_s: f64,
    /// Output tokens per second of wall time (all answered requests together).
    pub tokens_per_s: f64,
    /// Input tokens reported, summed.
    pub prompt_tokens: u64,
    /// Output tokens reported, summed.
    pub completion_tokens: u64,
    /// Latency of answered requests.
    pub latency_ms: Option<Percentiles>,
    /// Time to first token of answered streams (`None` unstreamed).
    pub ttft_ms: Option<Percentiles>,
    /// Through a gateway: the overhead it reported per answered request (`x-crux-overhead-ms`; for streams, until
    /// the stream committed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_reported_overhead_ms: Option<Percentiles>,
}

impl Phase {
    /// Fold `samples`, which took `wall_ms` of wall time.
    pub fn of(samples: &[Sample], wall_ms: f64) -> Phase {
        let ok: Vec<&Sample> = samples.iter().filter(|s| s.error.is_none()).collect();
        let mut errors = BTreeMap::new();
        for code in samples.iter().filter_map(|s| s.error.clone()) {
            *errors.entry(code).or_insert(0) += 1;
        }
        let latencies: Vec<f64> = ok.iter().map(|s| s.latency_ms).collect();
        let ttfts: Vec<f64> = ok.iter().filter_map(|s| s.ttft_ms).collect();
        let reported: Vec<f64> = ok.iter().filter_map(|s| s.reported_overhead_ms).collect();
        let completion: u64 = ok.iter().filter_map(|s| s.completion_tokens).sum();
        let prompt: u64 = ok.iter().filter_map(|s| s.prompt_tokens).sum();
        let secs = wall_ms / 1000.0;
        let per_s = |n: f64| if secs > 0.0 { round(n / secs) } else { 0.0 };
        Phase {
            requests: samples.len() as u64,
            ok: ok.len() as u64,
            errors,
            wall_ms: round(wall_ms),
            requests_per_s: per_s(ok.len() as f64),
            tokens_per_s: per_s(completion as f64),
            prompt_tokens: prompt,
            completion_tokens: completion,
            latency_ms: percentiles(&latencies),
            ttft_ms: percentiles(&ttfts),
            gateway_reported_overhead_ms: percentiles(&reported),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = percentiles(&v).unwrap();
        assert_eq!(
            (p.min, p.p50, p.p90, p.p95, p.p99, p.max),
            (1.0, 50.0, 90.0, 95.0, 99.0, 100.0)
        );
        assert_eq!(p.mean, 50.5);
        assert!(percentiles(&[]).is_none());
        let one = percentiles(&[7.0]).unwrap();
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
    }

    #[test]
    fn phase_counts_errors_and_excludes_them_from_latency() {
        let ok = Sample {
            latency_ms: 10.0,
            ttft_ms: Some(2.0),
            prompt_tokens: Some(3),
            completion_tokens: Some(5),
            reported_overhead_ms: Some(0.05),
            error: None,
        };
        let bad = Sample {
            latency_ms: 1000.0,
            error: Some("server_error".into()),
            ..Sample::default()
        };
        let p = Phase::of(&[ok.clone(), ok, bad], 500.0);
        assert_eq!((p.requests, p.ok), (3, 2));
        assert_eq!(p.errors["server_error"], 1);
        assert_eq!(p.latency_ms.unwrap().max, 10.0);
        assert_eq!(p.ttft_ms.unwrap().p50, 2.0);
        assert_eq!(p.completion_tokens, 10);
        assert_eq!(p.tokens_per_s, 20.0);
        assert_eq!(p.requests_per_s, 4.0);
        assert_eq!(p.gateway_reported_overhead_ms.unwrap().p50, 0.05);
    }
}
