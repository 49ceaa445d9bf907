//! `ChatStream`: drives one streamed call and enforces the stream contract (one terminal item with metrics).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use super::{Client, Target, encode, send::transport_error, unsupported_wire};
use crate::decode::{SseDecoder, SseEvent};
use crate::error::{Error, Result, TimeoutPhase};
use crate::providers::{ProviderId, Wire};
use crate::types::{ChatRequest, FinishReason, StreamEvent, StreamMetrics};
use crate::wire::openai;

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
    pub(super) fn start(client: Client, req: &ChatRequest) -> Self {
        let cancel = CancellationToken::new();
        let driver = Driver::new(client, req, cancel.clone());
        let inner = futures_util::stream::unfold(driver, |mut d| async move {
            let item = d.next().await?;
            Some((item, d))
        })
        .boxed();
        Self { inner, cancel }
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

/// Per-wire stream decoding state.
enum WireState {
    OpenAi(openai::stream::StreamState),
}

impl WireState {
    fn on_sse(
        &mut self,
        ev: &SseEvent,
        out: &mut Vec<StreamEvent>,
    ) -> Result<Option<FinishReason>> {
        match self {
            WireState::OpenAi(s) => Ok(match s.on_data(&ev.data, out)? {
                openai::stream::Flow::Continue => None,
                openai::stream::Flow::Done(r) => Some(r),
            }),
        }
    }
}

struct Driver {
    client: Client,
    provider: ProviderId,
    prepared: Result<(Target, Bytes, WireState)>,
    body: Option<BoxStream<'static, reqwest::Result<Bytes>>>,
    decoder: SseDecoder,
    sse: Vec<SseEvent>,
    scratch: Vec<StreamEvent>,
    pending: VecDeque<StreamEvent>,
    terminal: Option<Result<FinishReason>>,
    done: bool,
    cancel: CancellationToken,
    t0: Instant,
    first_content: Option<Instant>,
    emitted: u64,
}

impl Driver {
    fn new(client: Client, req: &ChatRequest, cancel: CancellationToken) -> Self {
        let provider = req.model.provider;
        let prepared = match provider.spec().wire {
            Wire::OpenAi => client.target(provider, "/chat/completions").and_then(|t| {
                let body = encode(provider, &openai::request::build(t.spec, req, true))?;
                Ok((
                    t,
                    body,
                    WireState::OpenAi(openai::stream::StreamState::new(provider)),
                ))
            }),
            other => Err(unsupported_wire(provider, other)),
        };
        Self {
            client,
            provider,
            prepared,
            body: None,
            decoder: SseDecoder::default(),
            sse: Vec::new(),
            scratch: Vec::new(),
            pending: VecDeque::new(),
            terminal: None,
            done: false,
            cancel,
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
            let send = self.client.send(target, Some(body.clone()), deadline);
            let resp = tokio::select! {
                r = send => r?,
                () = self.cancel.cancelled() => return Err(Error::Cancelled),
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
                self.decoder
                    .push(&chunk, &mut self.sse)
                    .map_err(|e| decode_error(provider, &e))?;
                self.dispatch()
            }
            Ok(None) => {
                self.decoder
                    .finish(&mut self.sse)
                    .map_err(|e| decode_error(provider, &e))?;
                self.dispatch()?;
                if self.terminal.is_none() {
                    return Err(Error::Truncated { provider });
                }
                Ok(())
            }
        }
    }

    /// Feed decoded SSE events to the wire state.
    fn dispatch(&mut self) -> Result<()> {
        let Ok((_, _, wire)) = &mut self.prepared else {
            return Ok(());
        };
        for ev in self.sse.drain(..) {
            if self.terminal.is_some() {
                break;
            }
            let outcome = wire.on_sse(&ev, &mut self.scratch);
            self.pending.extend(self.scratch.drain(..));
            if let Some(reason) = outcome? {
                self.terminal = Some(Ok(reason));
            }
        }
        self.sse.clear();
        if self.terminal.is_some() {
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
