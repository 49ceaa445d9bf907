//! Integration tests: the Gemini wire (replies, CRLF SSE and JSON-array streams, function calls
//! with thought signatures, JSON output, models pagination, embeddings, auth and recording).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{TRICKY, body_json, gemini, gemini_text, gemini_user, get_with, post_with, read_raw};

fn weather_tools() -> Value {
    json!([{"functionDeclarations": [{"name": "get_weather", "description": "Weather",
        "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"},
            "days": {"type": "INTEGER"}, "units": {"type": "STRING", "enum": ["c", "f"]},
            "when": {"anyOf": [{"type": "STRING"}, {"type": "NULL"}]}},
            "required": ["city"]}}]}])
}

#[tokio::test]
async fn non_stream_reply_echoes_text_verbatim() {
    let server = MockServer::start().await.unwrap();
    let mut body = gemini_user(TRICKY);
    body["systemInstruction"] = json!({"parts": [{"text": "be terse"}]});
    let resp = gemini(&server, "gemini-2.0-flash:generateContent", &body, &[]).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let v = body_json(resp).await;
    let cand = &v["candidates"][0];
    assert_eq!(cand["content"]["role"], "model");
    assert_eq!(
        cand["content"]["parts"],
        json!([{ "text": format!("Mock reply: {TRICKY}") }])
    );
    assert_eq!(cand["finishReason"], "STOP");
    assert_eq!(cand["index"], 0);
    // (2 + 1) system + (6 + 1) user; reply = 2 + 6 words.
    assert_eq!(v["usageMetadata"]["promptTokenCount"], 10);
    assert_eq!(v["usageMetadata"]["candidatesTokenCount"], 8);
    assert_eq!(v["usageMetadata"]["totalTokenCount"], 18);
    assert_eq!(v["modelVersion"], "gemini-2.0-flash");
    assert!(v["responseId"].as_str().unwrap().starts_with("mock-"));
}

#[tokio::test]
async fn sse_stream_uses_crlf_usage_on_last_chunk_and_no_sentinel() {
    let server = MockServer::start().await.unwrap();
    let resp = gemini(
        &server,
        "gemini-2.5-flash:streamGenerateContent?alt=sse",
        &gemini_user(TRICKY),
        &[],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let raw = read_raw(resp).await;
    assert!(!raw.error);
    let text = raw.text();
    assert!(text.ends_with("\r\n\r\n"));
    // Every line ending is CRLF: no bare `\n` without a preceding `\r`.
    let bytes = &raw.bytes;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            assert_eq!(bytes[i - 1], b'\r', "bare LF at byte {i}");
        }
    }
    assert!(!text.contains("[DONE]"));
    let payloads = raw.sse_payloads();
    assert!(
        text.split("\r\n\r\n")
            .all(|e| e.is_empty() || e.starts_with("data: "))
    );
    let chunks = raw.sse_json();
    assert_eq!(chunks.len(), payloads.len());
    assert!(chunks.len() >= 6, "one word per chunk");
    assert_eq!(gemini_text(&chunks), format!("Mock reply: {TRICKY}"));
    let (last, rest) = chunks.split_last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 8);
    assert_eq!(last["usageMetadata"]["totalTokenCount"], 15);
    for c in rest {
        assert!(c["candidates"][0].get("finishReason").is_none());
        assert!(c.get("usageMetadata").is_none());
        assert_eq!(c["modelVersion"], "gemini-2.5-flash");
    }
    assert!(server.wait_for_streams(1, Duration::from_secs(2)).await);
    let rec = &server.streams()[0];
    assert!(rec.completed && !rec.client_disconnected);
    assert_eq!(
        rec.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    );
}

