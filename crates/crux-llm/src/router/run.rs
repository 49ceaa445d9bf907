//! Running one request over a route's targets: permit, breaker, guard, send, and for streams the peek to the first
//! content event (failures before it fall back; after it the stream is committed to its target).

use std::borrow::Cow;
use std::time::Instant;

use futures_util::StreamExt;

use super::adapt::{self, emulated};
use super::guard::Fit;
use super::{Attempt, CallOptions, Route, RouteFailure, Routed, Router};
use crate::breaker::Admission;
use crate::client::{ChatStream, RawFrames, RawRequest, RetryLog};
use crate::error::{Error, ErrorCode};
use crate::model_id::ModelId;
use crate::providers::{ProviderId, Wire};
use crate::types::{ChatRequest, ChatResponse, StreamEvent};

/// A stream that produced its first content (or finished) and is now committed to one target.
#[derive(Debug)]
pub struct Peeked {
    /// Events read while peeking, to deliver first.
    pub buffered: Vec<Result<StreamEvent, Error>>,
    /// The rest of the stream.
    pub stream: ChatStream,
    /// A same-wire stream: the upstream's frames to forward (the events above are then only its decoding).
    pub frames: Option<RawFrames>,
}

/// The caller's raw request when `target` speaks the caller's wire.
fn same_wire<'a>(opts: &CallOptions<'a>, target: &ModelId) -> Option<&'a RawRequest> {
    opts.raw.filter(|r| r.wire == crate::wire::wire_for(target))
}

/// Failures that say something about the upstream's health (they feed the breaker).
fn is_upstream_failure(e: &Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::Transient
            | ErrorCode::ServerError
            | ErrorCode::Timeout
            | ErrorCode::Unavailable
            | ErrorCode::Overloaded
            | ErrorCode::RateLimit
            | ErrorCode::Unknown
    )
}

/// Failures another target might not have: everything except a bad request or a cancelled call.
fn should_fall_back(e: &Error) -> bool {
    !matches!(
        e.code(),
        ErrorCode::Validation | ErrorCode::TooLarge | ErrorCode::Cancelled | ErrorCode::Unsupported
    ) || matches!(e.root(), Error::Config(_))
}

fn is_commit_point(ev: &StreamEvent) -> bool {
    matches!(
        ev,
        StreamEvent::TextDelta { .. }
            | StreamEvent::ReasoningDelta { .. }
            | StreamEvent::ToolCallDelta { .. }
            | StreamEvent::Finish { .. }
    )
}

/// Whether a request parsed from `origin` keeps its provider-specific fields on `target`'s wire.
fn same_family(origin: Option<Wire>, target: Wire) -> bool {
    match origin {
        None => true,
        Some(Wire::OpenAi | Wire::Responses) => matches!(target, Wire::OpenAi | Wire::Responses),
        Some(o) => o == target,
    }
}

/// The request as sent to `target`: the model written once; provider-specific passthrough fields survive only
/// within one wire family (a copy is made only when they must be stripped).
fn for_target<'a>(
    req: &'a mut ChatRequest,
    target: &ModelId,
    origin: Option<Wire>,
) -> Cow<'a, ChatRequest> {
    if req.model != *target {
        req.model = target.clone();
    }
    if req.extra.is_empty() || same_family(origin, target.provider.spec().wire) {
        return Cow::Borrowed(req);
    }
    let mut r = req.clone();
    r.extra.clear();
    Cow::Owned(r)
}

fn breaker_open(target: &ModelId) -> Error {
    Error::InBand {
        provider: target.provider,
        code: ErrorCode::Unavailable,
        message: format!("circuit breaker open for {target}: failing fast"),
    }
}

/// Bookkeeping shared by the non-streamed and streamed runs.
#[derive(Default)]
struct Tries {
    attempts: Vec<Attempt>,
    retries: Vec<(ProviderId, ErrorCode)>,
    pruned: usize,
    /// The request was adapted to observed capabilities (so it is no longer the caller's body).
    adapted: bool,
}

impl Tries {
    fn note_retries(&mut self, provider: ProviderId, log: &RetryLog) {
        self.retries
            .extend(log.causes().into_iter().map(|c| (provider, c)));
    }

    fn fallbacks(&self) -> u32 {
        u32::try_from(self.attempts.len()).unwrap_or(u32::MAX)
    }

    fn fail(mut self, route: &Route) -> RouteFailure {
        if self.attempts.is_empty() {
            self.attempts.push(Attempt {
                target: route
                    .targets
                    .first()
                    .cloned()
                    .unwrap_or_else(|| ModelId::new(ProviderId::OpenAi, route.name.clone())),
                error: Error::Config(format!("route '{}' has no targets", route.name)),
            });
        }
        RouteFailure {
            attempts: self.attempts,
            retries: self.retries,
        }
    }
}

