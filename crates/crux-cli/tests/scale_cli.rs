//! `[scale] redis_url` as a user runs it: two `crux serve` instances on one store and one Redis hold a virtual key's
//! requests-per-minute limit exactly under concurrent load (no overshoot), share its tokens-per-minute limit and its
//! budget at once (what one instance used, the other refuses), and `/ready` says the limits live in Redis;
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
    let (key, _) = create_key(&sb, &["shared", "--rpm", "20"]);
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

fn create_key(sb: &Sandbox, args: &[&str]) -> (String, String) {
    let created = sb.run(&[&["virtual-keys", "create"], args, &["--json"]].concat());
    assert!(created.status.success(), "{}", stderr(&created));
    let v = serde_json::from_str::<Value>(&stdout(&created)).unwrap();
    (
        v["key"].as_str().unwrap().to_owned(),
        v["id"].as_str().unwrap().to_owned(),
    )
}

async fn chat(url: &str, key: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{url}/v1/chat/completions"))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"one two three"}]}"#)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap(),
    )
}

/// Wait until Redis holds what a finished request recorded (the gateway writes it just after answering).
async fn wait_for(
    redis: &mut redis::aio::MultiplexedConnection,
    what: &str,
    done: impl Fn(f64) -> bool,
) {
    for _ in 0..500 {
        let now: f64 = if what.starts_with("crux:tpm:") {
            let vals: Vec<i64> = redis::cmd("HVALS")
                .arg(what)
                .query_async(redis)
                .await
                .unwrap();
            vals.iter().sum::<i64>() as f64
        } else {
            let v: Option<f64> = redis::cmd("GET")
                .arg(what)
                .query_async(redis)
                .await
                .unwrap();
            v.unwrap_or(0.0)
        };
        if done(now) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{what} never reached the expected value");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_a_tpm_limit_and_a_budget_through_redis() {
    let Some(redis_url) = redis_url() else { return };
    let mut redis = redis::Client::open(redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let (tpm_key, tpm_id) = create_key(&sb, &["tokens", "--tpm", "40"]);
    let (budget_key, budget_id) = create_key(&sb, &["money", "--budget-usd", "0.000001"]);
    let cfg = format!(
        "[scale]\nredis_url = \"{redis_url}\"\n[providers.openai]\nbase_url = \"{}/v1\"\n",
        mock.url()
    );
    let a = tokio::task::block_in_place(|| sb.serve("ta", &cfg, KEYS));
    let b = tokio::task::block_in_place(|| sb.serve("tb", &cfg, KEYS));
    // Tokens: alternate instances; each request's tokens land in Redis before the next is sent.
    let (mut used, mut admitted) = (0_u64, 0);
    loop {
        let gw = if admitted % 2 == 0 { &a } else { &b };
        let (status, body) = chat(&gw.url, &tpm_key).await;
        if status == 429 {
            let msg = body["error"]["message"].as_str().unwrap_or_default();
            assert!(msg.contains("40 tokens per minute"), "{body}");
            break;
        }
        assert_eq!(status, 200, "{body}");
        admitted += 1;
        used += body["usage"]["total_tokens"].as_u64().unwrap();
        #[allow(clippy::cast_precision_loss)]
        let want = used as f64;
        wait_for(&mut redis, &format!("crux:tpm:{tpm_id}"), |n| n >= want).await;
        assert!(admitted < 40, "the tpm limit never refused");
    }
    assert!(
        used >= 40,
        "refused only once the minute's tokens reached the limit ({used})"
    );
    assert!(admitted >= 2, "both instances served before the limit");
    // Budget: spent through one instance, refused by the other (whose own store sync has not seen it yet).
    let (status, body) = chat(&a.url, &budget_key).await;
    assert_eq!(status, 200, "{body}");
    wait_for(&mut redis, &format!("crux:spend:{budget_id}"), |usd| {
        usd > 0.0
    })
    .await;
    let (status, body) = chat(&b.url, &budget_key).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("budget of $0.00 (across instances)"),
        "{body}"
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
    let (key, _) = create_key(&sb, &["local", "--rpm", "3"]);
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
