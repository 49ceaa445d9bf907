//! `ChatStream`: drives one streamed call and enforces the stream contract (one terminal item with metrics).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use super::context_cache::{Cached, is_cache_error};
use super::raw::{RawFrames, RawRequest};
use super::{Client, RetryLog, Target, send::transport_error};
use crate::decode::eventstream::{EventMessage, EventStreamDecoder};
use crate::decode::{NdjsonDecoder, SseDecoder, SseEvent};
use crate::error::{Error, Result, TimeoutPhase};
use crate::model_id::ModelId;
use crate::providers::ProviderId;
use crate::types::{ChatRequest, FinishReason, StreamEvent, StreamMetrics};
use crate::wire::{self, Flow, Frame, Framing, StreamState};

/// A streamed chat answer: `Start`, content deltas, `Usage`, then exactly one terminal item —
/// `Finish` or an `Err(Error::Stream { .. })` — after which the stream ends.
///
/// Dropping it closes the upstream connection at once.
pub struct ChatStream {
    inner: BoxStream<'static, Result<StreamEvent>>,
    cancel: CancellationToken,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream").finish_non_exhaustive()
    }
}

impl ChatStream {
    pub(super) fn start(client: Client, req: &ChatRequest, retries: RetryLog) -> Self {
        let cancel = CancellationToken::new();
        let driver = Driver::new(client, req, cancel.clone(), retries);
        Self::from_driver(driver, cancel)
    }

    /// A stream of `raw` (the caller's own wire) from `target`, its frames collected in `frames`.
    pub(super) fn start_raw(
        client: Client,
        target: &ModelId,
        raw: &RawRequest,
        retries: RetryLog,
        frames: RawFrames,
    ) -> Self {
        let cancel = CancellationToken::new();
        let prepared = client
            .raw_target(target, raw)
            .map(|(t, body)| (t, body, StreamState::new(target)));
        let mut driver = Driver::from_prepared(
            client,
            target.provider,
            prepared,
            Framing::Sse,
            cancel.clone(),
            retries,
        );
        driver.frames = Some(frames);
        Self::from_driver(driver, cancel)
    }

    fn from_driver(driver: Driver, cancel: CancellationToken) -> Self {
        let inner = futures_util::stream::unfold(driver, |mut d| async move {
            let item = d.next().await?;
            Some((item, d))
        })
        .boxed();
        Self { inner, cancel }
    }

    /// A stream of `events` as given (a cached answer replayed): no upstream, nothing to cancel but the replay.
    pub fn replay(events: Vec<StreamEvent>) -> Self {
        Self {
            inner: futures_util::stream::iter(events.into_iter().map(Ok)).boxed(),
            cancel: CancellationToken::new(),
        }
    }

    /// This stream, showing every item to `f` as it passes (the closure lives as long as the stream).
    pub fn inspect<F: FnMut(&Result<StreamEvent>) + Send + 'static>(self, mut f: F) -> Self {
        Self {
            inner: self
                .inner
                .map(move |item| {
                    f(&item);
                    item
                })
                .boxed(),
            cancel: self.cancel,
        }
    }

    /// A token that cancels this stream: the next item is the terminal `cancelled` error.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }
}

impl Stream for ChatStream {
    type Item = Result<StreamEvent>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

/// The body decoder matching the wire's framing.
enum Framer {
    Sse(SseDecoder, Vec<SseEvent>),
    Ndjson(NdjsonDecoder, Vec<String>),
    Events(EventStreamDecoder, Vec<EventMessage>),
}

struct Driver {
    client: Client,
    provider: ProviderId,
    prepared: Result<(Target, Bytes, StreamState)>,
    body: Option<BoxStream<'static, reqwest::Result<Bytes>>>,
    framer: Framer,
    scratch: Vec<StreamEvent>,
    pending: VecDeque<StreamEvent>,
    terminal: Option<Result<FinishReason>>,
    done: bool,
    cancel: CancellationToken,
    retries: RetryLog,
    /// Pass-through: the frames to forward, captured as they are decoded.
    frames: Option<RawFrames>,
    /// A Gemini request with cache breakpoints: resolved to a cached body when the connection opens.
    cache_plan: Option<crate::wire::gemini::cache::CachePlan>,
    t0: Instant,
    first_content: Option<Instant>,
    emitted: u64,
}

impl Driver {
    fn new(
        client: Client,
        req: &ChatRequest,
        cancel: CancellationToken,
        retries: RetryLog,
    ) -> Self {
        let provider = req.model.provider;
        let call = wire::chat_call(provider.spec(), req, true);
        let framing = call.as_ref().map_or(Framing::Sse, |c| c.framing);
        let prepared = call.and_then(|c| {
            let target = client.target(provider, &c.path)?;
            Ok((target, c.body, StreamState::new(&req.model)))
        });
        let cache_plan = prepared.as_ref().ok().and_then(|_| client.cache_plan(req));
        let mut driver = Self::from_prepared(client, provider, prepared, framing, cancel, retries);
        driver.cache_plan = cache_plan;
        driver
    }

