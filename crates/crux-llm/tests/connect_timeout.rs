//! A provider's configured connect timeout reaches its connection (reqwest sets it per pool, so such a provider gets
//! a pool of its own): against a listener whose accept queue is full, the call fails in the connect phase, before the
//! shorter-than-default first-byte timeout could fire.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crux_llm::error::TimeoutPhase;
use crux_llm::{
    ChatRequest, Client, Error, Message, ModelId, ProviderConfig, ProviderId, RetryPolicy, Timeouts,
};

#[tokio::test]
async fn a_configured_connect_timeout_is_applied() {
    // Backlog 0: once the queue holds a connection nobody accepts, further SYNs are dropped and connects hang.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    let client = Client::builder()
        .provider(
            ProviderId::OpenAi,
            ProviderConfig {
                base_url: Some(format!("http://{addr}/v1")),
                api_key: Some("k".into()),
                timeouts: Some(Timeouts {
                    connect: Duration::from_millis(300),
                    first_byte: Duration::from_secs(3),
                    idle: Duration::from_secs(3),
                    total: Duration::from_secs(10),
                }),
                ..Default::default()
            },
        )
        .retry(RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let req = ChatRequest::new(
        ModelId::new(ProviderId::OpenAi, "gpt-4o-mini"),
        vec![Message::user("hi")],
    );
    let err = client.chat(&req).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: TimeoutPhase::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    drop(fillers);
}