#[tokio::test]
async fn stream_without_alt_sse_is_a_json_array() {
    let server = MockServer::start().await.unwrap();
    let resp = gemini(
        &server,
        "gemini-2.0-flash:streamGenerateContent",
        &gemini_user("a  b"),
        &[],
    )
    .await;
    let raw = read_raw(resp).await;
    let v: Value = serde_json::from_slice(&raw.bytes).unwrap();
    let chunks = v.as_array().unwrap();
    assert!(chunks.len() >= 3);
    assert_eq!(gemini_text(chunks), "Mock reply: a  b");
    assert_eq!(
        chunks.last().unwrap()["candidates"][0]["finishReason"],
        "STOP"
    );
}

async fn call_weather(server: &MockServer, model: &str) -> Value {
    let mut body = gemini_user("Call get_weather for Paris?");
    body["tools"] = weather_tools();
    let resp = gemini(server, &format!("{model}:generateContent"), &body, &[]).await;
    assert_eq!(resp.status(), 200);
    body_json(resp).await
}

fn history(call_part: &Value, response: &Value) -> Value {
    json!({"contents": [
        {"role": "user", "parts": [{"text": "Call get_weather for Paris?"}]},
        {"role": "model", "parts": [call_part]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather",
            "response": response}}]}],
        "tools": weather_tools()})
}

