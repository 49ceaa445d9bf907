//! The input guard on the request path: a cheap upper bound first (a token is at least one byte), exact counting
//! only when it can change the answer — on a blocking thread, at most two at a time, stopping once past the limit —
//! so a huge prompt costs bounded CPU and memory and never stalls the async workers. An input that does not fit is
//! refused, or pruned when the rule says so (oldest-first, sliding-window, or summarize — see [`super::summary`]).

use super::{Route, Router};
use crate::context::{self, ContextStrategy, GuardAction, GuardRule, PruneStrategy, tokens};
use crate::error::Error;
use crate::types::{ChatRequest, Part, ResponseFormat};

/// Tokens a request may hold beyond its caller's body bytes (reply priming, framing the body spells shorter).
const BODY_SLACK: u64 = 256;

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

/// Whether a request fits its target, as sent or after pruning.
pub(super) enum Fit {
    /// Send it as it is.
    Fits,
    /// Send this shortened request instead; `dropped` messages were removed (or summarized).
    Pruned {
        /// The request to send.
        req: Box<ChatRequest>,
        /// Messages removed from the conversation.
        dropped: usize,
    },
}

/// The rule's limits for `req`: the input cap and the window with the answer's reserve.
struct Caps {
    cap: u64,
    window: Option<u64>,
    reserve: u64,
}

impl Router {
    fn caps(&self, req: &ChatRequest, rule: &GuardRule) -> Option<Caps> {
        let window = rule.limit.or_else(|| {
            self.registry
                .read()
                .ok()
                .and_then(|r| r.context_limit(&req.model))
        });
        let reserve = req.max_tokens.map(u64::from).or(rule.reserve).unwrap_or(0);
        let cap = [
            window.map(|w| w.saturating_sub(reserve)),
            rule.max_input_tokens,
        ]
        .into_iter()
        .flatten()
        .min()?;
        Some(Caps {
            cap,
            window,
            reserve,
        })
    }

    /// Refuse `req` with [`Error::TooLarge`] when it cannot fit its target (context window — the registry's or the
    /// rule's `limit` — minus the answer's reserve, or a configured `max_input_tokens`), or prune it when the rule
    /// says so; the guard can be disabled per model, route or provider.
    ///
    /// `body_len` is the size of the caller's own JSON body when there is one: everything the request holds came
    /// from it (plus a little framing), so it bounds the tokens without serializing the tools on every request.
    pub(super) async fn fit(
        &self,
        req: &ChatRequest,
        route: &Route,
        body_len: Option<usize>,
    ) -> Result<Fit, Error> {
        let rule = self
            .guard
            .rule_for_route(route.alias.then_some(route.name.as_str()), &req.model);
        if rule.enabled == Some(false) {
            return Ok(Fit::Fits);
        }
        let Some(Caps {
            cap,
            window,
            reserve,
        }) = self.caps(req, &rule)
        else {
            return Ok(Fit::Fits);
        };
        let bound = match body_len {
            Some(n) => u64::try_from(n)
                .unwrap_or(u64::MAX)
                .saturating_add(BODY_SLACK),
            None => upper_bound(req),
        };
        if bound <= cap {
            return Ok(Fit::Fits);
        }
        let counted = self
            .blocking(req.clone(), move |r| count_capped(&r, cap))
            .await?;
        let too_large = |tokens, limit| Error::TooLarge {
            model: req.model.to_string(),
            tokens,
            limit,
        };
        let refusal = match (rule.max_input_tokens, window) {
            (Some(max), _) if counted > max => Some(too_large(counted, max)),
            (_, Some(w)) if counted + reserve > w => Some(too_large(counted + reserve, w)),
            _ => None,
        };
        let Some(refusal) = refusal else {
            return Ok(Fit::Fits);
        };
        if rule.action != Some(GuardAction::Prune) {
            return Err(refusal);
        }
        self.prune(req, &rule, cap).await.ok_or(refusal)
    }

    /// Run `f` on a blocking thread, at most two at a time (token counting is CPU and memory heavy).
    async fn blocking<T: Send + 'static>(
        &self,
        req: ChatRequest,
        f: impl FnOnce(ChatRequest) -> T + Send + 'static,
    ) -> Result<T, Error> {
        let permit = self
            .counting
            .acquire()
            .await
            .map_err(|_| Error::Cancelled)?;
        let out = tokio::task::spawn_blocking(move || f(req))
            .await
            .map_err(|e| Error::Config(format!("token counting failed: {e}")));
        drop(permit);
        out
    }

    /// Shorten `req` to fit `cap` with the rule's strategy; `None` when even the kept core does not fit.
    async fn prune(&self, req: &ChatRequest, rule: &GuardRule, cap: u64) -> Option<Fit> {
        let strategy = match rule.strategy.unwrap_or(ContextStrategy::OldestFirst) {
            ContextStrategy::SlidingWindow => PruneStrategy::SlidingWindow {
                keep_last: rule.keep_last.unwrap_or(20),
            },
            ContextStrategy::OldestFirst | ContextStrategy::Summarize => PruneStrategy::OldestFirst,
        };
        let budget = cap.saturating_sub(context::overhead_tokens(req));
        let pruned = self
            .blocking(req.clone(), move |r| {
                context::prune(&r.model, &r.messages, budget, strategy)
            })
            .await
            .ok()?;
        if !pruned.fits {
            return None;
        }
        let mut out = req.clone();
        if rule.strategy == Some(ContextStrategy::Summarize)
            && let Some(name) = &rule.summarizer
            && let Some(messages) = self.summarized(req, &pruned.messages, name).await
        {
            out.messages = messages;
        } else {
            out.messages = pruned.messages;
        }
        // The marked prefixes no longer exist as sent.
        out.cache.clear();
        Some(Fit::Pruned {
            req: Box::new(out),
            dropped: pruned.dropped,
        })
    }
}
