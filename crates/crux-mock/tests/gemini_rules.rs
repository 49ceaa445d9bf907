//! Integration tests: Gemini request validation (roles, contents, parts, schema keywords,
//! function turns) and scripted faults rendered in Gemini's error and stream shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::{assert_mentions, body_json, gemini, gemini_text, gemini_user, read_raw};

const GENERATE: &str = "gemini-2.0-flash:generateContent";
const STREAM: &str = "gemini-2.0-flash:streamGenerateContent?alt=sse";

/// Sends `body` and asserts a 400 INVALID_ARGUMENT whose message contains `needle`.
async fn rejects(server: &MockServer, body: &Value, needle: &str) {
    let resp = gemini(server, GENERATE, body, &[]).await;
    assert_eq!(resp.status(), 400, "{body}");
    let e = body_json(resp).await;
    assert_eq!(e["error"]["code"], 400);
    assert_eq!(e["error"]["status"], "INVALID_ARGUMENT");
    let msg = e["error"]["message"].as_str().unwrap();
    assert_mentions(msg, needle);
}

#[tokio::test]
async fn rejects_bad_roles_and_empty_contents_and_parts() {
    let server = MockServer::start().await.unwrap();
    for role in ["system", "assistant", "tool"] {
        let body = json!({"contents": [{"role": role, "parts": [{"text": "hi"}]}]});
        rejects(&server, &body, "Please use a valid role: user, model.").await;
    }
    rejects(
        &server,
        &json!({"contents": []}),
        "contents is not specified",
    )
    .await;
    rejects(&server, &json!({}), "contents is not specified").await;
    let empty_parts = json!({"contents": [{"role": "user", "parts": []}]});
    rejects(&server, &empty_parts, "parts must not be empty").await;
    for part in [
        json!({}),
        json!({"thought": true}),
        json!({"thoughtSignature": "AAAA"}),
    ] {
        let body = json!({"contents": [{"role": "user", "parts": [part]}]});
        rejects(&server, &body, "required oneof field 'data'").await;
    }
    let two = json!({"contents": [{"role": "user", "parts": [{"text": "a",
        "inlineData": {"mimeType": "image/png", "data": "AAAA"}}]}]});
    rejects(&server, &two, "oneof field 'data' is already set").await;
    // OpenAI-shaped bodies and fields are unknown names.
    let openai = json!({"messages": [{"role": "user", "content": "hi"}]});
    rejects(&server, &openai, "Unknown name \"messages\"").await;
    let mut body = gemini_user("hi");
    body["generationConfig"] = json!({"max_tokens": 5});
    rejects(
        &server,
        &body,
        "Unknown name \"max_tokens\" at 'generation_config'",
    )
    .await;
    // snake_case spellings are accepted, as upstream.
    let mut body = gemini_user("hi");
    body["generation_config"] = json!({"max_output_tokens": 50});
    assert_eq!(gemini(&server, GENERATE, &body, &[]).await.status(), 200);
    // A data: URL is not base64.
    let url = json!({"contents": [{"role": "user", "parts": [{"inlineData":
        {"mimeType": "image/png", "data": "data:image/png;base64,AAAA"}}]}]});
    rejects(&server, &url, "Base64 decoding failed").await;
    rejects(&server, &json!("not json"), "Invalid JSON payload received").await;
}

