//! The Prometheus push exporter: every interval, the registry's text exposition is `PUT` to
//! `{url}/metrics/job/{job}/instance/{instance}` from a background task. A failed push is counted in
//! `crux_exporter_failures_total{exporter="push"}` and retried at the next tick; requests never wait on it.

use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::telemetry::catalog::Exporter;
use crate::telemetry::{Live, PushConfig, export_failed};

/// The push URL of a grouping key (each label value path-escaped).
pub fn push_url(cfg: &PushConfig) -> String {
    format!(
        "{}/metrics/job/{}/instance/{}",
        cfg.url.trim_end_matches('/'),
        escape(&cfg.job),
        escape(&cfg.instance)
    )
}

fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Push once; `false` (and counted) on failure.
pub async fn push_once(http: &reqwest::Client, url: &str, handle: &PrometheusHandle) -> bool {
    let sent = http
        .put(url)
        .header("content-type", "text/plain; version=0.0.4")
        .body(handle.render())
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => true,
        Ok(r) => {
            tracing::debug!(
                status = r.status().as_u16(),
                "push gateway refused the metrics"
            );
            export_failed(Exporter::Push);
            false
        }
        Err(e) => {
            tracing::debug!(error = %e, "push gateway unreachable");
            export_failed(Exporter::Push);
            false
        }
    }
}

/// Spawn the push loop (`None`, counted as a failure, outside a Tokio runtime).
pub fn spawn(
    cfg: PushConfig,
    handle: PrometheusHandle,
    live: Live,
) -> Option<tokio::task::JoinHandle<()>> {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        export_failed(Exporter::Push);
        return None;
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5).min(cfg.interval.max(Duration::from_millis(100))))
        .build()
        .ok()?;
    let url = push_url(&cfg);
    Some(rt.spawn(async move {
        let mut tick = tokio::time::interval(cfg.interval.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Some(refresh) = live.get() {
                refresh();
            }
            handle.run_upkeep();
            push_once(&http, &url, &handle).await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_key_is_path_escaped() {
        let cfg = PushConfig {
            url: "http://127.0.0.1:9091/".into(),
            interval: Duration::from_secs(1),
            job: "crux".into(),
            instance: "host a:4000".into(),
        };
        assert_eq!(
            push_url(&cfg),
            "http://127.0.0.1:9091/metrics/job/crux/instance/host%20a%3A4000"
        );
    }
}
