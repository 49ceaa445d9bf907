//! The tool loop against `crux-mock`: a two-tool, three-round task (the mock's `[[chain]]` marker makes it call
//! `get_weather`, then `get_time`, then answer) for every provider with tools, plain and streamed.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{Target, body_has, client_for};
use crux_llm::tools::{self, LoopStop, ToolEvent, ToolRun, Toolbox};
use crux_llm::{ChatRequest, ErrorCode, Message, ProviderId, Role};
use crux_mock::MockServer;
use futures_util::StreamExt;
use serde_json::{Value, json};

const TASK: &str = "Use get_weather for Paris, then get_time there. [[chain]]";

fn city_schema() -> Value {
    json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
}

fn toolbox() -> Toolbox {
    let mut tb = Toolbox::new();
    tb.register(
        "get_weather",
        "Current weather in a city",
        city_schema(),
        |args: Value| async move {
            let city = args["city"].as_str().ok_or("city is required")?.to_owned();
            Ok(json!({"city": city, "temp_c": 15}).to_string())
        },
    )
    .unwrap()
    .register(
        "get_time",
        "Local time in a city",
        city_schema(),
        |args: Value| async move {
            let city = args["city"].as_str().ok_or("city is required")?.to_owned();
            Ok(json!({"city": city, "time": "12:34"}).to_string())
        },
    )
    .unwrap();
    tb
}

fn task(t: Target, text: &str) -> ChatRequest {
    ChatRequest::new(
        t.model_id(),
        vec![Message::system("Be terse."), Message::user(text)],
    )
}

/// The run solved the two-tool task in three rounds, each result fed back with its call's id.
fn assert_solved(t: Target, mock: &MockServer, run: &ToolRun) {
    assert_eq!(run.stop, LoopStop::Completed, "{t:?}");
    assert_eq!(run.iterations, 3, "{t:?}");
    let names: Vec<&str> = run.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["get_weather", "get_time"], "{t:?}");
    assert!(
        run.outputs.iter().all(|o| !o.is_error),
        "{t:?}: {:?}",
        run.outputs
    );
    let roles: Vec<Role> = run.transcript.iter().map(|m| m.role).collect();
    use Role::{Assistant as A, System as S, Tool as T, User as U};
    assert_eq!(roles, [S, U, A, T, A, T, A], "{t:?}");
    for (call_at, result_at) in [(2, 3), (4, 5)] {
        let call = &run.transcript[call_at].tool_calls[0];
        assert_eq!(
            run.transcript[result_at].tool_call_id.as_deref(),
            Some(call.id.as_str())
        );
    }
    assert!(
        run.text().contains("Tool result received"),
        "{t:?}: {}",
        run.text()
    );
    assert!(run.text().contains("12:34"), "{t:?}: {}", run.text());
    let requests = mock.requests();
    assert_eq!(requests.len(), 3, "{t:?}");
    assert!(body_has(&requests[2], "temp_c") && body_has(&requests[2], "12:34"));
    let reported: u64 = mock
        .reported_usage()
        .iter()
        .map(|u| u.prompt + u.completion)
        .sum();
    assert_eq!(
        run.usage.total,
        Some(reported),
        "{t:?}: usage summed over rounds"
    );
}

async fn solve(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let run = tools::run(&client, &task(t, TASK), &toolbox(), 5)
        .await
        .unwrap();
    assert_solved(t, &mock, &run);
}

async fn solve_streamed(t: Target) {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, t);
    let events: Vec<ToolEvent> = tools::run_stream(&client, &task(t, TASK), &toolbox(), 5)
        .map(|e| e.unwrap())
        .collect()
        .await;
    let mut labels = Vec::new();
    let mut text = String::new();
    for e in &events {
        match e {
            ToolEvent::TextDelta(d) => text.push_str(d),
            ToolEvent::ToolCall(c) => labels.push(format!("call {}", c.name)),
            ToolEvent::ToolResult(r) => labels.push(format!("result {}", r.name)),
            ToolEvent::Done(_) => labels.push("done".into()),
        }
    }
    assert_eq!(
        labels,
        [
            "call get_weather",
            "result get_weather",
            "call get_time",
            "result get_time",
            "done"
        ],
        "{t:?}"
    );
    let Some(ToolEvent::Done(run)) = events.last() else {
        panic!("no Done")
    };
    assert_solved(t, &mock, run);
    assert_eq!(text, run.text(), "{t:?}: streamed text is the final answer");
}

