//! The six OpenAI-wire providers against `crux-mock`: one shared test body per behaviour, one line per provider.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{ask, client_for, collect};
use crux_llm::{
    ChatRequest, ErrorCode, FinishReason, Message, ProviderId, ResponseFormat, Role, Tool,
    ToolCall, Usage,
};
use crux_mock::MockServer;
use serde_json::{Value, json};

/// Ask the mock directly (same body the client sent) and read the usage it reports.
async fn usage_reported_by_mock(mock: &MockServer, body: &Value) -> Value {
    let mut body = body.clone();
    body.as_object_mut().unwrap().remove("stream");
    body.as_object_mut().unwrap().remove("stream_options");
    let resp: Value = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", mock.url()))
        .bearer_auth("k")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    resp["usage"].clone()
}

fn assert_usage_matches(u: &Usage, reported: &Value) {
    assert_eq!(
        u.prompt,
        reported["prompt_tokens"].as_u64(),
        "prompt tokens"
    );
    assert_eq!(
        u.completion,
        reported["completion_tokens"].as_u64(),
        "completion tokens"
    );
    assert_eq!(u.total, reported["total_tokens"].as_u64(), "total tokens");
    assert!(u.prompt.unwrap() > 0 && u.completion.unwrap() > 0);
}

async fn non_stream(p: ProviderId) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let text = "hello there\n    fn main() {\n\t\tprintln!(\"x\");  \n    }\n";
    let resp = client.chat(&ask(p, text)).await.unwrap();
    assert!(resp.text().contains(text), "{:?}", resp.text());
    assert_eq!(resp.finish, FinishReason::Stop);
    assert_eq!(resp.provider, p.as_str());
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    let sent = &reqs[0];
    assert_eq!(
        sent.body["messages"][0]["content"], text,
        "whitespace must survive byte for byte"
    );
    assert_eq!(sent.header("authorization"), Some("Bearer test-key-123"));
    assert!(sent.body.get("stream_options").is_none());
    if p == ProviderId::OpenRouter {
        assert!(sent.header("x-title").is_some() && sent.header("http-referer").is_some());
    }
    let reported = usage_reported_by_mock(&mock, &sent.body).await;
    assert_usage_matches(&resp.usage, &reported);
}

async fn stream(p: ProviderId) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let text = "stream me  please\n\tok";
    let c = collect(client.chat_stream(&ask(p, text))).await;
    let (reason, metrics) = c.terminal.as_ref().unwrap();
    assert_eq!(*reason, FinishReason::Stop);
    assert!(c.text().contains(text), "{:?}", c.text());
    assert!(metrics.emitted > 1);
    let sent = &mock.requests()[0];
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"]["include_usage"], true);
    let reported = usage_reported_by_mock(&mock, &sent.body).await;
    assert_usage_matches(&c.usage().expect("stream usage"), &reported);
    let non_stream = client.chat(&ask(p, text)).await.unwrap();
    assert_eq!(c.text(), non_stream.text());
}

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Current weather for a city".into()),
        parameters: json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        strict: None,
    }
}

async fn tool_round_trip(p: ProviderId, streamed: bool) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let mut req = ask(p, "What's the weather in Paris? Use the get_weather tool.");
    req.tools = vec![weather_tool()];
    let call: ToolCall = if streamed {
        let c = collect(client.chat_stream(&req)).await;
        assert_eq!(c.terminal.as_ref().unwrap().0, FinishReason::ToolCalls);
        let (mut id, mut name, mut args) = (String::new(), String::new(), String::new());
        for e in &c.events {
            if let crux_llm::StreamEvent::ToolCallDelta {
                index: 0,
                id: i,
                name: n,
                args_fragment,
                ..
            } = e
            {
                id.push_str(i.as_deref().unwrap_or(""));
                name.push_str(n.as_deref().unwrap_or(""));
                args.push_str(args_fragment);
            }
        }
        ToolCall::new(id, name, args)
    } else {
        let resp = client.chat(&req).await.unwrap();
        assert_eq!(resp.finish, FinishReason::ToolCalls);
        resp.message.tool_calls[0].clone()
    };
    assert_eq!(call.name, "get_weather");
    assert!(
        serde_json::from_str::<Value>(&call.arguments)
            .unwrap()
            .is_object()
    );

    req.messages.push(Message {
        role: Role::Assistant,
        content: vec![],
        tool_calls: vec![call.clone()],
        tool_call_id: None,
        name: None,
    });
    let result = "{\"temp_c\": 15,\n \"sky\": \"clear\"}";
    req.messages
        .push(Message::tool_result(call.id.clone(), result));
    let resp = client.chat(&req).await.unwrap();
    assert!(resp.text().contains(result), "{}", resp.text());
    let sent = &mock.requests()[1].body;
    let msgs = sent["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(
        msgs[1]["tool_calls"][0]["function"]["arguments"],
        call.arguments.as_str()
    );
    assert_eq!(msgs[1]["tool_calls"][0]["id"], msgs[2]["tool_call_id"]);
    assert_eq!(msgs[2]["content"], result);
}

