//! The gateway's OpenAI and Anthropic dialects against every kind of upstream wire, streamed and not.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use harness::{Gateway, PROVIDER_KEY, sse};
use serde_json::{Value, json};

const UPSTREAMS: [&str; 6] = [
    "openai/gpt-4o-mini",
    "openai/o4-mini",
    "anthropic/claude-3-5-haiku-latest",
    "gemini/gemini-2.0-flash",
    "ollama/llama3.2",
    "mistral/mistral-small-latest",
];

#[tokio::test]
async fn openai_dialect_to_every_wire() {
    let g = Gateway::start().await;
    for model in UPSTREAMS {
        let body =
            json!({"model": model, "messages": [{"role": "user", "content": "hello  there\n"}]});
        let (status, headers, text) = g.post("/v1/chat/completions", "client-key", &body).await;
        assert_eq!(status, 200, "{model}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(
            v["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .contains("hello  there\n"),
            "{model}: {v}"
        );
        assert_eq!(v["object"], "chat.completion");
        // Same wire (OpenAI-wire targets): the upstream's body as received, its own model id; translated: the name
        // the caller used.
        let upstream_id = model.split_once('/').unwrap().1;
        assert!(
            v["model"] == model || v["model"] == upstream_id,
            "{model}: {v}"
        );
        assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
        assert_eq!(headers["x-crux-target"], model);
    }
    // The client's key never goes upstream; the gateway's provider key does.
    for r in g.mock.requests() {
        let auth = [
            r.header("authorization"),
            r.header("x-api-key"),
            r.header("x-goog-api-key"),
        ];
        assert!(
            auth.iter().flatten().all(|v| !v.contains("client-key")),
            "{r:?}"
        );
    }
    assert!(
        g.mock
            .requests()
            .iter()
            .any(|r| r.header("x-api-key") == Some(PROVIDER_KEY))
    );
}

#[tokio::test]
async fn openai_dialect_streams_with_usage_chunk() {
    let g = Gateway::start().await;
    for model in UPSTREAMS {
        let body = json!({"model": model, "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "stream this please"}]});
        let (status, headers, text) = g.post("/v1/chat/completions", "k", &body).await;
        assert_eq!(status, 200, "{model}: {text}");
        assert_eq!(headers["content-type"], "text/event-stream");
        let frames = sse(&text);
        assert_eq!(frames.last().unwrap().1, "[DONE]", "{model}");
        let chunks: Vec<Value> = frames[..frames.len() - 1]
            .iter()
            .map(|(_, d)| serde_json::from_str(d).unwrap())
            .collect();
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert!(text.contains("stream this please"), "{model}: {text}");
        let usage = chunks.last().unwrap();
        assert_eq!(usage["choices"], json!([]), "{model}");
        assert!(
            usage["usage"]["completion_tokens"].as_u64().unwrap() > 0,
            "{model}: {usage}"
        );
        assert_eq!(
            chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
            "stop"
        );
    }
}

#[tokio::test]
async fn anthropic_dialect_to_every_wire() {
    let g = Gateway::start().await;
    for model in UPSTREAMS {
        let body = json!({"model": model, "max_tokens": 200, "system": "be brief",
            "messages": [{"role": "user", "content": "hello\tthere"}]});
        let (status, _, text) = g.post("/v1/messages", "k", &body).await;
        assert_eq!(status, 200, "{model}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["type"], "message");
        assert!(
            v["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("hello\tthere"),
            "{model}: {v}"
        );
        assert_eq!(v["stop_reason"], "end_turn");
        assert!(v["usage"]["output_tokens"].as_u64().unwrap() > 0);

        let mut streamed = body.clone();
        streamed["stream"] = json!(true);
        let (status, _, text) = g.post("/v1/messages", "k", &streamed).await;
        assert_eq!(status, 200, "{model}: {text}");
        let frames = sse(&text);
        let names: Vec<&str> = frames.iter().filter_map(|(e, _)| e.as_deref()).collect();
        assert_eq!(names.first(), Some(&"message_start"), "{model}");
        assert_eq!(
            &names[names.len() - 2..],
            ["message_delta", "message_stop"],
            "{model}"
        );
        assert!(names.contains(&"content_block_start") && names.contains(&"content_block_stop"));
        let text: String = frames
            .iter()
            .filter(|(e, _)| e.as_deref() == Some("content_block_delta"))
            .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
            .filter_map(|d| d["delta"]["text"].as_str().map(str::to_owned))
            .collect();
        assert!(text.contains("hello\tthere"), "{model}: {text}");
    }
}

fn weather_tool_openai() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

#[tokio::test]
async fn openai_client_streams_tool_calls_from_anthropic_upstream() {
    let g = Gateway::start().await;
    let mut messages =
        vec![json!({"role": "user", "content": "Weather in Paris? use the get_weather tool"})];
    let body = json!({"model": "anthropic/claude-3-5-haiku-latest", "stream": true, "messages": messages,
        "tools": weather_tool_openai()});
    let (status, _, text) = g.post("/v1/chat/completions", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    let chunks: Vec<Value> = sse(&text)
        .into_iter()
        .filter(|(_, d)| d != "[DONE]")
        .map(|(_, d)| serde_json::from_str(&d).unwrap())
        .collect();
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    let id = calls[0]["id"].as_str().unwrap().to_owned();
    let args: String = calls
        .iter()
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    assert!(
        serde_json::from_str::<Value>(&args).unwrap().is_object(),
        "{args}"
    );
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "tool_calls")
    );
    messages.push(
        json!({"role": "assistant", "content": null, "tool_calls": [{"id": id, "type": "function",
        "function": {"name": "get_weather", "arguments": args}}]}),
    );
    messages.push(json!({"role": "tool", "tool_call_id": id, "content": "{\"temp_c\": 21}"}));
    let body = json!({"model": "anthropic/claude-3-5-haiku-latest", "messages": messages, "tools": weather_tool_openai()});
    let (status, _, text) = g.post("/v1/chat/completions", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("Tool result received"), "{text}");
}

#[tokio::test]
async fn anthropic_client_streams_tool_calls_from_openai_upstream() {
    let g = Gateway::start().await;
    let tools = json!([{"name": "get_weather", "description": "weather",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let mut messages =
        vec![json!({"role": "user", "content": "Weather in Paris? use the get_weather tool"})];
    let body = json!({"model": "openai/gpt-4o-mini", "max_tokens": 100, "stream": true, "messages": messages, "tools": tools});
    let (status, _, text) = g.post("/v1/messages", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    let frames = sse(&text);
    let start = frames
        .iter()
        .filter(|(e, _)| e.as_deref() == Some("content_block_start"))
        .map(|(_, d)| serde_json::from_str::<Value>(d).unwrap())
        .find(|d| d["content_block"]["type"] == "tool_use")
        .expect("a tool_use block");
    let id = start["content_block"]["id"].as_str().unwrap().to_owned();
    let partial: String = frames
        .iter()
        .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
        .filter_map(|d| d["delta"]["partial_json"].as_str().map(str::to_owned))
        .collect();
    let input: Value = serde_json::from_str(&partial).unwrap();
    assert!(text.contains("\"stop_reason\":\"tool_use\""), "{text}");
    messages.push(json!({"role": "assistant", "content": [{"type": "tool_use", "id": id, "name": "get_weather", "input": input}]}));
    messages.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": "21C and sunny"}]}));
    let body = json!({"model": "openai/gpt-4o-mini", "max_tokens": 100, "messages": messages, "tools": tools});
    let (status, _, text) = g.post("/v1/messages", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("21C and sunny"), "{text}");
}

#[tokio::test]
async fn bare_names_resolve_to_the_route_native_provider() {
    let g = Gateway::start().await;
    let body = json!({"model": "claude-3-5-haiku-latest", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]});
    let (status, _, text) = g.post("/v1/messages", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(g.mock.requests()[0].path, "/v1/messages");
    let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let (status, _, _) = g.post("/v1/chat/completions", "k", &body).await;
    assert_eq!(status, 200);
    assert_eq!(g.mock.requests()[1].path, "/v1/chat/completions");
}

#[tokio::test]
async fn embeddings_float_and_base64() {
    let g = Gateway::start().await;
    let body =
        json!({"model": "openai/text-embedding-3-small", "input": ["a b", "c"], "dimensions": 4});
    let (status, _, text) = g.post("/v1/embeddings", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["data"][1]["index"], 1);
    let floats: Vec<f32> = serde_json::from_value(v["data"][0]["embedding"].clone()).unwrap();
    assert_eq!(floats.len(), 4);
    let body = json!({"model": "gemini/gemini-embedding-001", "input": "a b", "dimensions": 4, "encoding_format": "base64"});
    let (status, _, text) = g.post("/v1/embeddings", "k", &body).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw.len(), 16);
}
