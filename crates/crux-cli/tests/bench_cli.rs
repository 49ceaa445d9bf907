//! `crux bench` end to end against `crux mock`, directly and through `crux serve`: the `--json` document's shape,
//! warmup counted apart from the stats, errors by code, and the human table.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod store_cli_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};

use crux_mock::MockServer;
use serde_json::Value;
use store_cli_support::{Sandbox, stderr, stdout};

fn bench(sb: &Sandbox, mock: &MockServer, args: &[&str]) -> Output {
    tokio::task::block_in_place(|| {
        sb.cmd()
            .env("OPENAI_BASE_URL", format!("{}/v1", mock.url()))
            .env("OPENAI_API_KEY", "test-key")
            .arg("bench")
            .args(args)
            .output()
            .unwrap()
    })
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}

fn assert_percentiles(v: &Value) {
    for k in ["min", "p50", "p90", "p95", "p99", "max", "mean"] {
        assert!(v[k].as_f64().is_some(), "{k} missing in {v}");
    }
    assert!(v["min"].as_f64() <= v["p50"].as_f64() && v["p50"].as_f64() <= v["max"].as_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_document_has_every_field_and_warmup_is_apart() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let args = [
        "openai/gpt-4o-mini",
        "--requests",
        "12",
        "--concurrency",
        "3",
        "--warmup",
        "3",
        "--stream",
        "--prompt",
        "bench me",
        "--json",
    ];
    let out = bench(&sb, &mock, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["model"], "openai/gpt-4o-mini");
    assert_eq!(doc["via"], "direct");
    assert_eq!(doc["stream"], true);
    assert_eq!(doc["requests"], 12);
    assert_eq!(doc["ok"], 12);
    assert_eq!(doc["errors"], serde_json::json!({}));
    assert_eq!(doc["served_by"]["openai/gpt-4o-mini"], 12);
    assert_percentiles(&doc["latency_ms"]);
    assert_percentiles(&doc["ttft_ms"]);
    assert!(doc["tokens_per_s"].as_f64().unwrap() > 0.0, "{doc}");
    assert!(doc["requests_per_s"].as_f64().unwrap() > 0.0, "{doc}");
    assert!(doc["completion_tokens"].as_u64().unwrap() > 0, "{doc}");
    // The warmup ran, is reported on its own (not zero), and is not in the measured numbers.
    let w = &doc["warmup_stats"];
    assert_eq!(
        (w["requests"].as_u64(), w["ok"].as_u64()),
        (Some(3), Some(3)),
        "{w}"
    );
    assert_percentiles(&w["latency_ms"]);
    assert!(w["completion_tokens"].as_u64().unwrap() > 0, "{w}");
    let sent = mock
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .count();
    assert_eq!(sent, 15);
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.body["messages"][0]["content"] == "bench me")
    );
    // Progress goes to stderr only on a terminal: none here.
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_counted_by_code_and_all_failing_exits_1() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let args = [
        "openai/gpt-4o-mini",
        "--requests",
        "3",
        "--warmup",
        "0",
        "--prompt",
        "[[mock status=400]] no",
        "--json",
    ];
    let out = bench(&sb, &mock, &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["ok"], 0);
    assert_eq!(doc["errors"]["validation"], 3, "{doc}");
    assert!(
        doc["latency_ms"].is_null() && doc["ttft_ms"].is_null(),
        "{doc}"
    );
    assert!(
        stderr(&out).contains("every request failed (validation)"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_for_people() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let out = bench(
        &sb,
        &mock,
        &["openai/gpt-4o-mini", "--requests", "5", "--stream"],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("MIN  P50  P90  P95  P99  MAX  MEAN") || text.contains("P50"),
        "{text}"
    );
    assert!(
        text.contains("latency ms") && text.contains("ttft ms"),
        "{text}"
    );
    assert!(text.contains("ok 5/5 · errors: none"), "{text}");
    assert!(text.contains("warmup: 2 requests, 2 ok"), "{text}");
    assert!(!text.contains("\x1b["), "no colour in a pipe: {text:?}");
    let out = bench(&sb, &mock, &["openai/gpt-4o-mini", "--requests", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_crux_serve_with_the_direct_comparison() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let mut child = sb
        .cmd()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("OPENAI_BASE_URL", format!("{}/v1", mock.url()))
        .env("OPENAI_API_KEY", "test-key")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap());
    let _guard = Killed(child);
    let url = loop {
        let mut line = String::new();
        assert!(lines.read_line(&mut line).unwrap() > 0, "serve exited");
        if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            break u.trim_end_matches([',', '.']).to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines.lines() {});
    let args = [
        "openai/gpt-4o-mini",
        "--requests",
        "6",
        "--warmup",
        "1",
        "--stream",
        "--base-url",
        &url,
        "--compare-direct",
        "--json",
    ];
    let out = bench(&sb, &mock, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["via"], "gateway");
    assert_eq!(doc["base_url"], url.as_str());
    assert_eq!(doc["ok"], 6);
    assert_eq!(doc["served_by"]["openai/gpt-4o-mini"], 6);
    assert_percentiles(&doc["latency_ms"]);
    assert_percentiles(&doc["direct"]["latency_ms"]);
    let overhead = doc["gateway_overhead_p50_ms"].as_f64().unwrap();
    let (g, d) = (
        doc["latency_ms"]["p50"].as_f64().unwrap(),
        doc["direct"]["latency_ms"]["p50"].as_f64().unwrap(),
    );
    assert!((overhead - (g - d)).abs() < 0.01, "{doc}");
    // The hop the gateway cannot time (a bare round trip to it) is measured beside what it reports.
    assert!(doc["gateway_hop_p50_ms"].as_f64().unwrap() > 0.0, "{doc}");
    assert!(
        doc["gateway_reported_overhead_p50_ms"].as_f64().is_some(),
        "{doc}"
    );
    // 7 through the gateway (which forwards them) and 7 direct: 14 reached the mock.
    let sent = mock
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .count();
    assert_eq!(sent, 14);
}
