//! `[telemetry]` of the config file: which exporters run and how, turned into the gateway's typed
//! [`TelemetryConfig`]. `statsd` and `otlp` take an address string or a table; `push` is a table.

use std::time::Duration;

use crux_gateway::telemetry::{OtlpConfig, PushConfig, StatsdConfig, TelemetryConfig};
use serde::Deserialize;

use crate::exit::Failure;

/// `[telemetry]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySection {
    /// Serve `GET /metrics` (default true).
    pub prometheus: Option<bool>,
    /// `GET /metrics` needs the master key (loopback only without one); `false` opens it to any peer.
    pub metrics_auth: Option<bool>,
    /// Prometheus push gateway.
    pub push: Option<PushSection>,
    /// StatsD receiver: `"host:port"` or a table.
    pub statsd: Option<StatsdSection>,
    /// OTLP/HTTP collector: `"http://host:4318"` or a table.
    pub otlp: Option<OtlpSection>,
}

/// `push = { url, interval_ms, job, instance }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushSection {
    /// Push gateway base URL.
    pub url: String,
    /// Time between pushes (default 15 000).
    pub interval_ms: Option<u64>,
    /// `job` grouping label (default `crux`).
    pub job: Option<String>,
    /// `instance` grouping label (default the listen address).
    pub instance: Option<String>,
}

/// `statsd = "host:port"` or `{ addr, flush_ms, tags = "dogstatsd" | "none" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StatsdSection {
    /// Address only.
    Addr(String),
    /// Everything.
    Table {
        /// `host:port`.
        addr: String,
        /// Flush interval (default 1000).
        flush_ms: Option<u64>,
        /// `dogstatsd` (labels as tags, the default) or `none` (plain StatsD, labels in the name).
        tags: Option<String>,
    },
}

/// `otlp = "http://host:4318"` or `{ endpoint, interval_ms, service_name, metrics }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OtlpSection {
    /// Endpoint only.
    Endpoint(String),
    /// Everything.
    Table {
        /// Collector base URL.
        endpoint: String,
        /// Metric export interval (default 15 000).
        interval_ms: Option<u64>,
        /// `service.name` (default `crux`).
        service_name: Option<String>,
        /// Export metrics too (default true).
        metrics: Option<bool>,
    },
}

fn interval(ms: Option<u64>, default: u64, what: &str) -> Result<Duration, Failure> {
    match ms.unwrap_or(default) {
        0 => Err(Failure::usage(format!(
            "config [telemetry] {what} must be at least 1 ms"
        ))),
        ms => Ok(Duration::from_millis(ms)),
    }
}

fn http_url(url: &str, what: &str) -> Result<String, Failure> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.trim_end_matches('/').to_owned())
    } else {
        Err(Failure::usage(format!(
            "config [telemetry] {what} must be an http:// or https:// URL (got '{url}')"
        )))
    }
}

/// The OTLP settings, if any (traces, and metrics unless `metrics = false`, exported by the gateway).
fn otlp(section: &TelemetrySection) -> Result<Option<OtlpConfig>, Failure> {
    let Some(o) = &section.otlp else {
        return Ok(None);
    };
    let (endpoint, ms, name, metrics) = match o {
        OtlpSection::Endpoint(e) => (e, None, None, None),
        OtlpSection::Table {
            endpoint,
            interval_ms,
            service_name,
            metrics,
        } => (endpoint, *interval_ms, service_name.clone(), *metrics),
    };
    Ok(Some(OtlpConfig {
        endpoint: http_url(endpoint, "otlp")?,
        interval: interval(ms, 15_000, "otlp.interval_ms")?,
        service_name: name.unwrap_or_else(|| "crux".to_owned()),
        metrics: metrics.unwrap_or(true),
    }))
}

/// The exporters of `[telemetry]`, validated.
pub fn telemetry(section: &TelemetrySection) -> Result<TelemetryConfig, Failure> {
    let push = match &section.push {
        Some(p) => Some(PushConfig {
            url: http_url(&p.url, "push.url")?,
            interval: interval(p.interval_ms, 15_000, "push.interval_ms")?,
            job: p.job.clone().unwrap_or_else(|| "crux".to_owned()),
            instance: p.instance.clone().unwrap_or_default(),
        }),
        None => None,
    };
    let statsd = match &section.statsd {
        Some(s) => {
            let (addr, ms, tags) = match s {
                StatsdSection::Addr(a) => (a, None, None),
                StatsdSection::Table {
                    addr,
                    flush_ms,
                    tags,
                } => (addr, *flush_ms, tags.as_deref()),
            };
            if addr
                .rsplit_once(':')
                .is_none_or(|(_, p)| p.parse::<u16>().is_err())
            {
                return Err(Failure::usage(format!(
                    "config [telemetry] statsd must be HOST:PORT (got '{addr}')"
                )));
            }
            let tags = match tags {
                None | Some("dogstatsd") => true,
                Some("none") => false,
                Some(other) => {
                    return Err(Failure::usage(format!(
                        "config [telemetry] statsd.tags must be \"dogstatsd\" or \"none\" (got '{other}')"
                    )));
                }
            };
            Some(StatsdConfig {
                addr: addr.clone(),
                flush_interval: interval(ms, 1000, "statsd.flush_ms")?,
                tags,
            })
        }
        None => None,
    };
    Ok(TelemetryConfig {
        push,
        statsd,
        otlp: otlp(section)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> TelemetrySection {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn short_and_long_forms() {
        let t = telemetry(&parse(
            "statsd = \"127.0.0.1:8125\"\notlp = \"http://127.0.0.1:4318/\"\npush = { url = \"http://127.0.0.1:9091\", interval_ms = 500 }",
        ))
        .unwrap();
        assert!(t.statsd.as_ref().unwrap().tags);
        assert_eq!(t.otlp.as_ref().unwrap().endpoint, "http://127.0.0.1:4318");
        assert_eq!(
            t.push.as_ref().unwrap().interval,
            Duration::from_millis(500)
        );
        assert_eq!(t.push.as_ref().unwrap().job, "crux");
        let t = telemetry(&parse(
            "statsd = { addr = \"127.0.0.1:8125\", tags = \"none\", flush_ms = 100 }\notlp = { endpoint = \"http://c:4318\", metrics = false }",
        ))
        .unwrap();
        assert!(!t.statsd.unwrap().tags);
        assert!(!t.otlp.unwrap().metrics);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        assert!(telemetry(&parse("statsd = \"nope\"")).is_err());
        assert!(telemetry(&parse("otlp = \"127.0.0.1:4318\"")).is_err());
        assert!(telemetry(&parse("statsd = { addr = \"h:1\", tags = \"x\" }")).is_err());
        assert!(telemetry(&parse("push = { url = \"http://h\", interval_ms = 0 }")).is_err());
    }
}
