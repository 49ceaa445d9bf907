//! Anthropic `cache_control` carried to a Gemini target as explicit context caching: the first request creates a
//! `cachedContents` entry and refers to it, the next one reuses it (usage reports the cached tokens, streamed and
//! not); a prefix Gemini will not cache, or a cache Gemini no longer knows, means the request goes out uncached and
//! still succeeds.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use harness::{Gateway, sse};
use serde_json::{Value, json};

/// A system prompt well above every model's minimum (the mock counts words).
fn long_system(tag: &str) -> String {
    format!("{tag} {}", "policy ".repeat(4_500))
}

fn claude_code_like(model: &str, system: &str, stream: bool) -> Value {
    json!({
        "model": model, "max_tokens": 200, "stream": stream,
        "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": [{"type": "text", "text": "second question",
                "cache_control": {"type": "ephemeral"}}]}
        ]
    })
}

/// `usage.cache_read_input_tokens` of a plain or streamed Anthropic answer.
fn cache_read(text: &str, stream: bool) -> u64 {
    if !stream {
        let v: Value = serde_json::from_str(text).unwrap();
        return v["usage"]["cache_read_input_tokens"].as_u64().unwrap();
    }
    sse(text)
        .into_iter()
        .filter(|(ev, _)| ev.as_deref() == Some("message_delta"))
        .map(|(_, data)| serde_json::from_str::<Value>(&data).unwrap())
        .find_map(|v| v["usage"]["cache_read_input_tokens"].as_u64())
        .unwrap()
}

