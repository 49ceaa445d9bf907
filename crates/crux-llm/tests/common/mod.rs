//! Shared helpers for client tests against `crux-mock`: per-provider clients, requests, stream collection.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crux_llm::providers::AuthStyle;
use crux_llm::{
    ChatRequest, ChatStream, Client, Error, FinishReason, Message, ModelId, ProviderConfig,
    ProviderId, RetryPolicy, StreamEvent, StreamMetrics, Timeouts, Usage, Wire,
};
use crux_mock::{MockServer, RecordedRequest};
use futures_util::StreamExt;

/// The API key tests send.
pub const KEY: &str = "test-key-123";

/// One conformance target: a provider and a model on it (OpenAI appears twice: Chat Completions and Responses).
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub provider: ProviderId,
    pub model: &'static str,
}

impl Target {
    pub fn model_id(&self) -> ModelId {
        ModelId::new(self.provider, self.model)
    }

    pub fn wire(&self) -> Wire {
        crux_llm::wire::wire_for(&self.model_id())
    }

    /// The key this provider is given: [`KEY`], or for SigV4 an access key id with the secret the mock verifies.
    pub fn key(&self) -> String {
        match self.provider.spec().auth {
            AuthStyle::SigV4 => format!("{KEY}:{}", crux_mock::AWS_SECRET_ACCESS_KEY),
            _ => KEY.to_owned(),
        }
    }

    /// Base URL of the mock as this provider's env variable would spell it.
    pub fn base_url(&self, mock: &MockServer) -> String {
        match self.provider.spec().wire {
            // Azure: the resource's host root; the deployment path follows.
            Wire::OpenAi if self.provider.spec().api_version.is_some() => mock.url(),
            Wire::OpenAi | Wire::Responses => format!("{}/v1", mock.url()),
            Wire::Anthropic | Wire::Gemini | Wire::Ollama | Wire::Bedrock => mock.url(),
        }
    }

    /// Whether the provider took the key the way its API expects (and never in the URL).
    pub fn assert_auth(&self, r: &RecordedRequest) {
        match self.provider.spec().auth {
            AuthStyle::Bearer => assert_eq!(
                r.header("authorization"),
                Some(format!("Bearer {KEY}").as_str())
            ),
            AuthStyle::XApiKey => {
                assert_eq!(r.header("x-api-key"), Some(KEY));
                assert!(r.header("anthropic-version").is_some());
            }
            AuthStyle::GoogApiKey => assert_eq!(r.header("x-goog-api-key"), Some(KEY)),
            AuthStyle::ApiKey => {
                assert_eq!(r.header("api-key"), Some(KEY));
                assert!(r.header("authorization").is_none());
            }
            // SigV4: the mock verifies the signature itself; here only its shape and that no key travels bare.
            AuthStyle::SigV4 => {
                let auth = r.header("authorization").unwrap_or_default();
                assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential="), "{auth}");
                assert!(auth.contains("/bedrock/aws4_request"), "{auth}");
                assert!(r.header("x-amz-date").is_some());
                assert!(!auth.contains(crux_mock::AWS_SECRET_ACCESS_KEY));
            }
            AuthStyle::None => {}
        }
        assert!(
            !r.query.as_deref().unwrap_or("").contains(KEY),
            "key leaked into the URL"
        );
        assert!(!r.path.contains(KEY), "key leaked into the URL");
    }
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

/// A client whose target provider points at the mock.
pub fn client_for(mock: &MockServer, t: Target) -> Client {
    Client::builder()
        .provider(
            t.provider,
            ProviderConfig {
                base_url: Some(t.base_url(mock)),
                api_key: Some(t.key().into()),
                ..Default::default()
            },
        )
        .timeouts(test_timeouts())
        .retry(test_retry())
        .build()
        .unwrap()
}

/// A one-message request.
pub fn ask(t: Target, text: &str) -> ChatRequest {
    ChatRequest::new(t.model_id(), vec![Message::user(text)])
}

/// `text` as it appears inside a JSON string (so byte-exact transport can be checked in any wire's body).
pub fn json_escaped(text: &str) -> String {
    let s = serde_json::to_string(text).unwrap();
    s[1..s.len() - 1].to_owned()
}

/// Whether a recorded body carries `text` byte for byte.
pub fn body_has(r: &RecordedRequest, text: &str) -> bool {
    serde_json::to_string(&r.body)
        .unwrap()
        .contains(&json_escaped(text))
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
