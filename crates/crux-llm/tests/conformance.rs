//! Cross-provider conformance: one shared test body per behaviour, run against `crux-mock` for every provider
//! (and for OpenAI twice: Chat Completions and the Responses API), one line per target.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{Target, ask, body_has, client_for, collect};
use crux_llm::{
    Accumulator, ChatRequest, ErrorCode, FinishReason, Message, ProviderId, ResponseFormat, Tool,
    ToolCall, Usage, Wire,
};
use crux_mock::MockServer;
use futures_util::StreamExt;
use serde_json::{Value, json};

/// The usage the mock reported for its `n`-th answer, as the provider would count it.
fn reported(mock: &MockServer, n: usize) -> crux_mock::ReportedUsage {
    let ledger = mock.reported_usage();
    assert!(
        ledger.len() > n,
        "the mock reported {} usages",
        ledger.len()
    );
    ledger[n]
}

fn assert_usage_matches(t: Target, u: &Usage, r: crux_mock::ReportedUsage) {
    assert_eq!(u.prompt, Some(r.prompt), "{t:?} prompt tokens");
    assert_eq!(u.completion, Some(r.completion), "{t:?} completion tokens");
    assert_eq!(u.total, Some(r.prompt + r.completion), "{t:?} total tokens");
    assert!(r.prompt > 0 && r.completion > 0);
}

async fn simple_chat(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let text = "hello there";
    let resp = client.chat(&ask(t, text)).await.unwrap();
    assert!(resp.text().contains(text), "{:?}", resp.text());
    assert_eq!(resp.finish, FinishReason::Stop);
    assert_eq!(resp.provider, t.provider.as_str());
    let sent = &mock.requests()[0];
    t.assert_auth(sent);
    assert!(body_has(sent, text));
    if t.provider == ProviderId::OpenRouter {
        assert!(sent.header("x-title").is_some() && sent.header("http-referer").is_some());
    }
    assert_usage_matches(t, &resp.usage, reported(&mock, 0));
}

async fn stream(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let text = "stream me  please\n\tok";
    let c = collect(client.chat_stream(&ask(t, text))).await;
    let (reason, metrics) = c.terminal.as_ref().unwrap();
    assert_eq!(*reason, FinishReason::Stop);
    assert!(c.text().contains(text), "{:?}", c.text());
    assert!(metrics.emitted > 1);
    t.assert_auth(&mock.requests()[0]);
    if t.wire() == Wire::OpenAi {
        assert_eq!(
            mock.requests()[0].body["stream_options"]["include_usage"],
            true
        );
    }
    assert_usage_matches(t, &c.usage().expect("stream usage"), reported(&mock, 0));
    let whole = client.chat(&ask(t, text)).await.unwrap();
    assert_eq!(c.text(), whole.text());
}

async fn multi_turn_history(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let code = "fn main() {\n    let x = 1;\t// tab\n\n    println!(\"{x}\");  \r\n}\n";
    let reply = "Here it is:\n```rust\n  indented\n```\n";
    let last = "  and now   with\ttabs\n\n";
    let req = ChatRequest::new(
        t.model_id(),
        vec![
            Message::system("You review code.\n  Keep whitespace."),
            Message::user(code),
            Message::assistant(reply),
            Message::user(last),
        ],
    );
    let resp = client.chat(&req).await.unwrap();
    assert!(resp.text().contains(last), "{:?}", resp.text());
    let sent = &mock.requests()[0];
    for text in ["You review code.\n  Keep whitespace.", code, reply, last] {
        assert!(body_has(sent, text), "{t:?} lost {text:?}: {}", sent.body);
    }
}

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Current weather for a city".into()),
        parameters: json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        strict: None,
    }
}