fn paths(g: &Gateway) -> Vec<String> {
    g.mock
        .requests()
        .iter()
        .map(|r| r.path.rsplit(':').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn cache_control_creates_a_gemini_cache_then_reuses_it() {
    let g = Gateway::start().await;
    for stream in [false, true] {
        g.mock.reset();
        let body = claude_code_like(
            "gemini/gemini-2.5-flash",
            &long_system(&format!("s{stream}")),
            stream,
        );
        let (status, _, text) = g.post("/v1/messages", "k", &body).await;
        assert_eq!(status, 200, "{text}");
        let sent = g.mock.requests();
        assert_eq!(sent.len(), 2, "{:?}", paths(&g));
        let create = &sent[0];
        assert_eq!(create.path, "/v1beta/cachedContents");
        assert_eq!(create.body["model"], "models/gemini-2.5-flash");
        assert_eq!(
            create.body["ttl"], "300s",
            "Anthropic's ephemeral five minutes"
        );
        assert!(
            create.body["systemInstruction"]["parts"][0]["text"]
                .as_str()
                .unwrap()
                .starts_with("s")
        );
        // The breakpoint on the last message caches everything before it.
        assert_eq!(create.body["contents"].as_array().unwrap().len(), 2);
        let generate = &sent[1].body;
        let name = generate["cachedContent"].as_str().unwrap();
        assert!(name.starts_with("cachedContents/"), "{generate}");
        assert!(generate.get("systemInstruction").is_none());
        assert_eq!(
            generate["contents"],
            json!([{"role": "user", "parts": [{"text": "second question"}]}])
        );
        let cached = cache_read(&text, stream);
        assert!(cached > 4_000, "usage reports the cached tokens: {cached}");

        // The same prefix again: no new cache, the same name, cached tokens again.
        g.mock.reset();
        let (status, _, text) = g.post("/v1/messages", "k", &body).await;
        assert_eq!(status, 200, "{text}");
        let sent = g.mock.requests();
        assert_eq!(sent.len(), 1, "{:?}", paths(&g));
        assert_eq!(sent[0].body["cachedContent"], name);
        assert_eq!(cache_read(&text, stream), cached);
    }
}

#[tokio::test]
async fn a_later_turn_reads_the_prefix_an_earlier_turn_wrote() {
    let g = Gateway::start().await;
    let system = long_system("turns");
    let first = claude_code_like("gemini/gemini-2.5-flash", &system, false);
    let (status, _, text) = g.post("/v1/messages", "k", &first).await;
    assert_eq!(status, 200, "{text}");
    let first_name = g.mock.requests()[1].body["cachedContent"].clone();
    // Next turn: the marker moved to the new last message; the gateway writes the longer prefix and would fall
    // back to the earlier one if it could not.
    let mut next = first.clone();
    let msgs = next["messages"].as_array_mut().unwrap();
    msgs[2] = json!({"role": "user", "content": "second question"});
    msgs.push(json!({"role": "assistant", "content": "second answer"}));
    msgs.push(
        json!({"role": "user", "content": [{"type": "text", "text": "third question",
        "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}),
    );
    g.mock.reset();
    let (status, _, text) = g.post("/v1/messages", "k", &next).await;
    assert_eq!(status, 200, "{text}");
    let sent = g.mock.requests();
    assert_eq!(sent[0].path, "/v1beta/cachedContents");
    assert_eq!(sent[0].body["ttl"], "3600s");
    assert_eq!(sent[0].body["contents"].as_array().unwrap().len(), 4);
    assert_ne!(sent[1].body["cachedContent"], first_name);
    assert_eq!(g.mock.cached_contents().len(), 2);
}

#[tokio::test]
async fn a_failed_create_or_a_vanished_cache_sends_the_request_uncached() {
    let g = Gateway::start().await;
    // A model that cannot cache: the create fails (404), the request goes out whole and succeeds.
    let body = claude_code_like("gemini/gemini-1.5-flash", &long_system("nocache"), false);
    let (status, _, text) = g.post("/v1/messages", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    let sent = g.mock.requests();
    assert_eq!(paths(&g), ["/v1beta/cachedContents", "generateContent"]);
    assert!(sent[1].body.get("cachedContent").is_none());
    assert!(sent[1].body["systemInstruction"].is_object());
    assert_eq!(sent[1].body["contents"].as_array().unwrap().len(), 3);
    assert_eq!(cache_read(&text, false), 0);
    // The failure is remembered: the next identical request does not try again.
    g.mock.reset();
    let (status, _, _) = g.post("/v1/messages", "k", &body).await;
    assert_eq!(status, 200);
    assert_eq!(paths(&g), ["generateContent"]);

    // A cache that expired upstream before the gateway expected: the 403 is not the caller's problem.
    let body = claude_code_like("gemini/gemini-2.5-flash", &long_system("vanish"), true);
    let (status, _, _) = g.post("/v1/messages", "k", &body).await;
    assert_eq!(status, 200);
    g.mock.expire_cached_contents();
    g.mock.reset();
    let (status, _, text) = g.post("/v1/messages", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("message_stop"), "{text}");
    let sent = g.mock.requests();
    assert_eq!(sent.len(), 2, "{:?}", paths(&g));
    assert!(
        sent[0].body["cachedContent"].is_string(),
        "first with the stale cache"
    );
    assert!(sent[1].body.get("cachedContent").is_none(), "then uncached");
    // Forgotten: the next request creates a fresh cache.
    g.mock.reset();
    let (status, _, _) = g.post("/v1/messages", "k", &body).await;
    assert_eq!(status, 200);
    assert_eq!(
        paths(&g),
        ["/v1beta/cachedContents", "streamGenerateContent"]
    );
}

#[tokio::test]
async fn small_prefixes_and_requests_without_markers_are_sent_as_before() {
    let g = Gateway::start().await;
    let small = claude_code_like("gemini/gemini-2.5-flash", "short system prompt", false);
    let (status, _, text) = g.post("/v1/messages", "k", &small).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        paths(&g),
        ["generateContent"],
        "below the minimum: no create call"
    );
    let mut unmarked = claude_code_like("gemini/gemini-2.5-flash", &long_system("plain"), false);
    unmarked["system"] = json!(long_system("plain"));
    unmarked["messages"][2]["content"] = json!("second question");
    g.mock.reset();
    let (status, _, _) = g.post("/v1/messages", "k", &unmarked).await;
    assert_eq!(status, 200);
    assert_eq!(paths(&g), ["generateContent"]);
}
