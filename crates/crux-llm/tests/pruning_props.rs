//! Property test of context pruning: for random conversations (system messages, user/assistant turns, assistant
//! tool calls with 1–3 results) and random budgets, the result fits or is exactly the unprunable core (which the
//! input guard then rejects), keeps every system message, and never separates a tool call from its results.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use crux_llm::context::{self, GuardConfig, PruneStrategy, prune};
use crux_llm::registry::Registry;
use crux_llm::{ChatRequest, ErrorCode, Message, ModelId, ProviderId, Role, ToolCall};
use proptest::prelude::*;

/// One generated conversation step.
#[derive(Debug, Clone)]
enum Step {
    System(String),
    User(String),
    Assistant(String),
    /// An assistant tool-call turn with this many results.
    Tools(Vec<String>),
}

fn text() -> impl Strategy<Value = String> {
    "[a-z ]{0,60}"
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => text().prop_map(Step::System),
        3 => text().prop_map(Step::User),
        3 => text().prop_map(Step::Assistant),
        2 => prop::collection::vec(text(), 1..=3).prop_map(Step::Tools),
    ]
}

fn conversation(steps: &[Step]) -> Vec<Message> {
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::System(t) => out.push(Message::system(t.clone())),
            Step::User(t) => out.push(Message::user(t.clone())),
            Step::Assistant(t) => out.push(Message::assistant(t.clone())),
            Step::Tools(results) => {
                let calls: Vec<ToolCall> = (0..results.len())
                    .map(|k| ToolCall::new(format!("c{i}_{k}"), "lookup", "{\"q\":1}"))
                    .collect();
                out.push(Message {
                    tool_calls: calls.clone(),
                    ..Message::assistant("")
                });
                for (call, r) in calls.iter().zip(results) {
                    out.push(Message::tool_result(call.id.clone(), r.clone()));
                }
            }
        }
    }
    out
}

fn is_system(m: &Message) -> bool {
    matches!(m.role, Role::System | Role::Developer)
}

/// System messages plus the newest non-system unit: what pruning may never drop.
fn core(messages: &[Message]) -> Vec<Message> {
    let mut start = messages.iter().rposition(|m| !is_system(m)).unwrap_or(0);
    while start > 0 && messages[start].role == Role::Tool {
        start -= 1;
    }
    messages
        .iter()
        .enumerate()
        .filter(|(i, m)| is_system(m) || *i >= start)
        .map(|(_, m)| m.clone())
        .collect()
}

fn check_pairs(messages: &[Message]) -> Result<(), TestCaseError> {
    for (i, m) in messages.iter().enumerate() {
        if !m.tool_calls.is_empty() {
            let results: Vec<Option<&str>> = messages[i + 1..]
                .iter()
                .take_while(|r| r.role == Role::Tool)
                .map(|r| r.tool_call_id.as_deref())
                .collect();
            let ids: Vec<Option<&str>> = m.tool_calls.iter().map(|c| Some(c.id.as_str())).collect();
            prop_assert_eq!(results, ids, "a call lost its results");
        }
        if m.role == Role::Tool {
            let owner = messages[..i].iter().rev().find(|p| p.role != Role::Tool);
            let id = m.tool_call_id.as_deref().unwrap_or_default();
            prop_assert!(
                owner.is_some_and(|o| o.tool_calls.iter().any(|c| c.id == id)),
                "a result lost its call"
            );
        }
    }
    Ok(())
}

fn model(openai: bool) -> ModelId {
    if openai {
        ModelId::new(ProviderId::OpenAi, "gpt-4o")
    } else {
        ModelId::new(ProviderId::Anthropic, "claude-3-5-haiku-latest")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pruned_conversations_fit_keep_system_and_tool_pairs(
        steps in prop::collection::vec(step(), 1..24),
        budget in 0u64..400,
        window in prop::option::of(0usize..12),
        openai in any::<bool>(),
    ) {
        let model = model(openai);
        let messages = conversation(&steps);
        let strategy = window.map_or(PruneStrategy::OldestFirst, |keep_last| PruneStrategy::SlidingWindow { keep_last });
        let p = prune(&model, &messages, budget, strategy);

        prop_assert_eq!(p.tokens, context::count_tokens(&model, &p.messages));
        prop_assert_eq!(p.dropped + p.messages.len(), messages.len());
        let systems = |ms: &[Message]| ms.iter().filter(|m| is_system(m)).cloned().collect::<Vec<_>>();
        prop_assert_eq!(systems(&p.messages), systems(&messages));
        prop_assert_eq!(p.messages.last(), messages.last());
        check_pairs(&p.messages)?;
        if p.fits {
            prop_assert!(p.tokens <= budget);
        } else {
            prop_assert_eq!(&p.messages, &core(&messages));
            prop_assert!(p.tokens > budget);
        }
        if window.is_none() && context::count_tokens(&model, &messages) <= budget {
            prop_assert_eq!(&p.messages, &messages, "a fitting conversation is left alone");
        }
    }

    #[test]
    fn an_unprunable_core_fails_the_guard(
        steps in prop::collection::vec(step(), 1..16),
        // Mostly near gpt-4o's 128k window, where only part of the conversation fits.
        reserve in prop_oneof![1 => 0u32..200_000, 3 => 127_000u32..128_000],
    ) {
        let reg = Registry::new();
        let mut req = ChatRequest::new(model(true), conversation(&steps));
        req.max_tokens = Some(reserve);
        let Some(p) = context::prune_request(&req, &reg, PruneStrategy::OldestFirst) else {
            return Err(TestCaseError::fail("gpt-4o has a known limit"));
        };
        req.messages = p.messages;
        let checked = context::check_input(&req, &reg, &GuardConfig::default());
        if p.fits {
            prop_assert!(checked.is_ok(), "{:?}", checked);
        } else {
            prop_assert_eq!(checked.unwrap_err().code(), ErrorCode::TooLarge);
        }
    }
}
