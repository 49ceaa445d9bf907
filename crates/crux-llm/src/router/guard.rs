//! The input guard on the request path: a cheap upper bound first (a token is at least one byte), exact counting
//! only when it can change the answer — on a blocking thread, at most two at a time, stopping once past the limit —
//! so a huge prompt costs bounded CPU and memory and never stalls the async workers.

use super::Router;
use crate::context::{self, tokens};
use crate::error::Error;
use crate::types::{ChatRequest, Part, ResponseFormat};

/// Bytes of everything that becomes input tokens: never fewer than the tokens themselves.
fn upper_bound(req: &ChatRequest) -> u64 {
    let mut bytes: usize = req
        .messages
        .iter()
        .map(|m| {
            let parts: usize = m
                .content
                .iter()
                .map(|p| match p {
                    Part::Text { text } | Part::Reasoning { text, .. } | Part::Refusal { text } => {
                        text.len()
                    }
                    Part::Image { .. } => 4096,
                })
                .sum();
            let calls: usize = m
                .tool_calls
                .iter()
                .map(|c| c.name.len() + c.arguments.len() + 8)
                .sum();
            parts
                + calls
                + m.tool_call_id.as_ref().map_or(0, String::len)
                + m.name.as_ref().map_or(0, String::len)
                + 16
        })
        .sum();
    bytes += 16;
    if !req.tools.is_empty() {
        bytes += serde_json::to_string(&req.tools).map_or(usize::MAX / 2, |s| s.len());
    }
    if let ResponseFormat::JsonSchema { schema, .. } = &req.response_format {
        bytes += schema.to_string().len();
    }
    u64::try_from(bytes).unwrap_or(u64::MAX)
}

/// Input tokens of `req`, counting stopped once past `cap`.
fn count_capped(req: &ChatRequest, cap: u64) -> u64 {
    let tk = tokens::Tokenizer::for_model(&req.model.model);
    let mut n = tokens::REPLY_PRIMING + context::overhead_tokens(req);
    for m in &req.messages {
        if n > cap {
            break;
        }
        n += tokens::message_tokens_capped(tk, m, cap - n);
    }
    n
}

impl Router {
    /// Refuse `req` with [`Error::TooLarge`] when it cannot fit its target (context window minus `max_tokens`, or a
    /// configured `max_input_tokens`); the guard can be disabled per model or provider.
    pub(super) async fn check_input(&self, req: &ChatRequest) -> Result<(), Error> {
        let rule = self.guard.rule_for(&req.model);
        if rule.enabled == Some(false) {
            return Ok(());
        }
        let window = self
            .registry
            .read()
            .ok()
            .and_then(|r| r.context_limit(&req.model));
        let reserve = req.max_tokens.map_or(0, u64::from);
        let caps = [
            window.map(|w| w.saturating_sub(reserve)),
            rule.max_input_tokens,
        ];
        let Some(cap) = caps.into_iter().flatten().min() else {
            return Ok(());
        };
        if upper_bound(req) <= cap {
            return Ok(());
        }
        let permit = self
            .counting
            .acquire()
            .await
            .map_err(|_| Error::Cancelled)?;
        let owned = req.clone();
        let counted = tokio::task::spawn_blocking(move || count_capped(&owned, cap))
            .await
            .map_err(|e| Error::Config(format!("token counting failed: {e}")))?;
        drop(permit);
        let too_large = |tokens, limit| Error::TooLarge {
            model: req.model.to_string(),
            tokens,
            limit,
        };
        if let Some(max) = rule.max_input_tokens.filter(|max| counted > *max) {
            return Err(too_large(counted, max));
        }
        match window {
            Some(w) if counted + reserve > w => Err(too_large(counted + reserve, w)),
            _ => Ok(()),
        }
    }
}
