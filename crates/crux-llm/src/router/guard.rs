//! The input guard on the request path: a cheap upper bound first (a token is at least one byte) and a cheap lower
//! bound (a token is at most the tokenizer's longest), exact counting only when it can change the answer — on a
//! blocking thread, at most two at a time, stopping once past the limit, on the request itself rather than a copy —
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

/// Fewest input tokens `req`'s messages can hold: each text at the tokenizer's longest token, plus the framing.
fn lower_bound(req: &ChatRequest) -> u64 {
    let tk = tokens::Tokenizer::for_model(&req.model.model);
    let text = |m: &crate::types::Message| -> u64 {
        m.content
            .iter()
            .map(|p| match p {
                Part::Text { text } | Part::Reasoning { text, .. } | Part::Refusal { text } => {
                    tk.min_tokens(text.len())
                }
                Part::Image { .. } => 0,
            })
            .sum()
    };
    tokens::REPLY_PRIMING
        + req
            .messages
            .iter()
            .map(|m| tokens::MESSAGE_OVERHEAD + text(m))
            .sum::<u64>()
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
    /// Counting is needed only between the two cheap bounds: an input whose fewest possible tokens (its text at the
    /// tokenizer's longest token, [`tokens::Tokenizer::min_tokens`]) are already past the cap is refused at once.
    /// `req` is lent to the blocking thread that counts (never copied) and is back in place when this returns.
    pub(super) async fn fit(
        &self,
        req: &mut ChatRequest,
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
        let floor = lower_bound(req);
        let counted = if floor > cap {
            floor
        } else {
            self.blocking(req, move |r| count_capped(r, cap)).await?
        };
        let model = req.model.to_string();
        let too_large = |tokens, limit| Error::TooLarge {
            model: model.clone(),
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

    /// Run `f` on `req` on a blocking thread, at most two at a time (token counting is CPU and memory heavy). The
    /// request is moved there and back rather than copied; only if the runtime is shutting down is it lost, and
    /// the call then ends as [`Error::Cancelled`] (which no fallback retries).
    async fn blocking<T: Send + 'static>(
        &self,
        req: &mut ChatRequest,
        f: impl FnOnce(&ChatRequest) -> T + Send + 'static,
    ) -> Result<T, Error> {
        let permit = self
            .counting
            .acquire()
            .await
            .map_err(|_| Error::Cancelled)?;
        let lent = std::mem::replace(req, ChatRequest::unrouted(Vec::new()));
        let joined = tokio::task::spawn_blocking(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&lent)));
            (lent, out)
        })
        .await;
        drop(permit);
        let (lent, out) = joined.map_err(|_| Error::Cancelled)?;
        *req = lent;
        out.map_err(|_| Error::Config("token counting failed".into()))
    }

    /// Shorten `req` to fit `cap` with the rule's strategy; `None` when even the kept core does not fit.
    async fn prune(&self, req: &mut ChatRequest, rule: &GuardRule, cap: u64) -> Option<Fit> {
        let strategy = match rule.strategy.unwrap_or(ContextStrategy::OldestFirst) {
            ContextStrategy::SlidingWindow => PruneStrategy::SlidingWindow {
                keep_last: rule.keep_last.unwrap_or(20),
            },
            ContextStrategy::OldestFirst | ContextStrategy::Summarize => PruneStrategy::OldestFirst,
        };
        let budget = cap.saturating_sub(context::overhead_tokens(req));
        let pruned = self
            .blocking(req, move |r| {
                context::prune(&r.model, &r.messages, budget, strategy)
            })
            .await
            .ok()?;
        if !pruned.fits {
            return None;
        }
        let mut messages = pruned.messages;
        if rule.strategy == Some(ContextStrategy::Summarize)
            && let Some(name) = &rule.summarizer
            && let Some(summarized) = self.summarized(req, &messages, name).await
        {
            messages = summarized;
        }
        // The shortened request: everything but the messages copied, the kept messages moved in.
        let original = std::mem::take(&mut req.messages);
        let mut out = req.clone();
        req.messages = original;
        out.messages = messages;
        // The marked prefixes no longer exist as sent.
        out.cache.clear();
        Some(Fit::Pruned {
            req: Box::new(out),
            dropped: pruned.dropped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;
    use crate::router::RouterConfig;
    use crate::types::Message;

    fn text_of(req: &ChatRequest) -> &str {
        match &req.messages[0].content[0] {
            Part::Text { text } => text,
            _ => "",
        }
    }

    #[tokio::test]
    async fn the_floor_refuses_at_once_and_counting_lends_the_request_back() {
        let r = Router::new(Client::builder().build().unwrap(), RouterConfig::default());
        let route = r.resolve("openai/gpt-4o-mini", None).unwrap();
        let target = route.targets[0].clone();
        // 27 MB: at 128 bytes a token still over 200k tokens, past the 128k window without counting. A count
        // stops just past the cap, so a reported figure this high is the floor's.
        let huge = "lorem ipsum dolor sit amet ".repeat(1_000_000);
        let mut req = ChatRequest::new(target.clone(), vec![Message::user(huge.clone())]);
        let Err(Error::TooLarge { tokens, .. }) = r.fit(&mut req, &route, None).await else {
            panic!("refused");
        };
        assert!(tokens > 200_000, "{tokens}");
        assert_eq!(text_of(&req).len(), huge.len());
        // 1 MB: under the floor's reach, so it is counted (on a blocking thread) — and refused, request intact.
        let big = "lorem ipsum dolor sit amet ".repeat(40_000);
        let mut req = ChatRequest::new(target.clone(), vec![Message::user(big.clone())]);
        let Err(Error::TooLarge { tokens, limit, .. }) = r.fit(&mut req, &route, None).await else {
            panic!("refused");
        };
        assert!(tokens > limit && tokens < 200_000, "{tokens} / {limit}");
        assert_eq!(text_of(&req), big, "the lent request is back in place");
        assert_eq!(req.model, target);
        let mut small = ChatRequest::new(target, vec![Message::user("hi")]);
        assert!(matches!(
            r.fit(&mut small, &route, None).await,
            Ok(Fit::Fits)
        ));
    }
}
