//! Providers of your own (`[providers.NAME]` with a `wire`) as a user meets them: `crux serve` lists their models in
//! `/v1/models` and `/api/providers` and serves them to both dialects (stream and not), `crux chat` uses them with a
//! key from the environment or the vault, an Anthropic-wire one speaks that wire, and a missing required key is one
//! clear error.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod store_cli_support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use store_cli_support::{Sandbox, stderr, stdout};

fn config(sb: &Sandbox, mock: &str) -> String {
    let path = sb.dir.path().join("crux.toml");
    std::fs::write(&path, toml(mock)).unwrap();
    path.to_str().unwrap().to_owned()
}

fn toml(mock: &str) -> String {
    format!(
        r#"
[providers.local]
wire = "openai"
base_url = "{mock}/v1"
display_name = "Local vLLM"
models = [{{ id = "gpt-4o-mini", context = 128000, input_price = 1.0, output_price = 2.0 }}, "qwen2.5-7b"]

[providers.claude-proxy]
wire = "anthropic"
base_url = "{mock}"
api_key_env = "PROXY_KEY"
models = ["claude-3-5-haiku-latest"]

[providers.az]
wire = "azure"
base_url = "{mock}"
api_key_env = "AZ_KEY"
models = ["my-gpt-4o-mini"]

[routes.house]
targets = ["local/qwen2.5-7b"]
"#
    )
}

async fn post(url: &str, path: &str, body: Value) -> (u16, reqwest::header::HeaderMap, String) {
    let r = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("x-api-key", "client")
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

async fn get_json(url: &str) -> Value {
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_of_your_own_is_served_to_both_dialects_and_listed() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let gw = tokio::task::block_in_place(|| {
        sb.serve(
            "crux",
            &toml(&mock.url()),
            &[
                ("LOCAL_API_KEY", "local-key"),
                ("PROXY_KEY", "proxy-key"),
                ("AZ_KEY", "az-key"),
            ],
        )
    });

    let models = get_json(&format!("{}/v1/models", gw.url)).await;
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    for id in [
        "local/gpt-4o-mini",
        "local/qwen2.5-7b",
        "claude-proxy/claude-3-5-haiku-latest",
    ] {
        assert!(ids.contains(&id), "{id} in /v1/models: {ids:?}");
    }
    let providers = get_json(&format!("{}/api/providers", gw.url)).await;
    let local = providers["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "local")
        .expect("local in /api/providers");
    assert_eq!(local["display_name"], "Local vLLM");
    assert_eq!(local["enabled"], true);

    let msgs = json!([{"role": "user", "content": "hello from a custom provider"}]);
    let (status, headers, body) = post(
        &gw.url,
        "/v1/chat/completions",
        json!({"model": "local/gpt-4o-mini", "messages": msgs}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-crux-target"], "local/gpt-4o-mini");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(
        v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("hello from a custom provider")
    );
    assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() > 0);

    let (status, headers, body) = post(
        &gw.url,
        "/v1/messages",
        json!({"model": "local/gpt-4o-mini", "max_tokens": 64, "messages": msgs}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-crux-target"], "local/gpt-4o-mini");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["type"], "message");
    assert!(
        v["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("custom provider")
    );

    let (status, _, body) = post(
        &gw.url,
        "/v1/messages",
        json!({"model": "house", "max_tokens": 64, "stream": true, "messages": msgs}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("event: message_stop"), "{body}");
    assert!(body.contains("custom"), "{body}");

    let (status, headers, body) = post(
        &gw.url,
        "/v1/chat/completions",
        json!({"model": "claude-proxy/claude-3-5-haiku-latest", "stream": true, "messages": msgs}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers["x-crux-target"],
        "claude-proxy/claude-3-5-haiku-latest"
    );
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    for stream in [false, true] {
        let (status, headers, body) = post(
            &gw.url,
            "/v1/chat/completions",
            json!({"model": "az/my-gpt-4o-mini", "stream": stream, "messages": msgs}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["x-crux-target"], "az/my-gpt-4o-mini");
        assert!(body.contains("custom"), "{body}");
    }
    let seen = mock.requests();
    let azure: Vec<_> = seen
        .iter()
        .filter(|r| r.path == "/openai/deployments/my-gpt-4o-mini/chat/completions")
        .collect();
    assert_eq!(azure.len(), 2, "Azure deployment URL for both stream modes");
    for r in azure {
        assert_eq!(r.query.as_deref(), Some("api-version=2024-10-21"));
        assert!(
            r.headers
                .iter()
                .any(|(k, v)| k == "api-key" && v == "az-key")
        );
        assert!(
            !r.headers.iter().any(|(k, _)| k == "authorization"),
            "no bearer next to api-key"
        );
    }
    let header = |r: &crux_mock::RecordedRequest, name: &str| {
        r.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert!(
        seen.iter()
            .any(|r| r.path == "/v1/messages"
                && header(r, "x-api-key").as_deref() == Some("proxy-key")),
        "the Anthropic wire was spoken upstream with the key from api_key_env"
    );
    assert!(
        seen.iter().any(|r| r.path == "/v1/chat/completions"
            && header(r, "authorization").as_deref() == Some("Bearer local-key")),
        "the OpenAI wire with LOCAL_API_KEY"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crux_chat_uses_a_provider_of_your_own_with_env_or_vault_keys() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let cfg = config(&sb, &mock.url());
    let out = tokio::task::block_in_place(|| {
        sb.cmd()
            .env("LOCAL_API_KEY", "k")
            .args(["chat", "local/qwen2.5-7b", "hello local", "--config", &cfg])
            .output()
            .unwrap()
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("hello local"), "{}", stdout(&out));

    let missing = tokio::task::block_in_place(|| {
        sb.cmd()
            .args([
                "chat",
                "claude-proxy/claude-3-5-haiku-latest",
                "hi",
                "--config",
                &cfg,
            ])
            .output()
            .unwrap()
    });
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("PROXY_KEY"),
        "{}",
        stderr(&missing)
    );

    assert!(sb.run(&["keys", "init"]).status.success());
    let set = sb.run_stdin(
        &["keys", "set", "claude-proxy", "--stdin", "--config", &cfg],
        "vault-proxy-key\n",
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let out = tokio::task::block_in_place(|| {
        sb.cmd()
            .args([
                "chat",
                "claude-proxy/claude-3-5-haiku-latest",
                "hello vault",
                "--stream",
                "--config",
                &cfg,
            ])
            .output()
            .unwrap()
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("hello vault"), "{}", stdout(&out));
}

#[test]
fn a_section_without_a_wire_says_how_to_add_a_provider() {
    let sb = Sandbox::new();
    let path = sb.dir.path().join("crux.toml");
    std::fs::write(
        &path,
        "[providers.vllm]\nbase_url = \"http://127.0.0.1:8000/v1\"\n",
    )
    .unwrap();
    let out = sb.run(&["chat", "vllm/x", "hi", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("wire = \"openai\""),
        "{}",
        stderr(&out)
    );
}