async fn json_schema(p: ProviderId) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let schema = json!({"type":"object","properties":{"city":{"type":"string"},"temp":{"type":"integer"}},
        "required":["city","temp"],"additionalProperties":false});
    let mut req = ask(p, "Give me JSON");
    req.response_format = ResponseFormat::JsonSchema {
        name: "weather".into(),
        schema: schema.clone(),
        strict: Some(true),
    };
    let resp = client.chat(&req).await.unwrap();
    let v: Value = serde_json::from_str(&resp.text()).unwrap();
    assert!(v["city"].is_string() && v["temp"].is_i64(), "{v}");
    let sent = &mock.requests()[0].body;
    assert_eq!(sent["response_format"]["json_schema"]["schema"], schema);
    req.response_format = ResponseFormat::JsonObject;
    let resp = client.chat(&req).await.unwrap();
    assert!(
        serde_json::from_str::<Value>(&resp.text())
            .unwrap()
            .is_object()
    );
}

async fn rate_limited_then_ok(p: ProviderId) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let resp = client
        .chat(&ask(p, "hi [[mock status=429 retry_after=1 times=1]]"))
        .await
        .unwrap();
    assert!(resp.text().contains("hi"));
    assert_eq!(mock.requests().len(), 2);
}

async fn server_error_twice_then_ok(p: ProviderId, streamed: bool) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let req = ask(p, "hi [[mock status=500 times=2]]");
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

async fn auth_error_not_retried(p: ProviderId) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let err = client
        .chat(&ask(p, "hi [[mock status=401]]"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Auth);
    assert_eq!(err.status(), Some(401));
    assert!(!err.to_string().contains("test-key-123"));
    assert_eq!(mock.requests().len(), 1);
    let c = collect(client.chat_stream(&ask(p, "hi [[mock status=401]]"))).await;
    assert_eq!(c.error().code(), ErrorCode::Auth);
    assert_eq!(c.error().metrics().unwrap().emitted, 0);
}

async fn cut_stream_is_error(p: ProviderId) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let c =
        collect(client.chat_stream(&ask(p, "one two three four five [[mock cut_after=2]]"))).await;
    assert_eq!(c.error().code(), ErrorCode::Transient, "{:?}", c.error());
    assert!(c.error().metrics().unwrap().emitted >= 1);
    let c =
        collect(client.chat_stream(&ask(p, "one two three four [[mock truncate_after=2]]"))).await;
    assert!(
        matches!(c.error().root(), crux_llm::Error::Truncated { .. }),
        "{:?}",
        c.error()
    );
    assert_eq!(
        mock.requests().len(),
        2,
        "no retry after bytes were streamed"
    );
}

async fn stall_is_idle_timeout(p: ProviderId) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let c =
        collect(client.chat_stream(&ask(p, "a b c d [[mock stall_after=1 stall_ms=3000]]"))).await;
    assert_eq!(c.error().code(), ErrorCode::Timeout);
    assert!(
        c.error().to_string().contains("next stream chunk"),
        "{}",
        c.error()
    );
}

async fn invalid_json_is_error(p: ProviderId) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let err = client
        .chat(&ask(p, "hi [[mock invalid_json]]"))
        .await
        .unwrap_err();
    assert!(matches!(err, crux_llm::Error::Decode { .. }), "{err:?}");
    let c = collect(client.chat_stream(&ask(p, "a b c [[mock invalid_json]]"))).await;
    assert!(
        matches!(c.error().root(), crux_llm::Error::Decode { .. }),
        "{:?}",
        c.error()
    );
    let c = collect(client.chat_stream(&ask(p, "a b c [[mock mid_error]]"))).await;
    assert!(
        c.error().to_string().contains("mock mid-stream failure"),
        "{}",
        c.error()
    );
}