macro_rules! per_target {
    ($($name:ident => $p:expr, $model:expr;)*) => {$(
        mod $name {
            use super::*;
            const T: Target = Target { provider: $p, model: $model };
            #[tokio::test] async fn two_tools_three_rounds() { solve(T).await }
            #[tokio::test] async fn two_tools_three_rounds_streamed() { solve_streamed(T).await }
        }
    )*};
}

per_target! {
    openai => ProviderId::OpenAi, "gpt-4o-mini";
    openai_responses => ProviderId::OpenAi, "o4-mini";
    anthropic => ProviderId::Anthropic, "claude-3-5-haiku-latest";
    gemini => ProviderId::Gemini, "gemini-2.0-flash";
    ollama => ProviderId::Ollama, "llama3.2";
    mistral => ProviderId::Mistral, "mistral-small-latest";
    openrouter => ProviderId::OpenRouter, "meta-llama/llama-3.1-8b-instruct";
    deepseek => ProviderId::DeepSeek, "deepseek-chat";
    xai => ProviderId::Xai, "grok-3-mini";
    groq => ProviderId::Groq, "llama-3.3-70b-versatile";
}

const OPENAI: Target = Target {
    provider: ProviderId::OpenAi,
    model: "gpt-4o-mini",
};

#[tokio::test]
async fn unknown_tools_and_handler_errors_are_fed_back() {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, OPENAI);
    let mut tb = Toolbox::new();
    tb.register("flaky", "Always fails", city_schema(), |_| async {
        Err("backend down".to_owned())
    })
    .unwrap();
    let mut req = task(OPENAI, "Call flaky, then ghost. [[chain]]");
    // `ghost` is offered to the model but has no handler.
    req.tools.push(crux_llm::Tool {
        name: "ghost".into(),
        description: None,
        parameters: city_schema(),
        strict: None,
    });
    let run = tools::run(&client, &req, &tb, 5).await.unwrap();
    assert_eq!(run.stop, LoopStop::Completed);
    let contents: Vec<(&str, bool)> = run
        .outputs
        .iter()
        .map(|o| (o.content.as_str(), o.is_error))
        .collect();
    assert_eq!(
        contents,
        [
            ("error: backend down", true),
            ("error: unknown tool 'ghost' (available: flaky)", true)
        ]
    );
    assert!(run.text().contains("error: unknown tool"), "{}", run.text());
}

#[tokio::test]
async fn max_iterations_stops_after_running_the_last_tools() {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, OPENAI);
    let run = tools::run(&client, &task(OPENAI, TASK), &toolbox(), 2)
        .await
        .unwrap();
    assert_eq!(run.stop, LoopStop::MaxIterations);
    assert_eq!(run.iterations, 2);
    assert_eq!(run.transcript.last().map(|m| m.role), Some(Role::Tool));
    assert_eq!(mock.requests().len(), 2);
    let err = tools::run(&client, &task(OPENAI, TASK), &toolbox(), 0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
}

#[tokio::test]
async fn model_errors_end_the_loop() {
    let mock = MockServer::start().await.unwrap();
    let client = client_for(&mock, OPENAI);
    let failing = task(OPENAI, "get_weather please [[mock status=400]]");
    let err = tools::run(&client, &failing, &toolbox(), 3)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    let items: Vec<_> = tools::run_stream(&client, &failing, &toolbox(), 3)
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap_err().code(), ErrorCode::Validation);
}