async fn tool_round_trip(t: Target, streamed: bool) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let mut req = ask(t, "What's the weather in Paris? Use the get_weather tool.");
    req.tools = vec![weather_tool()];
    let call: ToolCall = if streamed {
        let c = collect(client.chat_stream(&req)).await;
        assert_eq!(c.terminal.as_ref().unwrap().0, FinishReason::ToolCalls);
        let mut acc = Accumulator::new();
        c.events.iter().for_each(|e| acc.push(e));
        acc.message().tool_calls[0].clone()
    } else {
        let resp = client.chat(&req).await.unwrap();
        assert_eq!(resp.finish, FinishReason::ToolCalls);
        resp.message.tool_calls[0].clone()
    };
    assert_eq!(call.name, "get_weather");
    assert!(!call.id.is_empty());
    assert!(
        serde_json::from_str::<Value>(&call.arguments)
            .unwrap()
            .is_object()
    );

    req.messages.push(Message {
        tool_calls: vec![call.clone()],
        content: vec![],
        ..Message::assistant("")
    });
    let result = "{\"temp_c\": 15, \"sky\": \"clear\"}";
    req.messages
        .push(Message::tool_result(call.id.clone(), result));
    let resp = client.chat(&req).await.unwrap();
    assert!(
        resp.text().contains("Tool result received"),
        "{t:?}: {}",
        resp.text()
    );
    assert!(resp.text().contains("15"), "{t:?}: {}", resp.text());
    let sent = &mock.requests()[1];
    assert!(body_has(sent, "get_weather"));
    assert!(serde_json::to_string(&sent.body).unwrap().contains("clear"));
}

async fn json_schema(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let schema = json!({"type":"object","properties":{"city":{"type":"string"},"temp":{"type":"integer"}},
        "required":["city","temp"],"additionalProperties":false});
    let mut req = ask(t, "Give me JSON");
    req.response_format = ResponseFormat::JsonSchema {
        name: "weather".into(),
        schema,
        strict: Some(true),
    };
    let resp = client.chat(&req).await.unwrap();
    let v: Value = serde_json::from_str(resp.text().trim())
        .unwrap_or_else(|e| panic!("{t:?}: {e}: {}", resp.text()));
    assert!(v["city"].is_string() && v["temp"].is_i64(), "{v}");
}

async fn rate_limited_then_ok(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let resp = client
        .chat(&ask(t, "hi [[mock status=429 retry_after=1 times=1]]"))
        .await
        .unwrap();
    assert!(resp.text().contains("hi"));
    assert_eq!(mock.requests().len(), 2);
}

async fn server_error_twice_then_ok(t: Target, streamed: bool) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let req = ask(t, "hi [[mock status=500 times=2]]");
    let text = if streamed {
        let c = collect(client.chat_stream(&req)).await;
        assert!(c.terminal.is_ok(), "{:?}", c.terminal);
        c.text()
    } else {
        client.chat(&req).await.unwrap().text()
    };
    assert!(text.contains("hi"));
    assert_eq!(mock.requests().len(), 3);
}

async fn auth_error_not_retried(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let err = client
        .chat(&ask(t, "hi [[mock status=401]]"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Auth, "{err:?}");
    assert_eq!(err.status(), Some(401));
    assert!(!format!("{err} {err:?}").contains(common::KEY));
    assert_eq!(mock.requests().len(), 1);
    let c = collect(client.chat_stream(&ask(t, "hi [[mock status=401]]"))).await;
    assert_eq!(c.error().code(), ErrorCode::Auth);
    assert_eq!(c.error().metrics().unwrap().emitted, 0);
}

async fn cut_and_truncated_streams_fail(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let words = "one two three four five six seven eight nine ten eleven twelve";
    let c = collect(client.chat_stream(&ask(t, &format!("{words} [[mock cut_after=6]]")))).await;
    assert_eq!(c.error().code(), ErrorCode::Transient, "{:?}", c.error());
    assert!(c.error().metrics().unwrap().emitted >= 1);
    let c =
        collect(client.chat_stream(&ask(t, "one two three four five [[mock truncate_after=3]]")))
            .await;
    assert!(
        matches!(c.error().root(), crux_llm::Error::Truncated { .. }),
        "{t:?}: {:?}",
        c.error()
    );
    assert_eq!(
        mock.requests().len(),
        2,
        "no retry after bytes were streamed"
    );
}

async fn stall_is_idle_timeout(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let c =
        collect(client.chat_stream(&ask(t, "a b c d [[mock stall_after=1 stall_ms=3000]]"))).await;
    assert_eq!(c.error().code(), ErrorCode::Timeout);
    assert!(
        c.error().to_string().contains("next stream chunk"),
        "{}",
        c.error()
    );
}

async fn invalid_json_and_in_band_errors(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let err = client
        .chat(&ask(t, "hi [[mock invalid_json]]"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, crux_llm::Error::Decode { .. }),
        "{t:?}: {err:?}"
    );
    let c = collect(client.chat_stream(&ask(t, "a b c [[mock invalid_json]]"))).await;
    assert!(
        matches!(c.error().root(), crux_llm::Error::Decode { .. }),
        "{t:?}: {:?}",
        c.error()
    );
    let c = collect(client.chat_stream(&ask(t, "a b c [[mock mid_error]]"))).await;
    assert!(
        matches!(c.error().root(), crux_llm::Error::InBand { .. }),
        "{t:?}: {:?}",
        c.error()
    );
}

async fn drop_closes_upstream(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let mut s = client.chat_stream(&ask(
        t,
        "one two three four five six seven [[mock delay=50]]",
    ));
    for _ in 0..2 {
        s.next().await.unwrap().unwrap();
    }
    drop(s);
    assert!(mock.wait_for_streams(1, Duration::from_secs(5)).await);
    let rec = &mock.streams()[0];
    assert!(rec.client_disconnected && !rec.completed, "{rec:?}");
}

async fn cancel_token_yields_cancelled(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let mut s = client.chat_stream(&ask(t, "one two three four five six [[mock delay=50]]"));
    s.next().await.unwrap().unwrap();
    s.cancel_token().cancel();
    let c = collect(s).await;
    assert_eq!(c.error().code(), ErrorCode::Cancelled);
}

async fn missing_key_names_env(t: Target) {
    let client = crux_llm::Client::builder().build().unwrap();
    let result = client.chat(&ask(t, "hi")).await;
    if t.provider.spec().key_optional() {
        // Ollama needs no key: the failure is the unreachable default endpoint, never a key error.
        assert!(
            !matches!(result, Err(crux_llm::Error::Config(_))),
            "{result:?}"
        );
        return;
    }
    let err = result.unwrap_err();
    assert!(matches!(err, crux_llm::Error::Config(_)));
    assert!(
        err.to_string().contains(t.provider.spec().key_env[0]),
        "{err}"
    );
}

async fn connection_refused_is_unavailable(t: Target) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = crux_llm::Client::builder()
        .provider(
            t.provider,
            crux_llm::ProviderConfig {
                base_url: Some(format!("http://{addr}")),
                api_key: Some(t.key().into()),
                ..Default::default()
            },
        )
        .retry(common::test_retry())
        .build()
        .unwrap();
    let err = client.chat(&ask(t, "hi")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unavailable, "{err:?}");
}

