//! AWS Bedrock as a user configures it (`[providers.bedrock] wire = "bedrock"`, credentials in the standard AWS
//! variables): `crux serve` answers both dialects, streamed and not, from the Converse API of `crux mock`, which
//! verifies every SigV4 signature; a wrong secret is an upstream failure in the caller's dialect (the gateway's own
//! credentials, never the caller's: 502, the secret nowhere in the answer); `crux chat` works with
//! the same variables and names them when they are missing, and with `auth = "bearer"` sends a Bedrock API key instead.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod store_cli_support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use store_cli_support::{Sandbox, stderr, stdout};

const MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

fn toml(mock: &str) -> String {
    format!(
        r#"
[providers.bedrock]
wire = "bedrock"
base_url = "{mock}"
region = "eu-west-1"
models = [{{ id = "{MODEL}", context = 200000, input_price = 0.8, output_price = 4.0 }}]
"#
    )
}

fn aws(secret: &str) -> [(&'static str, String); 3] {
    [
        ("AWS_ACCESS_KEY_ID", "AKIDCRUXTEST".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", secret.to_owned()),
        ("AWS_SESSION_TOKEN", "session-token-1".to_owned()),
    ]
}

async fn post(url: &str, path: &str, body: Value) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedrock_serves_both_dialects_with_signed_requests() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let creds = aws(crux_mock::AWS_SECRET_ACCESS_KEY);
    let envs: Vec<(&str, &str)> = creds.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gw = tokio::task::block_in_place(|| sb.serve("crux", &toml(&mock.url()), &envs));
    let model = format!("bedrock/{MODEL}");
    let msgs = json!([{"role": "user", "content": "hello from bedrock"}]);
    for stream in [false, true] {
        let (status, body) = post(
            &gw.url,
            "/v1/chat/completions",
            json!({"model": model, "stream": stream, "messages": msgs}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("bedrock"), "{body}");
        if stream {
            assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
        }
        let (status, body) = post(
            &gw.url,
            "/v1/messages",
            json!({"model": model, "max_tokens": 64, "stream": stream, "messages": msgs,
                   "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}]}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("bedrock"), "{body}");
    }
    let seen = mock.requests();
    assert_eq!(seen.len(), 4);
    for r in &seen {
        assert!(
            r.path
                .starts_with("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"),
            "{}",
            r.path
        );
        let auth = r
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDCRUXTEST/"),
            "{auth}"
        );
        assert!(auth.contains("/eu-west-1/bedrock/aws4_request"), "{auth}");
        assert!(!auth.contains(crux_mock::AWS_SECRET_ACCESS_KEY));
        assert!(
            r.headers
                .iter()
                .any(|(k, v)| k == "x-amz-security-token" && v == "session-token-1")
        );
    }
    assert_eq!(
        seen.iter()
            .filter(|r| r.path.ends_with("/converse-stream"))
            .count(),
        2
    );
    // The Anthropic client's cache marker reached Converse as a cache point.
    assert_eq!(
        seen[1].body["system"][1],
        json!({"cachePoint": {"type": "default"}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_an_upstream_failure_in_the_callers_dialect() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let creds = aws("not-the-secret");
    let envs: Vec<(&str, &str)> = creds.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gw = tokio::task::block_in_place(|| sb.serve("crux", &toml(&mock.url()), &envs));
    let (status, body) = post(
        &gw.url,
        "/v1/messages",
        json!({"model": format!("bedrock/{MODEL}"), "max_tokens": 64,
               "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(status, 502, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["type"], "error", "{body}");
    assert!(body.contains("signature"), "{body}");
    assert!(!body.contains("not-the-secret"), "{body}");
}

#[test]
fn crux_chat_signs_with_the_aws_variables_and_names_them_when_missing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt.block_on(async { MockServer::start().await.unwrap() });
    let sb = Sandbox::new();
    let path = sb.dir.path().join("crux.toml");
    std::fs::write(&path, toml(&mock.url())).unwrap();
    let cfg = path.to_str().unwrap();
    let model = format!("bedrock/{MODEL}");
    let out = sb
        .cmd()
        .envs(aws(crux_mock::AWS_SECRET_ACCESS_KEY))
        .args(["chat", &model, "hello signed", "--stream", "--config", cfg])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("hello signed"), "{}", stdout(&out));
    let missing = sb
        .cmd()
        .args(["chat", &model, "hi", "--config", cfg])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("AWS_ACCESS_KEY_ID"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn a_bedrock_api_key_is_sent_as_a_bearer_token_instead_of_a_signature() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt.block_on(async { MockServer::start().await.unwrap() });
    let sb = Sandbox::new();
    let path = sb.dir.path().join("crux.toml");
    let cfg = format!(
        "{}auth = \"bearer\"\napi_key_env = \"AWS_BEARER_TOKEN_BEDROCK\"\n",
        toml(&mock.url())
    );
    std::fs::write(&path, cfg).unwrap();
    let out = sb
        .cmd()
        .env("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-1")
        .args(["chat", &format!("bedrock/{MODEL}"), "hello keyed"])
        .args(["--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("hello keyed"), "{}", stdout(&out));
    let sent = &mock.requests()[0];
    let auth = sent
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str());
    assert_eq!(auth, Some("Bearer bedrock-api-key-1"));
    assert!(
        !sent.headers.iter().any(|(k, _)| k == "x-amz-date"),
        "no signature beside the key"
    );
}