    fn from_prepared(
        client: Client,
        provider: ProviderId,
        prepared: Result<(Target, Bytes, StreamState)>,
        framing: Framing,
        cancel: CancellationToken,
        retries: RetryLog,
    ) -> Self {
        let framer = match framing {
            Framing::Ndjson => Framer::Ndjson(NdjsonDecoder::default(), Vec::new()),
            Framing::Sse => Framer::Sse(SseDecoder::default(), Vec::new()),
            Framing::EventStream => Framer::Events(EventStreamDecoder::default(), Vec::new()),
        };
        Self {
            client,
            provider,
            prepared,
            body: None,
            framer,
            scratch: Vec::new(),
            pending: VecDeque::new(),
            terminal: None,
            done: false,
            cancel,
            retries,
            frames: None,
            cache_plan: None,
            t0: Instant::now(),
            first_content: None,
            emitted: 0,
        }
    }

    fn metrics(&self) -> StreamMetrics {
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        StreamMetrics {
            emitted: self.emitted,
            time_to_first_token_ms: self.first_content.map(|t| ms(t - self.t0)),
            total_duration_ms: ms(self.t0.elapsed()),
        }
    }

    fn deadline(&self) -> Instant {
        match &self.prepared {
            Ok((t, _, _)) => self.t0 + t.timeouts.total,
            Err(_) => self.t0,
        }
    }

    /// The next item, or `None` once the terminal item has been returned.
    async fn next(&mut self) -> Option<Result<StreamEvent>> {
        if self.done {
            return None;
        }
        loop {
            if self.cancel.is_cancelled() && self.terminal.is_none() {
                self.pending.clear();
                self.terminal = Some(Err(Error::Cancelled));
            }
            if let Some(ev) = self.pending.pop_front() {
                if matches!(
                    ev,
                    StreamEvent::TextDelta { .. }
                        | StreamEvent::ReasoningDelta { .. }
                        | StreamEvent::ToolCallDelta { .. }
                ) {
                    self.emitted += 1;
                    self.first_content.get_or_insert_with(Instant::now);
                }
                return Some(Ok(ev));
            }
            if let Some(terminal) = self.terminal.take() {
                self.done = true;
                self.body = None;
                let metrics = self.metrics();
                return Some(match terminal {
                    Ok(reason) => Ok(StreamEvent::Finish { reason, metrics }),
                    Err(source) => Err(Error::Stream {
                        source: Box::new(source),
                        metrics,
                    }),
                });
            }
            if let Err(e) = self.step().await {
                self.terminal = Some(Err(e));
            }
        }
    }

