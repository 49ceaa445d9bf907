//! The web console over HTTP (the browser suite in tests/browser drives the pages): assets and their headers,
//! login → HttpOnly SameSite=Strict cookie, the session acting as the master key on `/api` with a CSRF token on
//! changes, logout, the console closed without a master key, and the new `/api` routes (overview, one log, paging).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use harness::Stored;
use serde_json::{Value, json};

const MASTER: &str = "console-master";

/// Logs in; returns the cookie pair (`crux_session=…`) and the CSRF token.
async fn login(s: &Stored) -> (String, String) {
    let g = &s.gateway;
    let resp = g
        .http
        .post(g.url("/ui/login"))
        .body(json!({"key": MASTER}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "off unless configured: {set}");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.text().await.unwrap().parse::<Value>().unwrap();
    let pair = set.split(';').next().unwrap().to_owned();
    assert!(!pair.contains(MASTER));
    (pair, body["csrf"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn page_and_assets_headers() {
    let s = Stored::start(Some(MASTER)).await;
    let g = &s.gateway;
    let page = g.http.get(g.url("/ui")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(page.text().await.unwrap().contains("/ui/assets/app.js"));
    for (name, ty) in [
        ("app.js", "text/javascript"),
        ("style.css", "text/css"),
        ("chart.js", "text/javascript"),
    ] {
        let a = g
            .http
            .get(g.url(&format!("/ui/assets/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), 200, "{name}");
        assert!(
            a.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ty)
        );
        assert_eq!(a.headers()["cache-control"], "no-cache");
        let etag = a.headers()["etag"].clone();
        let again = g
            .http
            .get(g.url(&format!("/ui/assets/{name}")))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
    }
    assert_eq!(
        g.http
            .get(g.url("/ui/assets/nope.js"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn session_csrf_and_logout() {
    let s = Stored::start(Some(MASTER)).await;
    let g = &s.gateway;
    let wrong = g
        .http
        .post(g.url("/ui/login"))
        .body(json!({"key": "nope"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    let cross = g
        .http
        .post(g.url("/ui/login"))
        .header("sec-fetch-site", "cross-site")
        .body(json!({"key": MASTER}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let (cookie, csrf) = login(&s).await;
    // Reads with the cookie act as the master key and are never cached.
    let list = g
        .http
        .get(g.url("/api/virtual-keys"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    assert_eq!(list.headers()["cache-control"], "no-store");
    let session: Value = g
        .http
        .get(g.url("/ui/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .parse::<Value>()
        .unwrap();
    assert_eq!(session["csrf"], csrf.as_str());
    // Changes need the token.
    let create = |token: Option<&str>| {
        let mut r = g
            .http
            .post(g.url("/api/virtual-keys"))
            .header("cookie", &cookie)
            .body(json!({"name": "c1"}).to_string());
        if let Some(t) = token {
            r = r.header("x-csrf-token", t);
        }
        r.send()
    };
    assert_eq!(create(None).await.unwrap().status(), 403);
    assert_eq!(
        create(Some("0".repeat(64).as_str()))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(create(Some(&csrf)).await.unwrap().status(), 200);
    // An unknown cookie is no one.
    let forged = g
        .http
        .get(g.url("/api/virtual-keys"))
        .header("cookie", "crux_session=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    // Logout needs the token too, then the cookie is dead.
    let out = g
        .http
        .post(g.url("/ui/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 403);
    let out = g
        .http
        .post(g.url("/ui/logout"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = g
        .http
        .get(g.url("/api/virtual-keys"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn console_is_closed_without_a_master_key() {
    let s = Stored::start(None).await;
    let g = &s.gateway;
    let resp = g
        .http
        .post(g.url("/ui/login"))
        .body(json!({"key": "anything"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.text().await.unwrap().parse::<Value>().unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("CRUX_MASTER_KEY")
    );
}

#[tokio::test]
async fn overview_log_detail_and_paging() {
    let mut s = Stored::start(Some(MASTER)).await;
    for i in 0..5 {
        let body = json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": format!("m{i}")}]});
        assert_eq!(
            s.gateway
                .post("/v1/chat/completions", MASTER, &body)
                .await
                .0,
            200
        );
    }
    let failed = json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x [[mock status=400]]"}]});
    assert_eq!(
        s.gateway
            .post("/v1/chat/completions", MASTER, &failed)
            .await
            .0,
        400
    );
    s.drain().await;
    let g = &s.gateway;
    let (status, text) = g.get("/api/overview?window=hour", MASTER).await;
    assert_eq!(status, 200, "{text}");
    let o: Value = serde_json::from_str(&text).unwrap();
    let buckets = o["overview"]["buckets"].as_array().unwrap();
    let total: u64 = buckets
        .iter()
        .map(|b| b["requests"].as_u64().unwrap())
        .sum();
    let errors: u64 = buckets.iter().map(|b| b["errors"].as_u64().unwrap()).sum();
    assert_eq!((total, errors), (6, 1));
    assert_eq!(o["overview"]["providers"][0]["provider"], "openai");
    assert_eq!(g.get("/api/overview?window=week", MASTER).await.0, 400);
    // Pages of 4 then 2, newest first, by the cursor.
    let page: Value = serde_json::from_str(&g.get("/api/logs?limit=4", MASTER).await.1).unwrap();
    assert_eq!(page["logs"].as_array().unwrap().len(), 4);
    let next = page["next"].as_str().unwrap().to_owned();
    let rest: Value = serde_json::from_str(
        &g.get(&format!("/api/logs?limit=4&before={next}"), MASTER)
            .await
            .1,
    )
    .unwrap();
    assert_eq!(rest["logs"].as_array().unwrap().len(), 2);
    assert!(rest["next"].is_null());
    assert_eq!(g.get("/api/logs?before=garbage", MASTER).await.0, 400);
    let id = page["logs"][0]["id"].as_i64().unwrap();
    let (status, one) = g.get(&format!("/api/logs/{id}"), MASTER).await;
    assert_eq!(status, 200);
    let one: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["log"]["id"], id);
    assert!(one["log"]["request_text"].is_string());
    assert_eq!(g.get("/api/logs/999999", MASTER).await.0, 404);
    // Admin only.
    assert_eq!(g.get("/api/overview", "not-master").await.0, 401);
    let (status, v) = g.get("/api/models/validate", MASTER).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&v).unwrap()["problems"].is_array());
}
