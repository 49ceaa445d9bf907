//! Deployments balanced through `crux serve` as configured by a user: two keys of one provider (`openai` and a copy
//! of it, `[providers.openai-org2] from = "openai"`, with its own key) weighted 3:1 split 400 requests 300/100, and a key that answers 429 cools down for its `retry-after`
//! while the other takes the traffic — visible in `x-crux-target` and `/api/providers`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod store_cli_support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use store_cli_support::Sandbox;

const KEYS: &[(&str, &str)] = &[("OPENAI_API_KEY", "key-a"), ("KEY_B", "key-b")];

fn config(mock: &str, a_headers: &str) -> String {
    format!(
        r#"
[resilience]
max_retries = 0

[providers.openai]
base_url = "{mock}/v1"
headers = {{ {a_headers} }}

[providers.openai-org2]
from = "openai"
base_url = "{mock}/v1"
api_key_env = "KEY_B"

[routes.pool]
strategy = "weighted"
targets = [{{ model = "openai/gpt-4o-mini", weight = 3 }}, {{ model = "openai-org2/gpt-4o-mini", weight = 1 }}]
"#
    )
}

/// `(target, fallback header)` of one chat completion through `pool`.
async fn ask(http: &reqwest::Client, url: &str) -> (u16, String) {
    let body = json!({"model": "pool", "messages": [{"role": "user", "content": "hi"}]});
    let r = http
        .post(format!("{url}/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let target = r
        .headers()
        .get("x-crux-target")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, target)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_keys_weighted_three_to_one_split_four_hundred_requests() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let gw = tokio::task::block_in_place(|| sb.serve("crux", &config(&mock.url(), ""), KEYS));
    let http = reqwest::Client::new();
    let mut a = 0;
    for _ in 0..400 {
        let (status, target) = ask(&http, &gw.url).await;
        assert_eq!(status, 200);
        if target == "openai/gpt-4o-mini" {
            a += 1;
        } else {
            assert_eq!(target, "openai-org2/gpt-4o-mini");
        }
    }
    let share = f64::from(a) / 400.0;
    assert!(
        (share - 0.75).abs() <= 0.05,
        "the first key served {a} of 400"
    );
    let keys: Vec<String> = mock
        .requests()
        .iter()
        .filter_map(|r| {
            r.headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(
        keys.iter().filter(|k| *k == "Bearer key-a").count(),
        a as usize
    );
    assert_eq!(
        keys.iter().filter(|k| *k == "Bearer key-b").count(),
        400 - a as usize
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_answers_429_cools_down_and_the_other_takes_the_traffic() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let cfg = config(
        &mock.url(),
        r#""x-mock-fault" = "status=429,retry_after=60""#,
    );
    let gw = tokio::task::block_in_place(|| sb.serve("crux", &cfg, KEYS));
    let http = reqwest::Client::new();
    let (status, target) = ask(&http, &gw.url).await;
    assert_eq!(
        (status, target.as_str()),
        (200, "openai-org2/gpt-4o-mini"),
        "the first request falls back"
    );
    for _ in 0..20 {
        assert_eq!(
            ask(&http, &gw.url).await,
            (200, "openai-org2/gpt-4o-mini".to_owned())
        );
    }
    let to_a = mock
        .requests()
        .iter()
        .filter(|r| {
            r.headers
                .iter()
                .any(|(k, v)| k == "authorization" && v == "Bearer key-a")
        })
        .count();
    assert_eq!(
        to_a, 1,
        "the limited key is not asked again while it cools down"
    );
    let text = http
        .get(format!("{}/api/providers", gw.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let pool = &v["routes"][0];
    assert_eq!(
        (pool["name"].as_str(), pool["strategy"].as_str()),
        (Some("pool"), Some("weighted"))
    );
    let a = &pool["deployments"][0];
    assert_eq!(a["model"], "openai/gpt-4o-mini");
    assert!(a["cooldown_ms"].as_u64().unwrap() > 50_000, "{a}");
    assert_eq!(pool["deployments"][1]["cooldown_ms"], 0);
}