    /// Open the connection or read one chunk, queueing decoded events or the terminal outcome.
    async fn step(&mut self) -> Result<()> {
        let deadline = self.deadline();
        let (target, body, _) = match &self.prepared {
            Ok(p) => p,
            Err(_) => {
                let placeholder = Err(Error::Cancelled);
                return std::mem::replace(&mut self.prepared, placeholder).map(|_| ());
            }
        };
        let Some(stream) = self.body.as_mut() else {
            let mut cached: Option<Cached> = None;
            if let Some(plan) = self.cache_plan.take() {
                let found = self.client.use_cache(self.provider, &plan, deadline);
                cached = tokio::select! {
                    c = found => c,
                    () = self.cancel.cancelled() => return Err(Error::Cancelled),
                };
            }
            let first = cached.as_ref().map_or(body, |c| &c.body);
            let send = self
                .client
                .send(target, Some(first.clone()), deadline, &self.retries);
            let sent = tokio::select! {
                r = send => r,
                () = self.cancel.cancelled() => return Err(Error::Cancelled),
            };
            let resp = match (sent, cached) {
                // The cache is gone upstream: forget it and send the request uncached.
                (Err(e), Some(c)) if is_cache_error(&e) => {
                    self.client.forget_cache(&c.key);
                    let send =
                        self.client
                            .send(target, Some(body.clone()), deadline, &self.retries);
                    tokio::select! {
                        r = send => r?,
                        () = self.cancel.cancelled() => return Err(Error::Cancelled),
                    }
                }
                (sent, _) => sent?,
            };
            self.body = Some(resp.bytes_stream().boxed());
            return Ok(());
        };
        let idle = Instant::now() + target.timeouts.idle;
        let (limit, phase) = if idle < deadline {
            (idle, TimeoutPhase::Idle)
        } else {
            (deadline, TimeoutPhase::Total)
        };
        let provider = self.provider;
        let read = tokio::select! {
            r = tokio::time::timeout_at(limit.into(), stream.next()) => r,
            () = self.cancel.cancelled() => return Err(Error::Cancelled),
        };
        match read {
            Err(_) => Err(Error::Timeout { provider, phase }),
            Ok(Some(Err(e))) => Err(transport_error(provider, &e)),
            Ok(Some(Ok(chunk))) => {
                self.push(&chunk).map_err(|e| decode_error(provider, &e))?;
                self.dispatch(false)
            }
            Ok(None) => {
                self.finish_body().map_err(|e| decode_error(provider, &e))?;
                self.dispatch(true)?;
                if self.terminal.is_none() {
                    return Err(Error::Truncated { provider });
                }
                Ok(())
            }
        }
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), crate::decode::DecodeError> {
        match &mut self.framer {
            Framer::Sse(d, out) => d.push(chunk, out),
            Framer::Ndjson(d, out) => d.push(chunk, out),
            Framer::Events(d, out) => d.push(chunk, out),
        }
    }

    fn finish_body(&mut self) -> Result<(), crate::decode::DecodeError> {
        match &mut self.framer {
            Framer::Sse(d, out) => d.finish(out),
            Framer::Ndjson(d, out) => d.finish(out),
            Framer::Events(d, out) => d.finish(out),
        }
    }

    /// Feed decoded frames to the wire state; at end of body, let the wire conclude.
    fn dispatch(&mut self, eof: bool) -> Result<()> {
        let Ok((_, _, state)) = &mut self.prepared else {
            return Ok(());
        };
        let mut outcome = Ok(Flow::Continue);
        match &mut self.framer {
            Framer::Sse(_, events) => {
                for ev in events.drain(..) {
                    if outcome.is_err() || matches!(outcome, Ok(Flow::Done(_))) {
                        continue;
                    }
                    if let Some(frames) = &self.frames {
                        frames.capture(&ev);
                    }
                    outcome = state.on_frame(Frame::Sse(&ev), &mut self.scratch);
                }
            }
            Framer::Ndjson(_, lines) => {
                for line in lines.drain(..) {
                    if outcome.is_err() || matches!(outcome, Ok(Flow::Done(_))) {
                        continue;
                    }
                    outcome = state.on_frame(Frame::Line(&line), &mut self.scratch);
                }
            }
            Framer::Events(_, messages) => {
                for m in messages.drain(..) {
                    if outcome.is_err() || matches!(outcome, Ok(Flow::Done(_))) {
                        continue;
                    }
                    outcome = state.on_frame(Frame::Event(&m), &mut self.scratch);
                }
            }
        }
        if eof && matches!(outcome, Ok(Flow::Continue)) {
            outcome = state.on_eof(&mut self.scratch);
        }
        self.pending.extend(self.scratch.drain(..));
        if let Flow::Done(reason) = outcome? {
            self.terminal = Some(Ok(reason));
            // Terminator seen: stop reading and release the connection.
            self.body = None;
        }
        Ok(())
    }
}

fn decode_error(provider: ProviderId, e: &crate::decode::DecodeError) -> Error {
    Error::Decode {
        provider,
        message: e.to_string(),
    }
}
