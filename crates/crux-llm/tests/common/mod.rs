//! Shared helpers for client tests against `crux-mock`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crux_llm::{
    ChatRequest, ChatStream, Client, Error, FinishReason, Message, ModelId, ProviderConfig,
    ProviderId, RetryPolicy, StreamEvent, StreamMetrics, Timeouts, Usage,
};
use crux_mock::MockServer;
use futures_util::StreamExt;

/// A default model name per provider (any name works against the mock).
pub fn model(p: ProviderId) -> ModelId {
    let m = match p {
        ProviderId::OpenAi => "gpt-4o-mini",
        ProviderId::OpenRouter => "meta-llama/llama-3.1-8b-instruct",
        ProviderId::DeepSeek => "deepseek-chat",
        ProviderId::Xai => "grok-3-mini",
        ProviderId::Groq => "llama-3.3-70b-versatile",
        ProviderId::Mistral => "mistral-small-latest",
        ProviderId::Anthropic => "claude-3-5-haiku-latest",
        ProviderId::Gemini => "gemini-2.0-flash",
        ProviderId::Ollama => "llama3.2",
    };
    ModelId::new(p, m)
}

/// Timeouts short enough that stall tests finish quickly.
pub fn test_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        first_byte: Duration::from_secs(5),
        idle: Duration::from_millis(400),
        total: Duration::from_secs(20),
    }
}

/// Retries with tiny backoff so fault tests are fast.
pub fn test_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
    }
}

/// A client whose `provider` points at the mock.
pub fn client_for(mock: &MockServer, p: ProviderId) -> Client {
    Client::builder()
        .provider(
            p,
            ProviderConfig {
                base_url: Some(format!("{}/v1", mock.url())),
                api_key: Some("test-key-123".into()),
                ..Default::default()
            },
        )
        .timeouts(test_timeouts())
        .retry(test_retry())
        .build()
        .unwrap()
}

/// A one-message request.
pub fn ask(p: ProviderId, text: &str) -> ChatRequest {
    ChatRequest::new(model(p), vec![Message::user(text)])
}

/// Everything a stream produced, checked against the stream contract.
#[derive(Debug)]
pub struct Collected {
    pub events: Vec<StreamEvent>,
    pub terminal: Result<(FinishReason, StreamMetrics), Error>,
}

impl Collected {
    pub fn text(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::TextDelta { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn usage(&self) -> Option<Usage> {
        self.events.iter().rev().find_map(|e| match e {
            StreamEvent::Usage(u) => Some(*u),
            _ => None,
        })
    }

    pub fn content_count(&self) -> u64 {
        self.events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    StreamEvent::TextDelta { .. }
                        | StreamEvent::ReasoningDelta { .. }
                        | StreamEvent::ToolCallDelta { .. }
                )
            })
            .count() as u64
    }

    pub fn error(&self) -> &Error {
        self.terminal
            .as_ref()
            .expect_err("stream should have failed")
    }
}

/// Drain a stream, asserting the contract: exactly one terminal item, last, with coherent metrics.
pub async fn collect(mut stream: ChatStream) -> Collected {
    let mut events = Vec::new();
    let mut terminal = None;
    while let Some(item) = stream.next().await {
        assert!(
            terminal.is_none(),
            "an item arrived after the terminal item: {item:?}"
        );
        match item {
            Ok(StreamEvent::Finish { reason, metrics }) => terminal = Some(Ok((reason, metrics))),
            Ok(ev) => events.push(ev),
            Err(e) => {
                assert!(
                    e.metrics().is_some(),
                    "terminal error without metrics: {e:?}"
                );
                terminal = Some(Err(e));
            }
        }
    }
    let terminal = terminal.expect("stream ended without a terminal item");
    let c = Collected { events, terminal };
    let metrics = match &c.terminal {
        Ok((_, m)) => *m,
        Err(e) => *e.metrics().unwrap(),
    };
    assert_eq!(
        metrics.emitted,
        c.content_count(),
        "emitted must count content items"
    );
    match metrics.time_to_first_token_ms {
        None => assert_eq!(
            metrics.emitted, 0,
            "ttft missing although content was emitted"
        ),
        Some(ttft) => {
            assert!(metrics.emitted > 0, "ttft set although nothing was emitted");
            assert!(ttft <= metrics.total_duration_ms, "ttft > total");
        }
    }
    if let Some(first) = c.events.first() {
        assert!(
            matches!(first, StreamEvent::Start { .. }),
            "first item must be Start, got {first:?}"
        );
    }
    c
}
