//! Context pruning: drop the oldest conversation units until the messages fit a token budget.
//!
//! A *unit* is what may be dropped at once: an assistant message that calls tools together with the tool results
//! that follow it (so a call is never separated from its results), or any other single message. System and
//! developer messages are *pinned* and always kept, in place. The newest unit is never dropped either, so the
//! request still asks something; pinned messages plus that unit form the *core*. When the core alone does not fit,
//! pruning returns the core with `fits: false` and the input guard rejects the request.
//!
//! After anything was dropped, leading units that do not start with a user message are dropped too, so the kept
//! conversation starts with a user turn as the Anthropic and Gemini APIs expect.

use std::ops::Range;

use super::tokens::{REPLY_PRIMING, Tokenizer, message_tokens};
use crate::model_id::ModelId;
use crate::types::{Message, Role};

/// How to shrink a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneStrategy {
    /// Keep everything while it fits; otherwise drop the oldest units until it does.
    OldestFirst,
    /// Keep at most the last `keep_last` non-system messages (whole units only; the newest unit always stays),
    /// then drop further oldest units if that still does not fit.
    SlidingWindow {
        /// How many non-system messages to keep at most.
        keep_last: usize,
    },
}

/// The result of pruning.
#[derive(Debug, Clone, PartialEq)]
pub struct Pruned {
    /// The kept messages, in their original order.
    pub messages: Vec<Message>,
    /// How many messages were dropped.
    pub dropped: usize,
    /// Tokens of the kept messages, reply priming included.
    pub tokens: u64,
    /// Whether `tokens` is within the budget (false only when the core alone is too large).
    pub fits: bool,
}

/// A droppable unit: its message range and whether it opens with a user message.
#[derive(Debug, Clone)]
struct Unit {
    range: Range<usize>,
    tokens: u64,
    starts_with_user: bool,
}

fn is_pinned(m: &Message) -> bool {
    matches!(m.role, Role::System | Role::Developer)
}

/// Split into droppable units (in order); pinned messages are left out.
fn units(messages: &[Message], costs: &[u64]) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < messages.len() {
        let m = &messages[i];
        let mut end = i + 1;
        if is_pinned(m) {
            i = end;
            continue;
        }
        if m.role == Role::Assistant && !m.tool_calls.is_empty() {
            while end < messages.len() && messages[end].role == Role::Tool {
                end += 1;
            }
        }
        out.push(Unit {
            range: i..end,
            tokens: costs[i..end].iter().sum(),
            starts_with_user: m.role == Role::User,
        });
        i = end;
    }
    out
}

/// What is kept while pruning: the first `cut` units are dropped.
struct Window {
    tokens: u64,
    kept_messages: usize,
    cut: usize,
}

impl Window {
    fn drop_next(&mut self, units: &[Unit]) {
        let u = &units[self.cut];
        self.tokens -= u.tokens;
        self.kept_messages -= u.range.len();
        self.cut += 1;
    }
}

/// Prune `messages` for `model` to at most `budget` tokens (reply priming included) with `strategy`.
pub fn prune(
    model: &ModelId,
    messages: &[Message],
    budget: u64,
    strategy: PruneStrategy,
) -> Pruned {
    let tk = Tokenizer::for_model(&model.model);
    let costs: Vec<u64> = messages.iter().map(|m| message_tokens(tk, m)).collect();
    let units = units(messages, &costs);
    // The newest unit is part of the core; only the ones before it may go.
    let droppable = units.len().saturating_sub(1);
    let mut w = Window {
        tokens: REPLY_PRIMING + costs.iter().sum::<u64>(),
        kept_messages: units.iter().map(|u| u.range.len()).sum(),
        cut: 0,
    };
    if let PruneStrategy::SlidingWindow { keep_last } = strategy {
        while w.cut < droppable && w.kept_messages > keep_last {
            w.drop_next(&units);
        }
    }
    while w.cut < droppable && w.tokens > budget {
        w.drop_next(&units);
    }
    if w.cut > 0 {
        while w.cut < droppable && !units[w.cut].starts_with_user {
            w.drop_next(&units);
        }
    }
    let (cut, tokens) = (w.cut, w.tokens);
    let dropped: Vec<&Range<usize>> = units[..cut].iter().map(|u| &u.range).collect();
    let kept: Vec<Message> = messages
        .iter()
        .enumerate()
        .filter(|(i, _)| !dropped.iter().any(|r| r.contains(i)))
        .map(|(_, m)| m.clone())
        .collect();
    Pruned {
        dropped: messages.len() - kept.len(),
        messages: kept,
        tokens,
        fits: tokens <= budget,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ProviderId;
    use crate::types::ToolCall;

    fn model() -> ModelId {
        ModelId::new(ProviderId::Ollama, "llama3.2")
    }

    fn call(id: &str) -> Message {
        Message {
            tool_calls: vec![ToolCall::new(id, "f", "{}")],
            ..Message::assistant("")
        }
    }

    fn conversation() -> Vec<Message> {
        vec![
            Message::system("be brief"),
            Message::user("first question with some words in it"),
            Message::assistant("first answer with some words in it"),
            Message::user("second question"),
            call("c1"),
            Message::tool_result("c1", "result one"),
            Message::assistant("second answer"),
            Message::user("third question"),
        ]
    }

    fn roles(p: &Pruned) -> Vec<Role> {
        p.messages.iter().map(|m| m.role).collect()
    }

    #[test]
    fn fitting_conversation_is_unchanged() {
        let msgs = conversation();
        let p = prune(&model(), &msgs, u64::MAX, PruneStrategy::OldestFirst);
        assert_eq!((p.messages.len(), p.dropped, p.fits), (msgs.len(), 0, true));
        assert_eq!(p.tokens, super::super::count_tokens(&model(), &msgs));
    }

    #[test]
    fn oldest_first_drops_whole_turns_and_keeps_system() {
        let msgs = conversation();
        let full = prune(&model(), &msgs, u64::MAX, PruneStrategy::OldestFirst).tokens;
        let p = prune(&model(), &msgs, full - 1, PruneStrategy::OldestFirst);
        // Dropping the first user message leaves an assistant first, so it goes too.
        assert_eq!(
            roles(&p),
            vec![
                Role::System,
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::Assistant,
                Role::User
            ]
        );
        assert!(p.fits);
        let core = prune(&model(), &msgs, 0, PruneStrategy::OldestFirst);
        assert_eq!(roles(&core), vec![Role::System, Role::User]);
        assert!(!core.fits);
    }

    #[test]
    fn sliding_window_never_splits_a_tool_group() {
        let msgs = conversation();
        let p = prune(
            &model(),
            &msgs,
            u64::MAX,
            PruneStrategy::SlidingWindow { keep_last: 3 },
        );
        // The window of 3 would start at the tool result; its call group is dropped whole.
        assert_eq!(roles(&p), vec![Role::System, Role::User]);
        let p = prune(
            &model(),
            &msgs,
            u64::MAX,
            PruneStrategy::SlidingWindow { keep_last: 5 },
        );
        assert_eq!(
            roles(&p),
            vec![
                Role::System,
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::Assistant,
                Role::User
            ]
        );
    }

    #[test]
    fn newest_tool_group_is_the_core() {
        let msgs = vec![
            Message::user("go"),
            call("c9"),
            Message::tool_result("c9", "done"),
        ];
        let p = prune(
            &model(),
            &msgs,
            0,
            PruneStrategy::SlidingWindow { keep_last: 0 },
        );
        assert_eq!(roles(&p), vec![Role::Assistant, Role::Tool]);
    }
}
