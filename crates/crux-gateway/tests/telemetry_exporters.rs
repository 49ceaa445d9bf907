//! The StatsD and Prometheus push exporters against real receivers on loopback: a UDP listener that parses every
//! line, and Debian's `prometheus-pushgateway` started here (skipped with a note only when it is absent outside CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crux_gateway::GatewayConfig;
use crux_gateway::telemetry::{PushConfig, StatsdConfig, TelemetryConfig};
use crux_llm::breaker::Clock;
use harness::Gateway;
use serde_json::json;

fn chat(text: &str) -> serde_json::Value {
    json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}]})
}

/// One StatsD/DogStatsD line: `name:value|type[|@rate][|#k:v,...]`; every part is checked.
#[derive(Debug)]
struct Line {
    name: String,
    kind: String,
    tags: Vec<(String, String)>,
}

fn parse_line(line: &str) -> Result<Line, String> {
    let (name, rest) = line.split_once(':').ok_or("no ':'")?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err(format!("bad name '{name}'"));
    }
    let mut parts = rest.split('|');
    let values = parts.next().ok_or("no value")?;
    for v in values.split(':') {
        v.parse::<f64>().map_err(|_| format!("bad value '{v}'"))?;
    }
    let kind = parts.next().ok_or("no type")?.to_owned();
    if !["c", "g", "ms", "h", "d", "s"].contains(&kind.as_str()) {
        return Err(format!("bad type '{kind}'"));
    }
    let mut tags = Vec::new();
    for p in parts {
        if let Some(rate) = p.strip_prefix('@') {
            rate.parse::<f64>()
                .map_err(|_| format!("bad rate '{rate}'"))?;
        } else if let Some(t) = p.strip_prefix('#') {
            for tag in t.split(',') {
                let (k, v) = tag.split_once(':').ok_or(format!("bad tag '{tag}'"))?;
                tags.push((k.to_owned(), v.to_owned()));
            }
        } else if !p.starts_with('T') && !p.starts_with("c:") {
            return Err(format!("unknown field '{p}'"));
        }
    }
    Ok(Line {
        name: name.to_owned(),
        kind,
        tags,
    })
}

async fn statsd_gateway(tags: bool) -> (Gateway, tokio::net::UdpSocket) {
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let config = GatewayConfig {
        telemetry: TelemetryConfig {
            statsd: Some(StatsdConfig {
                addr: udp.local_addr().unwrap().to_string(),
                flush_interval: Duration::from_millis(50),
                tags,
            }),
            ..TelemetryConfig::default()
        },
        ..GatewayConfig::default()
    };
    (
        Gateway::start_with(config, &[], Clock::default()).await,
        udp,
    )
}

/// Read datagrams until `done` holds for the lines so far (every line must parse), or fail after ~10 s.
async fn receive(udp: &tokio::net::UdpSocket, done: impl Fn(&[Line]) -> bool) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut buf = vec![0u8; 65536];
    for _ in 0..200 {
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(50), udp.recv(&mut buf)).await
        {
            let text = std::str::from_utf8(&buf[..n]).unwrap();
            for l in text.lines().filter(|l| !l.is_empty()) {
                lines.push(
                    parse_line(l).unwrap_or_else(|e| panic!("unparsable statsd line '{l}': {e}")),
                );
            }
        }
        if done(&lines) {
            return lines;
        }
    }
    panic!("statsd receiver timed out; got {lines:?}");
}

#[tokio::test]
async fn statsd_lines_parse_and_carry_dogstatsd_tags() {
    let (g, udp) = statsd_gateway(true).await;
    assert_eq!(
        g.post("/v1/chat/completions", "k", &chat("statsd me"))
            .await
            .0,
        200
    );
    let lines = receive(&udp, |ls| {
        ls.iter().any(|l| l.name == "crux_requests_total")
            && ls.iter().any(|l| l.name == "crux_request_duration_seconds")
    })
    .await;
    let req = lines
        .iter()
        .find(|l| l.name == "crux_requests_total")
        .unwrap();
    assert_eq!(req.kind, "c");
    for (k, v) in [
        ("provider", "openai"),
        ("model", "gpt-4o-mini"),
        ("route", "chat_completions"),
        ("status", "ok"),
    ] {
        assert!(req.tags.iter().any(|(a, b)| a == k && b == v), "{req:?}");
    }
    let dur = lines
        .iter()
        .find(|l| l.name == "crux_request_duration_seconds")
        .unwrap();
    assert!(["d", "h", "ms"].contains(&dur.kind.as_str()), "{dur:?}");
}

#[tokio::test]
async fn plain_statsd_folds_labels_into_names() {
    let (g, udp) = statsd_gateway(false).await;
    assert_eq!(
        g.post("/v1/chat/completions", "k", &chat("plain")).await.0,
        200
    );
    let lines = receive(&udp, |ls| {
        ls.iter()
            .any(|l| l.name.starts_with("crux_requests_total."))
    })
    .await;
    let req = lines
        .iter()
        .find(|l| l.name.starts_with("crux_requests_total."))
        .unwrap();
    assert_eq!(
        req.name,
        "crux_requests_total.openai.gpt-4o-mini.chat_completions.ok"
    );
    assert!(lines.iter().all(|l| l.tags.is_empty()), "{lines:?}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn pushgateway_binary() -> Option<String> {
    ["prometheus-pushgateway", "pushgateway"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH")
                .and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|d| d.join(name))
                        .find(|p| p.exists())
                })
                .map(|p| p.display().to_string())
        })
        .or_else(|| {
            Some("/usr/bin/prometheus-pushgateway".to_owned())
                .filter(|p| std::path::Path::new(p).exists())
        })
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn push_gateway_receives_grouped_metrics() {
    let Some(bin) = pushgateway_binary() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have prometheus-pushgateway installed"
        );
        println!("note: push gateway test skipped (prometheus-pushgateway not installed)");
        return;
    };
    let port = free_port();
    let _pg = Killed(
        Command::new(bin)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http
            .get(format!("{base}/-/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let config = GatewayConfig {
        telemetry: TelemetryConfig {
            push: Some(PushConfig {
                url: base.clone(),
                interval: Duration::from_millis(100),
                job: "crux".into(),
                instance: "test-1".into(),
            }),
            ..TelemetryConfig::default()
        },
        ..GatewayConfig::default()
    };
    let g = Gateway::start_with(config, &[], Clock::default()).await;
    assert_eq!(
        g.post("/v1/chat/completions", "k", &chat("push me"))
            .await
            .0,
        200
    );
    let want = "route=\"chat_completions\",status=\"ok\"";
    let mut last = String::new();
    for _ in 0..100 {
        last = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if last.lines().any(|l| {
            l.starts_with("crux_requests_total{")
                && l.contains(want)
                && l.contains("instance=\"test-1\"")
                && l.contains("job=\"crux\"")
        }) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the push gateway never showed the request:\n{last}");
}