#[tokio::test]
async fn rejects_schema_keywords_at_any_depth() {
    let server = MockServer::start().await.unwrap();
    let keywords = [
        ("additionalProperties", json!(false)),
        (
            "$schema",
            json!("https://json-schema.org/draft/2020-12/schema"),
        ),
        ("$ref", json!("#/$defs/X")),
        ("$defs", json!({"X": {"type": "string"}})),
        ("definitions", json!({})),
        ("const", json!("x")),
        ("propertyNames", json!({"pattern": "a"})),
        ("patternProperties", json!({})),
        ("unevaluatedProperties", json!(false)),
        ("oneOf", json!([{"type": "string"}])),
        ("allOf", json!([{"type": "string"}])),
        ("exclusiveMinimum", json!(0)),
        ("exclusiveMaximum", json!(9)),
    ];
    for (kw, value) in keywords {
        let mut nested = json!({"type": "OBJECT", "properties": {"inner": {"type": "STRING"}}});
        nested[kw] = value;
        let schema = json!({"type": "OBJECT", "properties": {"outer": {"type": "ARRAY",
            "items": nested}}});
        let mut body = gemini_user("hi");
        body["tools"] = json!([{"functionDeclarations": [{"name": "f", "parameters": schema}]}]);
        rejects(
            &server,
            &body,
            &format!(
                "Unknown name \"{kw}\" at \
                 'tools[0].function_declarations[0].parameters.properties[0].value.items': \
                 Cannot find field."
            ),
        )
        .await;
        let mut body = gemini_user("hi");
        body["generationConfig"] =
            json!({"responseMimeType": "application/json", "responseSchema": schema});
        rejects(
            &server,
            &body,
            &format!("Unknown name \"{kw}\" at 'generation_config.response_schema.properties"),
        )
        .await;
    }
    // Top level, exactly as the real message reads.
    let mut body = gemini_user("hi");
    body["tools"] = json!([{"functionDeclarations": [{"name": "f", "parameters":
        {"type": "object", "properties": {"a": {"type": "string"}},
         "additionalProperties": false}}]}]);
    rejects(
        &server,
        &body,
        "Invalid JSON payload received. Unknown name \"additionalProperties\" at \
         'tools[0].function_declarations[0].parameters': Cannot find field.",
    )
    .await;
    // anyOf and nullable are fine; JSON-Schema type arrays are not.
    let mut ok = gemini_user("use a tool");
    ok["tools"] = json!([{"functionDeclarations": [{"name": "f", "parameters":
        {"type": "object", "properties": {"a": {"anyOf": [{"type": "string"},
            {"type": "integer"}]}, "b": {"type": "string", "nullable": true}}}}]}]);
    assert_eq!(gemini(&server, GENERATE, &ok, &[]).await.status(), 200);
    ok["tools"][0]["functionDeclarations"][0]["parameters"]["properties"]["b"]["type"] =
        json!(["string", "null"]);
    rejects(&server, &ok, "cannot start list").await;
    let mut bad_name = gemini_user("hi");
    bad_name["tools"] = json!([{"functionDeclarations": [{"name": "9 bad name"}]}]);
    rejects(&server, &bad_name, "Invalid function name").await;
}

fn call_turn(args: Value) -> Value {
    json!({"role": "model", "parts": [{"functionCall": {"name": "f", "args": args}}]})
}

fn response_turn(response: Value) -> Value {
    json!({"role": "user", "parts": [{"functionResponse": {"name": "f", "response": response}}]})
}

#[tokio::test]
async fn rejects_malformed_function_turns() {
    let server = MockServer::start().await.unwrap();
    let user = json!({"role": "user", "parts": [{"text": "go"}]});
    let contents = |turns: Vec<Value>| json!({ "contents": turns });
    rejects(
        &server,
        &contents(vec![
            user.clone(),
            call_turn(json!({})),
            response_turn(json!("sunny")),
        ]),
        "function_response.response' (type.googleapis.com/google.protobuf.Struct)",
    )
    .await;
    rejects(
        &server,
        &contents(vec![user.clone(), call_turn(json!("{\"a\":1}"))]),
        "function_call.args' (type.googleapis.com/google.protobuf.Struct)",
    )
    .await;
    let text_model = json!({"role": "model", "parts": [{"text": "thinking"}]});
    rejects(
        &server,
        &contents(vec![user.clone(), text_model, call_turn(json!({}))]),
        "function call turn comes immediately after a user turn",
    )
    .await;
    rejects(
        &server,
        &contents(vec![call_turn(json!({})), response_turn(json!({}))]),
        "function call turn comes immediately after a user turn",
    )
    .await;
    rejects(
        &server,
        &contents(vec![user.clone(), response_turn(json!({}))]),
        "function response turn comes immediately after a function call turn",
    )
    .await;
    let two_calls = json!({"role": "model", "parts": [
        {"functionCall": {"name": "f", "args": {}}}, {"functionCall": {"name": "f"}}]});
    rejects(
        &server,
        &contents(vec![user.clone(), two_calls, response_turn(json!({}))]),
        "number of function response parts is equal",
    )
    .await;
    // Thought parts and signatures on text parts replay fine.
    let replay = json!({"role": "model", "parts": [{"text": "plan", "thought": true},
        {"text": "", "thoughtSignature": "c2lnQg=="},
        {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "c2lnQw=="}]});
    let ok = contents(vec![user, replay, response_turn(json!({"r": [1]}))]);
    let v = body_json(gemini(&server, GENERATE, &ok, &[]).await).await;
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["text"],
        "Tool result received: {\"r\":[1]}"
    );
}

