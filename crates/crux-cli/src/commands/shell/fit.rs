//! Keeping the shell's own conversation inside the model's context window, by default: before a turn that would not
//! fit (input + the answer's reserve > the window), the library's pruning drops the oldest turns — oldest-first, or
//! `sliding-window` when `[guard]` names it (`summarize` needs a summarizer call, so the shell prunes oldest-first
//! instead) — keeping the system prompt and never splitting a tool call from its results. `[guard] enabled = false`
//! turns it off; `limit`, `reserve` and `max_input_tokens` are honoured as the gateway honours them.

use crux_llm::context::{self, ContextStrategy, PruneStrategy, tokens};
use crux_llm::{Message, Role};

use super::session::Session;

/// Messages `sliding-window` keeps when `[guard]` sets no `keep_last` (the library's default).
const DEFAULT_KEEP_LAST: usize = 20;

/// What pruning did before a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fitted {
    /// Messages dropped from the conversation.
    pub dropped: usize,
    /// The token budget the conversation was fitted to.
    pub budget: u64,
}

/// The answer's reserve when neither `--max-tokens` nor `[guard] reserve` sets one: the model's largest output,
/// at most a quarter of the window.
fn default_reserve(window: u64, max_output: Option<u64>) -> u64 {
    max_output.unwrap_or(u64::MAX).min(window / 4)
}

impl Session {
    /// Prune the conversation so the next turn with `text` fits the current model; `None` when nothing was dropped.
    pub fn fit(&mut self, text: &str) -> Option<Fitted> {
        let target = self.route.targets.first()?.clone();
        let alias = self.route.alias.then_some(self.route.name.as_str());
        let rule = self.router.guard().rule_for_route(alias, &target);
        if rule.enabled == Some(false) {
            return None;
        }
        let (window, max_output) = {
            let registry = self.router.registry().read().ok()?;
            (
                rule.limit.or_else(|| registry.context_limit(&target)),
                registry.max_output(&target),
            )
        };
        let window = window?;
        let reserve = self
            .options
            .max_tokens
            .map(u64::from)
            .or(rule.reserve)
            .unwrap_or_else(|| default_reserve(window, max_output));
        let mut budget = window.saturating_sub(reserve);
        if let Some(max) = rule.max_input_tokens {
            budget = budget.min(max);
        }
        let mut req = self.request(text);
        req.model = target.clone();
        let budget = budget.saturating_sub(context::overhead_tokens(&req));
        if context::count_tokens(&target, &req.messages) <= budget {
            return None;
        }
        let strategy = match rule.strategy {
            Some(ContextStrategy::SlidingWindow) => PruneStrategy::SlidingWindow {
                keep_last: rule.keep_last.unwrap_or(DEFAULT_KEEP_LAST),
            },
            _ => PruneStrategy::OldestFirst,
        };
        let pruned = context::prune(&target, &req.messages, budget, strategy);
        if pruned.dropped == 0 {
            return None;
        }
        let assistants = |m: &[Message]| m.iter().filter(|m| m.role == Role::Assistant).count();
        let before = assistants(&self.messages);
        let mut kept: Vec<Message> = pruned
            .messages
            .into_iter()
            .filter(|m| !matches!(m.role, Role::System | Role::Developer))
            .collect();
        // The newest message is this turn's text, which `record` adds once the turn is answered.
        kept.pop();
        let gone = before.saturating_sub(assistants(&kept));
        self.served_by.drain(..gone.min(self.served_by.len()));
        self.messages = kept;
        Some(Fitted {
            dropped: pruned.dropped,
            budget: budget.max(tokens::REPLY_PRIMING),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crux_llm::context::{GuardConfig, GuardRule};
    use crux_llm::{ModelId, Router, RouterConfig, Usage};

    use super::*;

    fn session(rule: GuardRule) -> Session {
        let client = crux_llm::Client::builder().build().unwrap();
        let config = RouterConfig {
            guard: GuardConfig {
                default: rule,
                ..GuardConfig::default()
            },
            ..RouterConfig::default()
        };
        Session::new(
            Router::new(client, config),
            "openai/gpt-4o-mini",
            BTreeMap::new(),
        )
        .unwrap()
    }

    fn chat(s: &mut Session, turns: usize) {
        let target: ModelId = "openai/gpt-4o-mini".parse().unwrap();
        for i in 0..turns {
            let text = format!("question {i} {}", "word ".repeat(20));
            s.record(
                &text,
                Message::assistant(format!("answer {i} {}", "word ".repeat(20))),
                target.clone(),
                Usage::default(),
            );
        }
    }

    #[test]
    fn prunes_oldest_turns_keeping_the_system_prompt() {
        let mut s = session(GuardRule {
            limit: Some(200),
            reserve: Some(20),
            ..GuardRule::default()
        });
        s.options.system = Some("be brief".into());
        chat(&mut s, 6);
        let fitted = s.fit("next question").unwrap();
        assert!(
            fitted.dropped >= 2 && fitted.dropped.is_multiple_of(2),
            "{fitted:?}"
        );
        assert_eq!(s.messages.len(), 12 - fitted.dropped);
        assert_eq!(s.messages[0].role, Role::User, "starts with a user turn");
        assert_eq!(s.served_by.len(), s.messages.len() / 2);
        let req = s.request("next question");
        assert_eq!(req.messages[0].text_content(), "be brief");
        let target: ModelId = "openai/gpt-4o-mini".parse().unwrap();
        assert!(context::count_tokens(&target, &req.messages) <= 180);
        assert_eq!(s.fit("next question"), None, "it fits now");
    }

    #[test]
    fn disabled_guard_or_a_fitting_conversation_keeps_everything() {
        let mut s = session(GuardRule {
            enabled: Some(false),
            limit: Some(50),
            ..GuardRule::default()
        });
        chat(&mut s, 4);
        assert_eq!(s.fit("more"), None);
        let mut s = session(GuardRule::default());
        chat(&mut s, 4);
        assert_eq!(s.fit("more"), None, "128k tokens is plenty");
        assert_eq!(s.messages.len(), 8);
    }
}
