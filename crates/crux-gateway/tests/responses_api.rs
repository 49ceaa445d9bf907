//! `POST /v1/responses` and `GET /v1/responses/{id}` against `crux mock`: translated targets (OpenAI Chat wire,
//! Anthropic) non-streamed and streamed with the typed, sequence-numbered events; a Responses-wire target gets the
//! caller's body as sent; function tool round trips; `store: true` with `GET` and `previous_response_id` chaining;
//! hosted tools left out (and named in `x-crux-dropped-tools`) on another wire, refused when `tool_choice` demands
//! one; namespace and custom tools (Codex) carried as functions and their calls mapped back.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use crux_gateway::GatewayConfig;
use harness::{Gateway, JsonBody, Stored, sse};
use serde_json::{Value, json};

fn weather_tool() -> Value {
    json!([{"type": "function", "name": "get_weather", "description": "weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
}

async fn post(g: &Gateway, body: &Value) -> (u16, Value) {
    let (status, _, text) = g.post("/v1/responses", "k", body).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn output_text(v: &Value) -> String {
    v["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "message")
        .flat_map(|i| i["content"].as_array().unwrap().iter())
        .filter_map(|p| p["text"].as_str())
        .collect()
}

#[tokio::test]
async fn responses_non_stream_to_chat_wire_and_anthropic_targets() {
    let g = Gateway::start().await;
    for (model, path) in [
        ("openai/gpt-4o-mini", "/v1/chat/completions"),
        ("anthropic/claude-3-5-haiku-latest", "/v1/messages"),
    ] {
        let body = json!({"model": model, "instructions": "Be terse.", "store": false,
            "input": [{"role": "developer", "content": "dev note"},
                      {"role": "user", "content": [{"type": "input_text", "text": "hello responses"}]}],
            "max_output_tokens": 200, "reasoning": {"effort": "low", "summary": "auto"},
            "parallel_tool_calls": true});
        let (status, v) = post(&g, &body).await;
        assert_eq!(status, 200, "{v}");
        assert!(v["id"].as_str().unwrap().starts_with("resp_"), "{v}");
        assert_eq!(v["object"], "response");
        assert_eq!(v["status"], "completed");
        assert_eq!(v["model"], model);
        assert_eq!(v["instructions"], "Be terse.");
        assert!(output_text(&v).contains("hello responses"), "{v}");
        assert!(v["usage"]["input_tokens"].as_u64().unwrap() > 0);
        assert!(v["usage"]["output_tokens"].as_u64().unwrap() > 0);
        assert!(v["usage"]["input_tokens_details"]["cached_tokens"].is_u64());
        assert!(v["usage"]["output_tokens_details"]["reasoning_tokens"].is_u64());
        let sent = g.mock.requests().pop().unwrap();
        assert_eq!(sent.path, path);
        let text = sent.raw_body;
        assert!(
            text.contains("Be terse.") && text.contains("dev note"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn responses_to_a_responses_target_is_forwarded_as_sent() {
    let g = Gateway::start().await;
    let raw = r#"{"model":"openai/o4-mini","input":[{"role":"user","content":"  keep me\n"},
        {"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"b3BhcXVl"}],
        "tools":[{"type":"web_search"}],"include":["reasoning.encrypted_content"],
        "reasoning":{"effort":"low"},"store":false}"#;
    let resp = g
        .http
        .post(g.url("/v1/responses"))
        .bearer_auth("k")
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert_eq!(resp.headers()["x-crux-target"], "openai/o4-mini");
    let text = resp.text().await.unwrap();
    let sent = g.mock.requests().pop().unwrap();
    assert_eq!(sent.path, "/v1/responses");
    assert_eq!(
        sent.raw_body,
        raw.replace("openai/o4-mini", "o4-mini"),
        "byte-identical apart from the model id"
    );
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["object"], "response");
}

#[tokio::test]
async fn responses_hosted_tool_on_another_wire_is_left_out_and_named_in_a_header() {
    let g = Gateway::start().await;
    let body = json!({"model": "anthropic/claude-3-5-haiku-latest", "input": "search the web", "store": false,
        "tools": [{"type": "web_search", "external_web_access": false}, {"type": "file_search"}]});
    let (status, headers, text) = g.post("/v1/responses", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        headers
            .get("x-crux-dropped-tools")
            .map(|v| v.to_str().unwrap()),
        Some("web_search, file_search")
    );
    let sent = g.mock.requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.get("tools").is_none(), "{}", sent[0].body);
    // Demanding one by tool_choice cannot be honoured elsewhere: a 400 naming tool and target, nothing sent.
    g.mock.reset();
    let forced = json!({"model": "anthropic/claude-3-5-haiku-latest", "input": "search the web",
        "tools": [{"type": "web_search"}], "tool_choice": {"type": "web_search"}});
    let (status, v) = post(&g, &forced).await;
    assert_eq!(status, 400, "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("web_search") && msg.contains("anthropic/claude-3-5-haiku-latest"),
        "{msg}"
    );
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(g.mock.requests().is_empty(), "nothing sent upstream");
}

#[tokio::test]
async fn responses_stream_event_sequence_for_a_translated_target() {
    let g = Gateway::start().await;
    let body = json!({"model": "anthropic/claude-3-5-haiku-latest", "stream": true, "store": false,
        "input": "stream these words please"});
    let (status, headers, text) = g.post("/v1/responses", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers["content-type"], "text/event-stream");
    let frames = sse(&text);
    let events: Vec<Value> = frames
        .iter()
        .map(|(e, d)| {
            let v: Value = serde_json::from_str(d).unwrap();
            assert_eq!(
                e.as_deref(),
                v["type"].as_str(),
                "event line names the type"
            );
            v
        })
        .collect();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["sequence_number"], i, "{e}");
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(
        kinds[kinds.len() - 4..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let deltas: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert!(deltas.contains("stream these words please"), "{deltas}");
    let done = &events.last().unwrap()["response"];
    assert_eq!(output_text(done), deltas);
    assert!(done["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(done["id"], events[0]["response"]["id"]);
}

#[tokio::test]
async fn responses_function_tool_round_trip_streamed_then_not() {
    let g = Gateway::start().await;
    let body = json!({"model": "openai/gpt-4o-mini", "stream": true, "store": false,
        "input": "Weather in Paris? use the get_weather tool", "tools": weather_tool(),
        "tool_choice": "auto"});
    let (status, _, text) = g.post("/v1/responses", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    let events: Vec<Value> = sse(&text)
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    let added = events
        .iter()
        .find(|e| e["type"] == "response.output_item.added" && e["item"]["type"] == "function_call")
        .expect("a function_call item");
    let call_id = added["item"]["call_id"].as_str().unwrap().to_owned();
    let args: String = events
        .iter()
        .filter(|e| e["type"] == "response.function_call_arguments.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    let done = events
        .iter()
        .find(|e| e["type"] == "response.function_call_arguments.done")
        .unwrap();
    assert_eq!(done["arguments"], args.as_str());
    assert!(
        serde_json::from_str::<Value>(&args).unwrap().is_object(),
        "{args}"
    );
    assert_eq!(events.last().unwrap()["type"], "response.completed");
    let body = json!({"model": "openai/gpt-4o-mini", "store": false, "tools": weather_tool(),
        "input": [{"role": "user", "content": "Weather in Paris? use the get_weather tool"},
                  {"type": "function_call", "call_id": call_id, "name": "get_weather", "arguments": args},
                  {"type": "function_call_output", "call_id": call_id, "output": "{\"temp_c\": 21}"}]});
    let (status, v) = post(&g, &body).await;
    assert_eq!(status, 200, "{v}");
    assert!(output_text(&v).contains("Tool result received"), "{v}");
    let sent = g.mock.requests().pop().unwrap();
    assert_eq!(
        sent.body["messages"][1]["tool_calls"][0]["id"],
        call_id.as_str()
    );
    assert_eq!(sent.body["messages"][2]["tool_call_id"], call_id.as_str());
}

#[tokio::test]
async fn responses_store_get_and_previous_response_id_on_sqlite() {
    let s = Stored::start_config(GatewayConfig::default(), &[], 0).await;
    let g = &s.gateway;
    let body = json!({"model": "anthropic/claude-3-5-haiku-latest", "instructions": "first instructions",
        "input": "my name is Ada"});
    let (status, first) = post(g, &body).await;
    assert_eq!(status, 200, "{first}");
    let id = first["id"].as_str().unwrap().to_owned();
    // The write is spawned after the answer: poll the store (no wall-clock assertion).
    let mut stored = None;
    for _ in 0..200 {
        stored = s.store.get_response(&id).await.unwrap();
        if stored.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let stored = stored.expect("stored");
    assert_eq!(stored.status, "completed");
    let (status, text) = g.get(&format!("/v1/responses/{id}"), "k").await;
    assert_eq!(status, 200, "{text}");
    let got: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(got, first);
    let (status, text) = g.get("/v1/responses/resp_missing", "k").await;
    assert_eq!(status, 404, "{text}");

    let body = json!({"model": "openai/gpt-4o-mini", "previous_response_id": id, "stream": true,
        "input": [{"role": "user", "content": "what is my name?"}]});
    let resp = g
        .http
        .post(g.url("/v1/responses"))
        .bearer_auth("k")
        .json_body(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("response.completed"), "{text}");
    let sent = g.mock.requests().pop().unwrap();
    let messages = sent.body["messages"].as_array().unwrap();
    let texts: Vec<String> = messages.iter().map(|m| m["content"].to_string()).collect();
    assert!(
        texts[0].contains("my name is Ada"),
        "stored input first: {texts:?}"
    );
    assert_eq!(messages[1]["role"], "assistant", "then the stored output");
    assert!(texts[2].contains("what is my name?"), "{texts:?}");
    assert!(
        !sent.raw_body.contains("first instructions"),
        "instructions are not carried over"
    );
    let (status, v) = post(
        g,
        &json!({"model": "openai/gpt-4o-mini", "previous_response_id": "resp_nope",
        "input": "x"}),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("resp_nope")
    );

    // A response kept here continues here, also on a Responses-wire target (the upstream never saw it)…
    let body = json!({"model": "openai/o4-mini", "previous_response_id": id, "store": false,
        "input": "and now on o4-mini"});
    let (status, v) = post(g, &body).await;
    assert_eq!(status, 200, "{v}");
    let sent = g.mock.requests().pop().unwrap();
    assert_eq!(sent.path, "/v1/responses");
    assert!(
        sent.body.get("previous_response_id").is_none(),
        "{}",
        sent.raw_body
    );
    assert!(
        sent.raw_body.contains("my name is Ada") && sent.raw_body.contains("and now on o4-mini")
    );
    // …while an id this gateway does not know goes to a Responses target as sent.
    let raw = r#"{"model":"openai/o4-mini","previous_response_id":"resp_upstream","input":"hi","store":false}"#;
    let resp = g
        .http
        .post(g.url("/v1/responses"))
        .bearer_auth("k")
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let sent = g.mock.requests().pop().unwrap();
    assert_eq!(sent.raw_body, raw.replace("openai/o4-mini", "o4-mini"));
}

#[tokio::test]
async fn responses_store_false_keeps_nothing() {
    let s = Stored::start_config(GatewayConfig::default(), &[], 0).await;
    let g = &s.gateway;
    let (status, v) = post(
        g,
        &json!({"model": "openai/gpt-4o-mini", "store": false, "input": "x"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    tokio::task::yield_now().await;
    let (status, _) = g
        .get(&format!("/v1/responses/{}", v["id"].as_str().unwrap()), "k")
        .await;
    assert_eq!(status, 404);
}
