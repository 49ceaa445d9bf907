//! `[scale] redis_url` as a user runs it: two `crux serve` instances on one store and one Redis hold a virtual key's
//! requests-per-minute limit exactly under concurrent load (no overshoot), and `/ready` says the limits live in Redis;
//! an instance whose Redis is gone keeps serving on local limits and says so. Real Redis: skipped with a note unless
//! `CRUX_TEST_REDIS_URL` is set, a failure when `CRUX_REQUIRE_REDIS=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod store_cli_support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use store_cli_support::{Sandbox, stderr, stdout};

const KEYS: &[(&str, &str)] = &[("OPENAI_API_KEY", "k"), ("CRUX_MASTER_KEY", "scale-master")];

fn redis_url() -> Option<String> {
    match std::env::var("CRUX_TEST_REDIS_URL") {
        Ok(u) => Some(u),
        Err(_) => {
            assert!(
                std::env::var("CRUX_REQUIRE_REDIS").is_err(),
                "CRUX_REQUIRE_REDIS is set but CRUX_TEST_REDIS_URL is not"
            );
            println!(
                "note: Redis scale tests skipped (set CRUX_TEST_REDIS_URL=redis://127.0.0.1:6379)"
            );
            None
        }
    }
}

async fn get_json(url: &str) -> Value {
    serde_json::from_str(&reqwest::get(url).await.unwrap().text().await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_sharing_redis_hold_an_rpm_limit_exactly() {
    let Some(redis) = redis_url() else { return };
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let created = sb.run(&["virtual-keys", "create", "shared", "--rpm", "20", "--json"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let key = serde_json::from_str::<Value>(&stdout(&created)).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let cfg = format!(
        "[scale]\nredis_url = \"{redis}\"\n[providers.openai]\nbase_url = \"{}/v1\"\n",
        mock.url()
    );
    let a = tokio::task::block_in_place(|| sb.serve("a", &cfg, KEYS));
    let b = tokio::task::block_in_place(|| sb.serve("b", &cfg, KEYS));
    for gw in [&a, &b] {
        let ready = get_json(&format!("{}/ready", gw.url)).await;
        assert_eq!(
            (ready["redis"].as_str(), ready["limits"].as_str()),
            (Some("up"), Some("redis")),
            "{ready}"
        );
    }
    let http = reqwest::Client::new();
    let body = serde_json::to_vec(&json!({"model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}]}))
    .unwrap();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let url = if i % 2 == 0 {
            a.url.clone()
        } else {
            b.url.clone()
        };
        let (http, body, key) = (http.clone(), body.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{url}/v1/chat/completions"))
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.headers().get("retry-after").is_some(),
            )
        }));
    }
    let mut ok = 0;
    let mut limited = 0;
    for t in tasks {
        match t.await.unwrap() {
            (200, _) => ok += 1,
            (429, retry_after) => {
                assert!(retry_after, "a 429 says when to come back");
                limited += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        (ok, limited),
        (20, 40),
        "exactly the limit across both instances"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_redis_an_instance_serves_on_local_limits_and_says_so() {
    if redis_url().is_none() {
        return;
    }
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let created = sb.run(&["virtual-keys", "create", "local", "--rpm", "3", "--json"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let key = serde_json::from_str::<Value>(&stdout(&created)).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let cfg = format!(
        "[scale]\nredis_url = \"redis://127.0.0.1:{closed}\"\n[providers.openai]\nbase_url = \"{}/v1\"\n",
        mock.url()
    );
    let gw = tokio::task::block_in_place(|| sb.serve("down", &cfg, KEYS));
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = http
            .post(format!("{}/v1/chat/completions", gw.url))
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses,
        vec![200, 200, 200, 429, 429],
        "local limits hold while Redis is away"
    );
    let ready = get_json(&format!("{}/ready", gw.url)).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(
        (ready["redis"].as_str(), ready["limits"].as_str()),
        (Some("down"), Some("local")),
        "{ready}"
    );
    let metrics = http
        .get(format!("{}/metrics", gw.url))
        .header("authorization", "Bearer scale-master")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("crux_redis_up{use=\"limits\"} 0"),
        "{metrics}"
    );
}