async fn extra_passes_through(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    // A field each API documents but Crux does not model; strict mocks reject unknown fields.
    let (key, value) = match t.wire() {
        Wire::OpenAi | Wire::Responses => ("parallel_tool_calls", json!(false)),
        Wire::Anthropic => ("top_k", json!(5)),
        Wire::Gemini => (
            "safetySettings",
            json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]),
        ),
        Wire::Ollama => ("keep_alive", json!("5m")),
        Wire::Bedrock => ("performanceConfig", json!({"latency": "standard"})),
    };
    let mut req = ask(t, "hi");
    req.extra.insert(key.into(), value.clone());
    client.chat(&req).await.unwrap();
    assert_eq!(mock.requests()[0].body[key], value);
}

/// Anthropic extended thinking: the signed thinking block comes back and is replayed unchanged on the next turn.
async fn anthropic_thinking_round_trip(streamed: bool) {
    let t = Target {
        provider: ProviderId::Anthropic,
        model: "claude-sonnet-4-5",
    };
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let mut req = ask(t, "Weather in Paris? Use the get_weather tool.");
    req.tools = vec![weather_tool()];
    req.reasoning_effort = Some("low".into());
    let message = if streamed {
        let c = collect(client.chat_stream(&req)).await;
        let mut acc = Accumulator::new();
        c.events.iter().for_each(|e| acc.push(e));
        acc.message()
    } else {
        client.chat(&req).await.unwrap().message
    };
    assert!(
        matches!(&message.content[0], crux_llm::Part::Reasoning { signature: Some(s), .. } if !s.is_empty()),
        "{message:?}"
    );
    let call = message.tool_calls[0].clone();
    req.messages.push(message);
    req.messages
        .push(Message::tool_result(call.id, "{\"temp_c\": 15}"));
    let resp = client.chat(&req).await.unwrap();
    assert!(
        resp.text().contains("Tool result received"),
        "{}",
        resp.text()
    );
    assert_eq!(
        mock.requests()[1].body["messages"][1]["content"][0]["type"],
        "thinking"
    );
}

#[tokio::test]
async fn anthropic_thinking_signature_round_trip() {
    anthropic_thinking_round_trip(false).await
}

#[tokio::test]
async fn anthropic_thinking_signature_round_trip_streamed() {
    anthropic_thinking_round_trip(true).await
}

