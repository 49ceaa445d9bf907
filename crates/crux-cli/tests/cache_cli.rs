//! The response cache through `crux serve` as configured by a user (`[cache] ttl = "10m"`): a repeated request is
//! answered from the cache in both dialects and both stream modes, with `x-crux-cache`, one upstream call and a log
//! row with cost 0; `Cache-Control: no-store` / `no-cache` are honoured; virtual keys never share answers; and with
//! `[cache] url = "redis://…"` a second instance answers what the first one cached (real Redis; skipped with a note
//! unless `CRUX_TEST_REDIS_URL` is set, a failure when `CRUX_REQUIRE_REDIS=1`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod store_cli_support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use store_cli_support::Sandbox;

const MASTER: &str = "cache-test-master";
const KEYS: &[(&str, &str)] = &[
    ("OPENAI_API_KEY", "k"),
    ("ANTHROPIC_API_KEY", "k"),
    ("CRUX_MASTER_KEY", MASTER),
];

struct Answer {
    status: u16,
    cache: String,
    body: String,
}

async fn post(url: &str, path: &str, body: &Value, extra: &[(&str, &str)]) -> Answer {
    let mut r = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("authorization", format!("Bearer {MASTER}"))
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json");
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    let resp = r
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let cache = resp
        .headers()
        .get("x-crux-cache")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Answer {
        status,
        cache,
        body: resp.text().await.unwrap(),
    }
}

/// A marker no earlier run (or a shared Redis) has seen.
fn nonce() -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("n{}x{t}x{n}", std::process::id())
}

fn upstream_calls(mock: &MockServer, marker: &str) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.raw_body.contains(marker))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_requests_are_answered_from_the_cache_in_both_dialects_and_stream_modes() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let cfg = format!(
        "[cache]\nttl = \"10m\"\n[providers.openai]\nbase_url = \"{m}/v1\"\n[providers.anthropic]\nbase_url = \"{m}\"\n",
        m = mock.url()
    );
    let gw = tokio::task::block_in_place(|| sb.serve("mem", &cfg, KEYS));
    let cases = [
        ("/v1/chat/completions", "openai/gpt-4o-mini", false),
        ("/v1/chat/completions", "openai/gpt-4o-mini", true),
        ("/v1/messages", "anthropic/claude-3-5-haiku-latest", false),
        ("/v1/messages", "anthropic/claude-3-5-haiku-latest", true),
    ];
    for (path, model, stream) in cases {
        let marker = nonce();
        let body = json!({"model": model, "max_tokens": 64, "stream": stream,
            "messages": [{"role": "user", "content": format!("cache me {marker}")}]});
        let first = post(&gw.url, path, &body, &[]).await;
        assert_eq!(
            (first.status, first.cache.as_str()),
            (200, "miss"),
            "{path} {stream}: {}",
            first.body
        );
        let second = post(&gw.url, path, &body, &[]).await;
        assert_eq!(
            (second.status, second.cache.as_str()),
            (200, "hit"),
            "{path} {stream}: {}",
            second.body
        );
        assert_eq!(
            upstream_calls(&mock, &marker),
            1,
            "{path} {stream}: one upstream call"
        );
        assert!(
            second.body.contains(&marker),
            "the cached answer echoes the prompt: {}",
            second.body
        );
        if stream {
            let end = if path == "/v1/messages" {
                "event: message_stop"
            } else {
                "data: [DONE]"
            };
            assert!(
                second.body.contains(end),
                "a cached stream is replayed as a stream: {}",
                second.body
            );
        } else {
            let v: Value = serde_json::from_str(&second.body).unwrap();
            let text = v["choices"][0]["message"]["content"]
                .as_str()
                .or(v["content"][0]["text"].as_str())
                .unwrap();
            assert!(text.contains(&marker));
        }
        let refreshed = post(&gw.url, path, &body, &[("cache-control", "no-cache")]).await;
        assert_eq!(refreshed.cache, "miss");
        let bypassed = post(&gw.url, path, &body, &[("cache-control", "no-store")]).await;
        assert_eq!(bypassed.cache, "miss");
        assert_eq!(
            upstream_calls(&mock, &marker),
            3,
            "no-cache and no-store went upstream"
        );
    }

    // The hits are logged with cost 0 and marked (the log is written through the store's queue: wait for it).
    let mut rows = Vec::new();
    let mut logs = String::new();
    for _ in 0..200 {
        logs = reqwest::Client::new()
            .get(format!("{}/api/logs?limit=100", gw.url))
            .header("authorization", format!("Bearer {MASTER}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let v: Value = serde_json::from_str(&logs).unwrap();
        rows = v["logs"].as_array().cloned().unwrap_or_default();
        if rows.len() >= 16 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(rows.len(), 16, "every request logged once: {logs}");
    let hits: Vec<&Value> = rows
        .iter()
        .filter(|r| r["metadata"]["cache"] == "hit")
        .collect();
    assert_eq!(hits.len(), 4, "one logged hit per case: {logs}");
    assert!(
        hits.iter().all(|r| r["cost_usd"].as_f64() == Some(0.0)),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_answers_from_the_shared_redis_cache() {
    let Ok(redis) = std::env::var("CRUX_TEST_REDIS_URL") else {
        assert!(
            std::env::var("CRUX_REQUIRE_REDIS").is_err(),
            "CRUX_REQUIRE_REDIS is set but CRUX_TEST_REDIS_URL is not"
        );
        println!("note: Redis cache test skipped (set CRUX_TEST_REDIS_URL=redis://127.0.0.1:6379)");
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let cfg = format!(
        "[cache]\nttl = \"1m\"\nurl = \"{redis}\"\n[providers.openai]\nbase_url = \"{}/v1\"\n",
        mock.url()
    );
    let a = tokio::task::block_in_place(|| sb.serve("a", &cfg, KEYS));
    let b = tokio::task::block_in_place(|| sb.serve("b", &cfg, KEYS));
    let marker = nonce();
    let body = json!({"model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": format!("shared {marker}")}]});
    assert_eq!(
        post(&a.url, "/v1/chat/completions", &body, &[]).await.cache,
        "miss"
    );
    // The write to Redis happens beside the answer (a task of its own): let it land.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let hit = post(&b.url, "/v1/chat/completions", &body, &[]).await;
    assert_eq!(
        hit.cache, "hit",
        "instance b answered from what a cached: {}",
        hit.body
    );
    assert_eq!(upstream_calls(&mock, &marker), 1);
}
