//! The input guard from config: disabled lets a long prompt through; `prune` shortens it with each strategy
//! (oldest-first, sliding-window, summarize — with a summarizer that fails, falling back to oldest-first), stream
//! and not, answering 200 with `x-crux-pruned` and the count in the chat log.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod harness;

use crux_gateway::GatewayConfig;
use crux_llm::ProviderId;
use crux_llm::context::{ContextStrategy, GuardAction, GuardRule};
use crux_store::LogFilter;
use harness::{JsonBody, Stored};
use serde_json::{Value, json};

/// The rule on the chat model only (the summarizer keeps its own window).
fn config(rule: GuardRule) -> GatewayConfig {
    let mut c = GatewayConfig::default();
    c.router
        .guard
        .models
        .insert("openai/gpt-4o-mini".into(), rule);
    c
}

/// A long conversation: 12 old turns of ~60 tokens each, then the question.
fn long_chat(stream: bool) -> Value {
    let mut messages = vec![json!({"role": "system", "content": "You are helpful."})];
    for i in 0..12 {
        let filler = format!("turn {i}: ") + &"lorem ipsum dolor sit amet ".repeat(12);
        messages.push(json!({"role": "user", "content": filler}));
        messages.push(json!({"role": "assistant", "content": format!("noted {i}")}));
    }
    messages.push(json!({"role": "user", "content": "the final question"}));
    json!({"model": "openai/gpt-4o-mini", "max_tokens": 50, "stream": stream, "messages": messages})
}

async fn send(s: &Stored, stream: bool) -> (u16, Option<String>, String) {
    let g = &s.gateway;
    let resp = g
        .http
        .post(g.url("/v1/chat/completions"))
        .bearer_auth("k")
        .json_body(&long_chat(stream))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let pruned = resp
        .headers()
        .get("x-crux-pruned")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, pruned, resp.text().await.unwrap())
}

fn prune(strategy: ContextStrategy) -> GuardRule {
    GuardRule {
        limit: Some(400),
        action: Some(GuardAction::Prune),
        strategy: Some(strategy),
        keep_last: Some(3),
        summarizer: Some("anthropic/claude-3-5-haiku-latest".into()),
        ..GuardRule::default()
    }
}

#[tokio::test]
async fn refuse_by_default_and_disabled_lets_it_through() {
    let refuse = Stored::start_config(
        config(GuardRule {
            limit: Some(400),
            ..GuardRule::default()
        }),
        &[],
        0,
    )
    .await;
    assert_eq!(send(&refuse, false).await.0, 413);
    let off = GuardRule {
        enabled: Some(false),
        limit: Some(400),
        ..GuardRule::default()
    };
    let open = Stored::start_config(config(off), &[], 0).await;
    let (status, pruned, _) = send(&open, false).await;
    assert_eq!((status, pruned), (200, None));
    assert_eq!(
        open.gateway.mock.requests()[0].body["messages"]
            .as_array()
            .unwrap()
            .len(),
        26
    );
}

#[tokio::test]
async fn oldest_first_and_sliding_window_prune_stream_and_not() {
    for strategy in [ContextStrategy::OldestFirst, ContextStrategy::SlidingWindow] {
        for stream in [false, true] {
            let mut s = Stored::start_config(config(prune(strategy)), &[], 0).await;
            let (status, pruned, text) = send(&s, stream).await;
            assert_eq!(status, 200, "{strategy:?} {stream}: {text}");
            let got = s
                .gateway
                .mock
                .requests()
                .pop()
                .map(|r| r.body["messages"].as_array().unwrap().len());
            let n: usize = pruned
                .unwrap_or_else(|| {
                    panic!("no x-crux-pruned: {strategy:?} {stream} sent {got:?} {text}")
                })
                .parse()
                .unwrap();
            assert!(n > 0);
            let sent = s.gateway.mock.requests().pop().unwrap();
            let msgs = sent.body["messages"].as_array().unwrap().clone();
            assert_eq!(msgs.len(), 26 - n, "{strategy:?}");
            assert_eq!(msgs[0]["role"], "system", "system messages are kept");
            assert_eq!(msgs.last().unwrap()["content"], "the final question");
            if strategy == ContextStrategy::SlidingWindow {
                assert!(
                    msgs.len() <= 4,
                    "keep_last 3 plus the system message: {msgs:?}"
                );
            }
            s.drain().await;
            let rows = s
                .store
                .query_chat_logs(&LogFilter::default())
                .await
                .unwrap();
            assert_eq!(rows[0].log.metadata.as_ref().unwrap()["pruned_messages"], n);
        }
    }
}

#[tokio::test]
async fn summarize_asks_the_summarizer_and_falls_back_when_it_fails() {
    let s = Stored::start_config(config(prune(ContextStrategy::Summarize)), &[], 0).await;
    let (status, pruned, _) = send(&s, false).await;
    assert_eq!(status, 200);
    assert!(pruned.is_some());
    let sent = s.gateway.mock.requests();
    assert!(
        sent.iter().any(|r| r.path == "/v1/messages"),
        "the summarizer was asked"
    );
    let last = sent.last().unwrap();
    let msgs = last.body["messages"].as_array().unwrap();
    assert!(
        msgs.iter().any(|m| m["content"]
            .as_str()
            .unwrap_or("")
            .starts_with("Summary of the earlier conversation")),
        "{msgs:?}"
    );
    // The same conversation again: the summary comes from the cache, the summarizer is not asked twice.
    let before = sent.iter().filter(|r| r.path == "/v1/messages").count();
    assert_eq!(send(&s, true).await.0, 200);
    let after = s
        .gateway
        .mock
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/messages")
        .count();
    assert_eq!(before, after);

    // A summarizer that cannot answer: oldest-first instead, still 200.
    let failing = Stored::start_config(
        config(prune(ContextStrategy::Summarize)),
        &[ProviderId::Anthropic],
        0,
    )
    .await;
    let (status, pruned, _) = send(&failing, false).await;
    assert_eq!(status, 200);
    assert!(pruned.is_some());
    let last = failing.gateway.mock.requests().pop().unwrap();
    assert!(
        !last
            .raw_body
            .contains("Summary of the earlier conversation")
    );
}