#[tokio::test]
async fn status_faults_use_google_rpc_errors() {
    let server = MockServer::start().await.unwrap();
    let cases = [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
    ];
    for (code, status) in cases {
        let spec = format!("status={code}");
        let resp = gemini(
            &server,
            GENERATE,
            &gemini_user("hi"),
            &[("x-mock-fault", &spec)],
        )
        .await;
        assert_eq!(resp.status().as_u16(), code);
        let e = body_json(resp).await;
        assert_eq!(e["error"]["code"], code);
        assert_eq!(e["error"]["status"], status, "{code}");
        assert!(e["error"]["message"].is_string());
    }
    let body = gemini_user("hi [[mock status=429 retry_after=7 times=1]]");
    let resp = gemini(&server, GENERATE, &body, &[]).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    let e = body_json(resp).await;
    assert_eq!(e["error"]["details"][0]["retryDelay"], "7s");
    // times=1: the second identical request succeeds, with the directive stripped.
    let v = body_json(gemini(&server, GENERATE, &body, &[]).await).await;
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["text"],
        "Mock reply: hi "
    );
}

#[tokio::test]
async fn truncated_stream_lacks_the_finish_chunk() {
    let server = MockServer::start().await.unwrap();
    let body = gemini_user("one two three four five");
    for n in ["1", "3", "99"] {
        let spec = format!("truncate_after={n}");
        let resp = gemini(&server, STREAM, &body, &[("x-mock-fault", &spec)]).await;
        let raw = read_raw(resp).await;
        assert!(!raw.error);
        let chunks = raw.sse_json();
        assert!(!chunks.is_empty());
        assert!(
            chunks
                .iter()
                .all(|c| c["candidates"][0].get("finishReason").is_none()
                    && c.get("usageMetadata").is_none()),
            "{spec}"
        );
    }
    assert!(server.wait_for_streams(3, Duration::from_secs(2)).await);
    assert!(server.streams().iter().all(|s| !s.completed));
}

#[tokio::test]
async fn mid_error_invalid_json_and_cut() {
    let server = MockServer::start().await.unwrap();
    let body = gemini_user("one two three");
    let resp = gemini(&server, STREAM, &body, &[("x-mock-fault", "mid_error")]).await;
    let raw = read_raw(resp).await;
    let chunks = raw.sse_json();
    assert_eq!(chunks.len(), 2);
    assert_eq!(gemini_text(&chunks[..1]), "Mock ");
    assert_eq!(
        chunks[1],
        json!({"error": {"code": 500, "message": "mock mid-stream failure", "status": "INTERNAL"}})
    );
    assert!(raw.text().ends_with("\r\n\r\n"));

    let resp = gemini(&server, STREAM, &body, &[("x-mock-fault", "invalid_json")]).await;
    let raw = read_raw(resp).await;
    let payloads = raw.sse_payloads();
    assert!(serde_json::from_str::<Value>(&payloads[1]).is_err());
    assert_eq!(gemini_text(&raw.sse_json()), "Mock reply: one two three");

    let resp = gemini(&server, STREAM, &body, &[("x-mock-fault", "cut_after=2")]).await;
    let raw = read_raw(resp).await;
    assert!(raw.error);
    assert_eq!(gemini_text(&raw.sse_json()), "Mock reply: ");

    let resp = gemini(&server, GENERATE, &body, &[("x-mock-fault", "mid_error")]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(body_json(resp).await["error"]["status"], "INTERNAL");
}

#[tokio::test]
async fn pacing_faults_delay_the_stream() {
    let server = MockServer::start().await.unwrap();
    let started = Instant::now();
    let body = gemini_user("a b");
    let resp = gemini(
        &server,
        STREAM,
        &body,
        &[("x-mock-fault", "first_byte_ms=150,delay=40")],
    )
    .await;
    let raw = read_raw(resp).await;
    assert!(started.elapsed() >= Duration::from_millis(150 + 3 * 40));
    assert_eq!(gemini_text(&raw.sse_json()), "Mock reply: a b");
    let resp = gemini(
        &server,
        STREAM,
        &body,
        &[("x-mock-fault", "stall_after=1,stall_ms=200")],
    )
    .await;
    let raw = read_raw(resp).await;
    assert_eq!(raw.sse_json().len(), 1);
}

#[tokio::test]
async fn count_tokens_uses_the_reply_accounting() {
    let server = MockServer::start().await.unwrap();
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "a b c"}]}]});
    let resp = gemini(&server, "gemini-2.0-flash:countTokens", &body, &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(body_json(resp).await["totalTokens"], 4);
    let wrapped = json!({"generateContentRequest": body});
    let resp = gemini(&server, "gemini-2.0-flash:countTokens", &wrapped, &[]).await;
    assert_eq!(body_json(resp).await["totalTokens"], 4);
    let resp = gemini(&server, "gemini-2.0-flash:bogusAction", &body, &[]).await;
    assert_eq!(resp.status(), 404);
    let resp = gemini(&server, "missing-model:generateContent", &body, &[]).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(body_json(resp).await["error"]["status"], "NOT_FOUND");
}