#[tokio::test]
async fn function_call_round_trip() {
    let server = MockServer::start().await.unwrap();
    let v = call_weather(&server, "gemini-2.0-flash").await;
    let cand = &v["candidates"][0];
    // A function call still ends with STOP on Gemini.
    assert_eq!(cand["finishReason"], "STOP");
    let part = &cand["content"]["parts"][0];
    assert_eq!(part["functionCall"]["name"], "get_weather");
    assert_eq!(
        part["functionCall"]["args"],
        json!({"city": "mock", "days": 42, "units": "c", "when": "mock"})
    );
    assert!(!part["thoughtSignature"].as_str().unwrap().is_empty());
    let result = json!({"temp_c": 15, "sky": "clear sky"});
    let resp = gemini(
        &server,
        "gemini-2.0-flash:generateContent",
        &history(part, &result),
        &[],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let v = body_json(resp).await;
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["text"],
        format!("Tool result received: {result}")
    );
    // Pre-Gemini-3 models do not require the signature back.
    let mut unsigned = part.clone();
    unsigned.as_object_mut().unwrap().remove("thoughtSignature");
    let resp = gemini(
        &server,
        "gemini-2.0-flash:generateContent",
        &history(&unsigned, &result),
        &[],
    )
    .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn gemini_3_requires_the_issued_thought_signature() {
    let server = MockServer::start().await.unwrap();
    let model = "gemini-3-pro-preview";
    let v = call_weather(&server, model).await;
    let part = v["candidates"][0]["content"]["parts"][0].clone();
    let path = format!("{model}:generateContent");
    let ok = gemini(&server, &path, &history(&part, &json!({"t": 1})), &[]).await;
    assert_eq!(ok.status(), 200);
    let mut unsigned = part.clone();
    unsigned.as_object_mut().unwrap().remove("thoughtSignature");
    let resp = gemini(&server, &path, &history(&unsigned, &json!({"t": 1})), &[]).await;
    assert_eq!(resp.status(), 400);
    let e = body_json(resp).await;
    assert_eq!(e["error"]["status"], "INVALID_ARGUMENT");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Function call is missing a thought_signature")
    );
    let mut forged = part.clone();
    forged["thoughtSignature"] = json!("Zm9yZ2Vk");
    let resp = gemini(&server, &path, &history(&forged, &json!({"t": 1})), &[]).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn streamed_function_call_comes_whole_in_one_chunk() {
    let server = MockServer::start().await.unwrap();
    let mut body = gemini_user("use a tool please");
    body["tools"] = weather_tools();
    body["toolConfig"] = json!({"functionCallingConfig": {"mode": "ANY",
        "allowedFunctionNames": ["get_weather"]}});
    let resp = gemini(
        &server,
        "gemini-2.5-flash:streamGenerateContent?alt=sse",
        &body,
        &[],
    )
    .await;
    let chunks = read_raw(resp).await.sse_json();
    let calls: Vec<&Value> = chunks
        .iter()
        .filter(|c| {
            c["candidates"][0]["content"]["parts"][0]
                .get("functionCall")
                .is_some()
        })
        .collect();
    assert_eq!(calls.len(), 1);
    let part = &calls[0]["candidates"][0]["content"]["parts"][0];
    assert_eq!(part["functionCall"]["args"]["city"], "mock");
    assert!(part["thoughtSignature"].is_string());
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert!(last["usageMetadata"]["totalTokenCount"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn json_output_and_schemas() {
    let server = MockServer::start().await.unwrap();
    let path = "gemini-2.0-flash:generateContent";
    let text = |v: &Value| {
        let t = v["candidates"][0]["content"]["parts"][0]["text"]
            .as_str()
            .unwrap();
        serde_json::from_str::<Value>(t).unwrap()
    };
    let mut body = gemini_user("hello there");
    body["generationConfig"] = json!({"responseMimeType": "application/json"});
    let v = body_json(gemini(&server, path, &body, &[]).await).await;
    assert_eq!(text(&v), json!({"reply": "hello there"}));
    body["generationConfig"]["responseSchema"] = json!({"type": "OBJECT", "properties": {
        "answer": {"type": "STRING"}, "n": {"type": "INTEGER"},
        "tags": {"type": "ARRAY", "items": {"type": "STRING"}}}});
    let v = body_json(gemini(&server, path, &body, &[]).await).await;
    assert_eq!(
        text(&v),
        json!({"answer": "mock", "n": 42, "tags": ["mock"]})
    );
    // responseJsonSchema takes JSON Schema, including keywords responseSchema refuses.
    body["generationConfig"] = json!({"responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object", "additionalProperties": false,
            "properties": {"ok": {"type": "boolean"}}}});
    let v = body_json(gemini(&server, path, &body, &[]).await).await;
    assert_eq!(text(&v), json!({"ok": true}));
}

#[tokio::test]
async fn max_output_tokens_ends_with_max_tokens() {
    let server = MockServer::start().await.unwrap();
    let mut body = gemini_user("one two three four");
    body["generationConfig"] = json!({"maxOutputTokens": 3});
    let v = body_json(gemini(&server, "gemini-2.0-flash:generateContent", &body, &[]).await).await;
    assert_eq!(v["candidates"][0]["finishReason"], "MAX_TOKENS");
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["text"],
        "Mock reply: one"
    );
}

#[tokio::test]
async fn models_are_paginated() {
    let server = MockServer::start().await.unwrap();
    let key = [("x-goog-api-key", "k")];
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &token {
            None => "/v1beta/models?pageSize=2".to_owned(),
            Some(t) => format!("/v1beta/models?pageSize=2&pageToken={t}"),
        };
        let v = body_json(get_with(&server, &path, &key).await).await;
        let models = v["models"].as_array().unwrap();
        assert!(models.len() <= 2);
        for m in models {
            names.push(m["name"].as_str().unwrap().to_owned());
            assert!(m["supportedGenerationMethods"].is_array());
            assert!(m["inputTokenLimit"].as_u64().unwrap() > 0);
        }
        pages += 1;
        match v["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert!(pages >= 2);
    assert!(names.len() >= 3);
    assert!(names.iter().all(|n| n.starts_with("models/")));
    assert!(names.contains(&"models/gemini-2.0-flash".to_owned()));
    let all = body_json(get_with(&server, "/v1beta/models", &key).await).await;
    assert_eq!(all["models"].as_array().unwrap().len(), names.len());
    assert!(all.get("nextPageToken").is_none());
    let m = body_json(get_with(&server, "/v1beta/models/gemini-2.0-flash", &key).await).await;
    assert_eq!(m["name"], "models/gemini-2.0-flash");
    assert_eq!(m["inputTokenLimit"], 1_048_576);
    let gone = get_with(&server, "/v1beta/models/missing-model", &key).await;
    assert_eq!(gone.status(), 404);
    assert_eq!(body_json(gone).await["error"]["status"], "NOT_FOUND");
}

#[tokio::test]
async fn embeddings_are_deterministic() {
    let server = MockServer::start().await.unwrap();
    let one = |t: &str| json!({"content": {"parts": [{"text": t}]}, "outputDimensionality": 16});
    let v =
        body_json(gemini(&server, "text-embedding-004:embedContent", &one("hi"), &[]).await).await;
    let a = v["embedding"]["values"].as_array().unwrap().clone();
    assert_eq!(a.len(), 16);
    let batch = json!({"requests": [
        {"model": "models/text-embedding-004", "content": {"parts": [{"text": "hi"}]},
         "outputDimensionality": 16},
        {"model": "models/text-embedding-004", "content": {"parts": [{"text": "yo"}]}}]});
    let resp = gemini(
        &server,
        "text-embedding-004:batchEmbedContents",
        &batch,
        &[],
    )
    .await;
    let v = body_json(resp).await;
    let embs = v["embeddings"].as_array().unwrap();
    assert_eq!(embs[0]["values"].as_array().unwrap(), &a);
    assert_eq!(embs[1]["values"].as_array().unwrap().len(), 768);
    let mut wrong = batch.clone();
    wrong["requests"][1]["model"] = json!("models/other");
    let resp = gemini(
        &server,
        "text-embedding-004:batchEmbedContents",
        &wrong,
        &[],
    )
    .await;
    assert_eq!(resp.status(), 400);
    // Chat models do not embed.
    let resp = gemini(&server, "gemini-2.0-flash:embedContent", &one("x"), &[]).await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn auth_errors_have_gemini_shapes() {
    let server = MockServer::start().await.unwrap();
    let path = "/v1beta/models/gemini-2.0-flash:generateContent";
    let resp = post_with(&server, path, &gemini_user("hi"), &[]).await;
    assert_eq!(resp.status(), 403);
    let e = body_json(resp).await;
    assert_eq!(e["error"]["code"], 403);
    assert_eq!(e["error"]["status"], "PERMISSION_DENIED");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unregistered callers")
    );
    let resp = post_with(
        &server,
        path,
        &gemini_user("hi"),
        &[("x-goog-api-key", "bad-key")],
    )
    .await;
    assert_eq!(resp.status(), 400);
    let e = body_json(resp).await;
    assert_eq!(e["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(
        e["error"]["message"],
        "API key not valid. Please pass a valid API key."
    );
    assert_eq!(e["error"]["details"][0]["reason"], "API_KEY_INVALID");
    assert_eq!(e["error"]["details"][0]["domain"], "googleapis.com");
    // The query form works like upstream (and is recorded, see below).
    let resp = post_with(&server, &format!("{path}?key=qk"), &gemini_user("hi"), &[]).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn requests_are_recorded_with_the_key_in_the_header() {
    let server = MockServer::start().await.unwrap();
    let body = gemini_user("hi");
    gemini(
        &server,
        "gemini-2.0-flash:streamGenerateContent?alt=sse",
        &body,
        &[],
    )
    .await;
    gemini(&server, "gemini-2.0-flash:generateContent", &body, &[]).await;
    post_with(
        &server,
        "/v1beta/models/gemini-2.0-flash:generateContent?key=leaky",
        &body,
        &[],
    )
    .await;
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        reqs[0].path,
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    );
    assert_eq!(reqs[0].query.as_deref(), Some("alt=sse"));
    assert_eq!(reqs[0].header("x-goog-api-key"), Some("test-key"));
    assert_eq!(reqs[0].body, body);
    assert!(reqs[1].query.is_none());
    // A client under test must never do this: the key shows up in the recorded query.
    assert!(reqs[2].query.as_deref().unwrap().contains("key=leaky"));
    assert!(reqs[2].header("x-goog-api-key").is_none());
}