macro_rules! conformance {
    ($($name:ident => $p:expr, $model:expr;)*) => {$(
        mod $name {
            use super::*;
            fn t() -> Target { Target { provider: $p, model: $model } }
            #[tokio::test] async fn simple_chat() { super::simple_chat(t()).await }
            #[tokio::test] async fn stream() { super::stream(t()).await }
            #[tokio::test] async fn multi_turn_history() { super::multi_turn_history(t()).await }
            #[tokio::test] async fn tool_round_trip() { super::tool_round_trip(t(), false).await }
            #[tokio::test] async fn tool_round_trip_streamed() { super::tool_round_trip(t(), true).await }
            #[tokio::test] async fn json_schema() { super::json_schema(t()).await }
            #[tokio::test] async fn rate_limited_then_ok() { super::rate_limited_then_ok(t()).await }
            #[tokio::test] async fn server_error_twice_then_ok() { super::server_error_twice_then_ok(t(), false).await }
            #[tokio::test] async fn server_error_twice_then_ok_streamed() { super::server_error_twice_then_ok(t(), true).await }
            #[tokio::test] async fn auth_error_not_retried() { super::auth_error_not_retried(t()).await }
            #[tokio::test] async fn cut_and_truncated_streams_fail() { super::cut_and_truncated_streams_fail(t()).await }
            #[tokio::test] async fn stall_is_idle_timeout() { super::stall_is_idle_timeout(t()).await }
            #[tokio::test] async fn invalid_json_and_in_band_errors() { super::invalid_json_and_in_band_errors(t()).await }
            #[tokio::test] async fn drop_closes_upstream() { super::drop_closes_upstream(t()).await }
            #[tokio::test] async fn cancel_token_yields_cancelled() { super::cancel_token_yields_cancelled(t()).await }
            #[tokio::test] async fn missing_key_names_env() { super::missing_key_names_env(t()).await }
            #[tokio::test] async fn connection_refused_is_unavailable() { super::connection_refused_is_unavailable(t()).await }
            #[tokio::test] async fn extra_passes_through() { super::extra_passes_through(t()).await }
        }
    )*};
}

conformance! {
    openai => ProviderId::OpenAi, "gpt-4o-mini";
    openai_responses => ProviderId::OpenAi, "o4-mini";
    anthropic => ProviderId::Anthropic, "claude-3-5-haiku-latest";
    gemini => ProviderId::Gemini, "gemini-2.0-flash";
    gemini_3 => ProviderId::Gemini, "gemini-3-pro-preview";
    ollama => ProviderId::Ollama, "llama3.2";
    openrouter => ProviderId::OpenRouter, "meta-llama/llama-3.1-8b-instruct";
    deepseek => ProviderId::DeepSeek, "deepseek-chat";
    xai => ProviderId::Xai, "grok-3-mini";
    groq => ProviderId::Groq, "llama-3.3-70b-versatile";
    mistral => ProviderId::Mistral, "mistral-small-latest";
    azure => azure(), "my-gpt-4o-mini";
    bedrock => bedrock(), "anthropic.claude-3-5-haiku-20241022-v1:0";
}

/// AWS Bedrock as a config defines it (`wire = "bedrock"`): Converse, SigV4-signed, event-stream framing.
fn bedrock() -> ProviderId {
    crux_llm::custom::register(&crux_llm::custom::CustomProvider {
        name: "bedrock-test".into(),
        display_name: Some("AWS Bedrock".into()),
        wire: Wire::Bedrock,
        auth: None,
        api_key_env: None,
        base_url: crux_llm::custom::bedrock_endpoint("eu-central-1"),
        default_model: None,
        models: Vec::new(),
        api_version: None,
        region: Some("eu-central-1".into()),
        from: None,
    })
    .unwrap()
}

/// Azure OpenAI as a config defines it (`wire = "azure"`): deployment URLs with `api-version`, the `api-key` header.
fn azure() -> ProviderId {
    crux_llm::custom::register(&crux_llm::custom::CustomProvider {
        name: "azure-test".into(),
        display_name: Some("Azure OpenAI".into()),
        wire: Wire::OpenAi,
        auth: None,
        api_key_env: Some("AZURE_TEST_API_KEY".into()),
        base_url: "https://example.openai.azure.com".into(),
        default_model: None,
        models: Vec::new(),
        api_version: Some("2024-10-21".into()),
        region: None,
        from: None,
    })
    .unwrap()
}