impl Router {
    /// Whether `target` may be tried now (permit, breaker); the reason when not.
    fn admit(&self, target: &ModelId, key: &str, opts: &CallOptions<'_>) -> Result<(), Error> {
        if let Some(permit) = opts.permit
            && !permit(target)
        {
            return Err(Error::Forbidden(format!(
                "this key may not use model '{target}'"
            )));
        }
        if self.breakers.admit(key) == Admission::Rejected {
            return Err(breaker_open(target));
        }
        Ok(())
    }

    /// Admit `target` and prepare the request for it (model written, adapted to observed capabilities, guard
    /// passed); `None`, with the attempt noted, when it cannot be tried.
    #[allow(clippy::too_many_arguments)]
    async fn ready<'r>(
        &self,
        route: &Route,
        target: &ModelId,
        key: &str,
        req: &'r mut ChatRequest,
        opts: &CallOptions<'_>,
        stream: bool,
        tries: &mut Tries,
    ) -> Option<Cow<'r, ChatRequest>> {
        tries.pruned = 0;
        tries.adapted = false;
        let error = match self.admit(target, key, opts) {
            Ok(()) => {
                if req.model != *target {
                    req.model = target.clone();
                }
                // The guard measures the request itself (lent to a counting thread, not copied); only what
                // changes per target is prepared afterwards.
                let prepared = match self.fit(req, route, opts.raw.map(|r| r.body.len())).await {
                    Ok(Fit::Fits) => Ok(self.prepare(req, target, opts.origin)),
                    Ok(Fit::Pruned {
                        req: pruned,
                        dropped,
                    }) => {
                        tries.pruned = dropped;
                        let mut pruned = *pruned;
                        let prepared = self.prepare(&mut pruned, target, opts.origin);
                        Ok(Cow::Owned(prepared.into_owned()))
                    }
                    Err(e) => Err(e),
                };
                match prepared {
                    Ok(mut prepared) => {
                        let adapted = match self.registry.read() {
                            Ok(r) => adapt::adapt(&r, target, &mut prepared, stream),
                            Err(_) => Ok(false),
                        };
                        match adapted {
                            Ok(changed) => {
                                tries.adapted = changed;
                                return Some(prepared);
                            }
                            Err(e) => e,
                        }
                    }
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        tries.attempts.push(Attempt {
            target: target.clone(),
            error,
        });
        None
    }

    /// `req` as sent to `target`: its model written, fields of another wire family dropped, and no reasoning
    /// effort for a model known to lack reasoning (non-reasoning models reject the parameter).
    fn prepare<'r>(
        &self,
        req: &'r mut ChatRequest,
        target: &ModelId,
        origin: Option<Wire>,
    ) -> Cow<'r, ChatRequest> {
        let mut prepared = for_target(req, target, origin);
        if prepared.reasoning_effort.is_some()
            && self
                .registry
                .read()
                .ok()
                .and_then(|r| r.capability(target, crate::catalog::Capability::Reasoning))
                == Some(false)
        {
            prepared.to_mut().reasoning_effort = None;
        }
        prepared
    }

    fn record(&self, key: &str, result: Result<(), &Error>) {
        let healthy = result.map_or_else(|e| !is_upstream_failure(e), |()| true);
        self.breakers.record(key, healthy);
    }

    /// Send a non-streamed request, falling back through the route's targets.
    pub async fn chat(
        &self,
        route: &Route,
        mut req: ChatRequest,
        opts: CallOptions<'_>,
    ) -> Result<Routed<ChatResponse>, RouteFailure> {
        let mut tries = Tries::default();
        for target in &route.targets {
            // The breaker key, built once per target.
            let key = target.to_string();
            let mut adapted_retry = false;
            loop {
                let Some(prepared) = self
                    .ready(route, target, &key, &mut req, &opts, false, &mut tries)
                    .await
                else {
                    break;
                };
                let log = RetryLog::default();
                let client = self.client();
                let busy = self.balancer.begin(target);
                // A pruned or adapted conversation is no longer the caller's body: it is translated, not passed
                // through.
                let raw = same_wire(&opts, target).filter(|_| tries.pruned == 0 && !tries.adapted);
                let result = match raw {
                    Some(raw) => client
                        .chat_raw(target, raw, &log)
                        .await
                        .map(|(bytes, r)| (r, Some(bytes))),
                    None => client.chat_logged(&prepared, &log).await.map(|r| (r, None)),
                };
                tries.note_retries(target.provider, &log);
                if let (Some(b), Ok((value, _))) = (&busy, &result) {
                    b.used(value.usage.tokens());
                }
                drop(busy);
                match result {
                    Ok((value, raw)) => {
                        self.record(&key, Ok(()));
                        self.balancer.finish(
                            target,
                            Ok(log.wait()),
                            self.balancer.cooldown(&route.name),
                        );
                        return Ok(Routed {
                            value,
                            target: target.clone(),
                            fallbacks: tries.fallbacks(),
                            retries: tries.retries,
                            upstream: log.wait(),
                            reported_overhead: log.reported_overhead(),
                            raw,
                            pruned: tries.pruned,
                        });
                    }
                    Err(error) => {
                        self.record(&key, Err(&error));
                        self.balancer.finish(
                            target,
                            Err(&error),
                            self.balancer.cooldown(&route.name),
                        );
                        let observed = self.observe_rejection(target, &prepared, false, &error);
                        if observed.is_some_and(emulated) && !adapted_retry {
                            adapted_retry = true;
                            tries.retries.push((target.provider, error.code()));
                            continue;
                        }
                        let fall_back = should_fall_back(&error) || observed.is_some();
                        tries.attempts.push(Attempt {
                            target: target.clone(),
                            error,
                        });
                        if !fall_back {
                            return Err(tries.fail(route));
                        }
                        break;
                    }
                }
            }
        }
        Err(tries.fail(route))
    }

    /// Open a stream, falling back through the route's targets until one yields content.
    pub async fn stream(
        &self,
        route: &Route,
        mut req: ChatRequest,
        opts: CallOptions<'_>,
    ) -> Result<Routed<Peeked>, RouteFailure> {
        let mut tries = Tries::default();
        'targets: for target in &route.targets {
            // The breaker key, built once per target.
            let key = target.to_string();
            let mut adapted_retry = false;
            'attempt: loop {
                let started = Instant::now();
                let Some(prepared) = self
                    .ready(route, target, &key, &mut req, &opts, true, &mut tries)
                    .await
                else {
                    continue 'targets;
                };
                let log = RetryLog::default();
                let client = self.client();
                let mut busy = self.balancer.begin(target);
                let raw = same_wire(&opts, target).filter(|_| tries.pruned == 0 && !tries.adapted);
                let (mut stream, frames) = match raw {
                    Some(raw) => {
                        let drop_usage = raw.wire == Wire::OpenAi
                            && !crate::wire::passthrough::asked_for_usage(&raw.body);
                        let (s, f) = client.chat_stream_raw(target, raw, log.clone(), drop_usage);
                        (s, Some(f))
                    }
                    None => (client.chat_stream_logged(&prepared, log.clone()), None),
                };
                let mut buffered = Vec::new();
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(ev) => {
                            let commit = is_commit_point(&ev);
                            buffered.push(Ok(ev));
                            if commit {
                                tries.note_retries(target.provider, &log);
                                self.record(&key, Ok(()));
                                self.balancer.finish(
                                    target,
                                    Ok(started.elapsed()),
                                    self.balancer.cooldown(&route.name),
                                );
                                // A balanced deployment counts the stream in flight until it ends, and its tokens.
                                if let Some(b) = busy.take() {
                                    let mut last = 0;
                                    stream = stream.inspect(move |item| match item {
                                        Ok(StreamEvent::Usage(u)) => last = u.tokens(),
                                        Ok(StreamEvent::Finish { .. }) => b.used(last),
                                        _ => {}
                                    });
                                }
                                return Ok(Routed {
                                    value: Peeked {
                                        buffered,
                                        stream,
                                        frames,
                                    },
                                    target: target.clone(),
                                    fallbacks: tries.fallbacks(),
                                    retries: tries.retries,
                                    upstream: started.elapsed(),
                                    reported_overhead: log.reported_overhead(),
                                    raw: None,
                                    pruned: tries.pruned,
                                });
                            }
                        }
                        Err(error) => {
                            tries.note_retries(target.provider, &log);
                            self.record(&key, Err(&error));
                            self.balancer.finish(
                                target,
                                Err(&error),
                                self.balancer.cooldown(&route.name),
                            );
                            let observed = self.observe_rejection(target, &prepared, true, &error);
                            if observed.is_some_and(emulated) && !adapted_retry {
                                adapted_retry = true;
                                tries.retries.push((target.provider, error.code()));
                                continue 'attempt;
                            }
                            let fall_back = should_fall_back(&error) || observed.is_some();
                            tries.attempts.push(Attempt {
                                target: target.clone(),
                                error,
                            });
                            if fall_back {
                                continue 'targets;
                            }
                            break 'targets;
                        }
                    }
                }
                continue 'targets;
            }
        }
        Err(tries.fail(route))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_fields_stay_within_a_wire_family() {
        let mut req = ChatRequest::new("openai/gpt-4o".parse().unwrap(), vec![]);
        req.extra
            .insert("parallel_tool_calls".into(), serde_json::json!(false));
        let anthropic: ModelId = "anthropic/claude".parse().unwrap();
        assert!(
            for_target(&mut req, &anthropic, Some(Wire::OpenAi))
                .extra
                .is_empty()
        );
        assert_eq!(
            req.extra.len(),
            1,
            "the original keeps its fields for later targets"
        );
        let groq: ModelId = "groq/llama".parse().unwrap();
        let sent = for_target(&mut req, &groq, Some(Wire::OpenAi));
        assert_eq!(
            (sent.extra.len(), sent.model.provider),
            (1, ProviderId::Groq)
        );
        assert_eq!(for_target(&mut req, &anthropic, None).extra.len(), 1);
    }
}
