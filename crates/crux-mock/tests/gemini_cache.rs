//! Integration tests: Gemini `cachedContents` as the API checks them — creation (model, minimum size, ttl) and
//! use in `generateContent` (the cache prepended, `cachedContentTokenCount`, what may not sit beside it, unknown
//! or expired names).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{body_json, gemini, post_with};

async fn create(server: &MockServer, body: &Value) -> (u16, Value) {
    let resp = post_with(
        server,
        "/v1beta/cachedContents",
        body,
        &[("x-goog-api-key", "k")],
    )
    .await;
    let status = resp.status().as_u16();
    (status, body_json(resp).await)
}

fn big_system() -> Value {
    json!({"parts": [{"text": "rule ".repeat(1_200)}]})
}

#[tokio::test]
async fn create_validates_model_size_and_ttl() {
    let server = MockServer::start().await.unwrap();
    let (status, e) = create(&server, &json!({"systemInstruction": big_system()})).await;
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("model is required"),
        "{e}"
    );
    let (status, e) = create(
        &server,
        &json!({"model": "models/gemini-2.5-flash",
        "systemInstruction": {"parts": [{"text": "tiny"}]}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["status"], "INVALID_ARGUMENT");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("min_total_token_count=1024"),
        "{e}"
    );
    // Pro models need 4,096.
    let (status, e) = create(
        &server,
        &json!({"model": "models/gemini-2.5-pro", "systemInstruction": big_system()}),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = create(
        &server,
        &json!({"model": "models/gemini-1.0-pro", "systemInstruction": big_system()}),
    )
    .await;
    assert_eq!(status, 404, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("createCachedContent")
    );
    let (status, _) = create(
        &server,
        &json!({"model": "models/gemini-2.5-flash", "systemInstruction": big_system(),
        "ttl": "five minutes"}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, v) = create(
        &server,
        &json!({"model": "models/gemini-2.5-flash", "systemInstruction": big_system(),
        "contents": [{"role": "user", "parts": [{"text": "context"}]}], "ttl": "300s"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(v["name"].as_str().unwrap().starts_with("cachedContents/"));
    assert!(v["expireTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(v["usageMetadata"]["totalTokenCount"], 1_203);
    assert_eq!(
        server.cached_contents(),
        vec![v["name"].as_str().unwrap().to_owned()]
    );
}

#[tokio::test]
async fn generate_with_a_cache_prepends_it_and_reports_cached_tokens() {
    let server = MockServer::start().await.unwrap();
    let (_, v) = create(
        &server,
        &json!({"model": "models/gemini-2.5-flash", "systemInstruction": big_system(),
        "tools": [{"functionDeclarations": [{"name": "lookup"}]}]}),
    )
    .await;
    let name = v["name"].as_str().unwrap();
    let body = json!({"cachedContent": name, "contents": [{"role": "user", "parts": [{"text": "use lookup"}]}]});
    let resp = gemini(&server, "gemini-2.5-flash:generateContent", &body, &[]).await;
    assert_eq!(resp.status(), 200);
    let v = body_json(resp).await;
    // The cached tools apply: the mock calls the one named in the prompt.
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["functionCall"]["name"],
        "lookup"
    );
    assert_eq!(v["usageMetadata"]["cachedContentTokenCount"], 1_201);
    assert_eq!(v["usageMetadata"]["promptTokenCount"], 1_201 + 3);

    for (extra, value) in [
        ("systemInstruction", json!({"parts": [{"text": "x"}]})),
        ("tools", json!([{"functionDeclarations": [{"name": "f"}]}])),
        (
            "toolConfig",
            json!({"functionCallingConfig": {"mode": "AUTO"}}),
        ),
    ] {
        let mut b = body.clone();
        b[extra] = value;
        let resp = gemini(&server, "gemini-2.5-flash:generateContent", &b, &[]).await;
        assert_eq!(resp.status(), 400, "{extra}");
        let e = body_json(resp).await;
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("CachedContent can not be used"),
            "{e}"
        );
    }
    let resp = gemini(&server, "gemini-2.5-pro:generateContent", &body, &[]).await;
    assert_eq!(resp.status(), 400, "a cache belongs to one model");
    let empty = json!({"cachedContent": name, "contents": []});
    let resp = gemini(&server, "gemini-2.5-flash:generateContent", &empty, &[]).await;
    assert_eq!(
        resp.status(),
        400,
        "the request still needs its own contents"
    );

    server.expire_cached_contents();
    let resp = gemini(&server, "gemini-2.5-flash:generateContent", &body, &[]).await;
    assert_eq!(resp.status(), 403);
    let e = body_json(resp).await;
    assert_eq!(e["error"]["status"], "PERMISSION_DENIED");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("CachedContent not found")
    );
}