async fn drop_closes_upstream(p: ProviderId) {
    use futures_util::StreamExt;
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let mut s = client.chat_stream(&ask(
        p,
        "one two three four five six seven [[mock delay=50]]",
    ));
    let mut got = 0;
    while got < 2 {
        s.next().await.unwrap().unwrap();
        got += 1;
    }
    drop(s);
    assert!(mock.wait_for_streams(1, Duration::from_secs(5)).await);
    let rec = &mock.streams()[0];
    assert!(rec.client_disconnected && !rec.completed, "{rec:?}");
}

async fn cancel_token_yields_cancelled(p: ProviderId) {
    use futures_util::StreamExt;
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let mut s = client.chat_stream(&ask(p, "one two three four five six [[mock delay=50]]"));
    s.next().await.unwrap().unwrap();
    s.cancel_token().cancel();
    let c = collect(s).await;
    assert_eq!(c.error().code(), ErrorCode::Cancelled);
}

async fn missing_key_names_env(p: ProviderId) {
    let client = crux_llm::Client::builder().build().unwrap();
    let err = client.chat(&ask(p, "hi")).await.unwrap_err();
    assert!(matches!(err, crux_llm::Error::Config(_)));
    assert!(err.to_string().contains(p.spec().key_env[0]), "{err}");
    let c = collect(client.chat_stream(&ask(p, "hi"))).await;
    assert!(matches!(c.error().root(), crux_llm::Error::Config(_)));
}

async fn connection_refused_is_unavailable(p: ProviderId) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = crux_llm::Client::builder()
        .provider(
            p,
            crux_llm::ProviderConfig {
                base_url: Some(format!("http://{addr}/v1")),
                api_key: Some("k".into()),
                ..Default::default()
            },
        )
        .retry(common::test_retry())
        .build()
        .unwrap();
    let err = client.chat(&ask(p, "hi")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unavailable, "{err:?}");
}

async fn extra_passes_through(p: ProviderId) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, p);
    let mut req: ChatRequest = ask(p, "hi");
    req.extra
        .insert("custom_field".into(), json!({"a": [1, 2]}));
    client.chat(&req).await.unwrap();
    assert_eq!(
        mock.requests()[0].body["custom_field"],
        json!({"a": [1, 2]})
    );
}

macro_rules! provider_suite {
    ($($name:ident => $p:expr),* $(,)?) => {$(
        mod $name {
            use super::*;
            const P: ProviderId = $p;
            #[tokio::test] async fn non_stream() { super::non_stream(P).await }
            #[tokio::test] async fn stream() { super::stream(P).await }
            #[tokio::test] async fn tool_round_trip() { super::tool_round_trip(P, false).await }
            #[tokio::test] async fn tool_round_trip_streamed() { super::tool_round_trip(P, true).await }
            #[tokio::test] async fn json_schema() { super::json_schema(P).await }
            #[tokio::test] async fn rate_limited_then_ok() { super::rate_limited_then_ok(P).await }
            #[tokio::test] async fn server_error_twice_then_ok() { super::server_error_twice_then_ok(P, false).await }
            #[tokio::test] async fn server_error_twice_then_ok_streamed() { super::server_error_twice_then_ok(P, true).await }
            #[tokio::test] async fn auth_error_not_retried() { super::auth_error_not_retried(P).await }
            #[tokio::test] async fn cut_stream_is_error() { super::cut_stream_is_error(P).await }
            #[tokio::test] async fn stall_is_idle_timeout() { super::stall_is_idle_timeout(P).await }
            #[tokio::test] async fn invalid_json_is_error() { super::invalid_json_is_error(P).await }
            #[tokio::test] async fn drop_closes_upstream() { super::drop_closes_upstream(P).await }
            #[tokio::test] async fn cancel_token_yields_cancelled() { super::cancel_token_yields_cancelled(P).await }
            #[tokio::test] async fn missing_key_names_env() { super::missing_key_names_env(P).await }
            #[tokio::test] async fn connection_refused_is_unavailable() { super::connection_refused_is_unavailable(P).await }
            #[tokio::test] async fn extra_passes_through() { super::extra_passes_through(P).await }
        }
    )*};
}

provider_suite! {
    openai => ProviderId::OpenAi,
    openrouter => ProviderId::OpenRouter,
    deepseek => ProviderId::DeepSeek,
    xai => ProviderId::Xai,
    groq => ProviderId::Groq,
    mistral => ProviderId::Mistral,
}
