//! The streaming tool loop: text deltas, tool calls and tool results as they happen, then the whole [`ToolRun`].

use std::collections::VecDeque;
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::run::{LoopStop, Session, ToolRun};
use super::{ToolOutput, Toolbox};
use crate::accumulate::Accumulator;
use crate::client::{ChatStream, Client};
use crate::error::Result;
use crate::types::{ChatRequest, ChatResponse, StreamEvent, ToolCall};

/// One event of [`run_stream`].
#[derive(Debug, Clone, PartialEq)]
pub enum ToolEvent {
    /// A piece of the model's answer text.
    TextDelta(String),
    /// The model called a tool (emitted when its turn ends, before the tool runs).
    ToolCall(ToolCall),
    /// A tool finished.
    ToolResult(ToolOutput),
    /// The loop ended; always the last item of a successful run.
    Done(Box<ToolRun>),
}

/// The stream returned by [`run_stream`]: events, ending with `Done` or one `Err`.
pub type ToolEventStream = BoxStream<'static, Result<ToolEvent>>;

enum Phase {
    /// Send the transcript to the model.
    Ask,
    /// Reading the model's streamed answer.
    Streaming {
        stream: ChatStream,
        acc: Accumulator,
        t0: Instant,
    },
    /// Executing the answer's tool calls, one per step.
    Running {
        calls: VecDeque<ToolCall>,
        last: ChatResponse,
    },
    /// Nothing more to yield.
    Done,
}

struct Driver {
    client: Client,
    session: Session,
    phase: Phase,
    pending: VecDeque<ToolEvent>,
}

impl Driver {
    async fn next(&mut self) -> Option<Result<ToolEvent>> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Some(Ok(ev));
            }
            match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Done => return None,
                Phase::Ask => {
                    self.phase = Phase::Streaming {
                        stream: self.client.chat_stream(&self.session.req),
                        acc: Accumulator::new(),
                        t0: Instant::now(),
                    };
                }
                Phase::Streaming {
                    mut stream,
                    mut acc,
                    t0,
                } => match stream.next().await {
                    Some(Ok(ev)) => {
                        acc.push(&ev);
                        self.phase = Phase::Streaming { stream, acc, t0 };
                        if let StreamEvent::TextDelta { text } = ev {
                            return Some(Ok(ToolEvent::TextDelta(text)));
                        }
                    }
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        let provider = self.session.req.model.provider.as_str();
                        self.end_turn(acc.response(provider, t0.elapsed()));
                    }
                },
                Phase::Running { mut calls, last } => match calls.pop_front() {
                    Some(call) => {
                        let out = self.session.toolbox.invoke(&call).await;
                        self.session.on_output(out.clone());
                        self.phase = Phase::Running { calls, last };
                        return Some(Ok(ToolEvent::ToolResult(out)));
                    }
                    None if self.session.can_continue() => self.phase = Phase::Ask,
                    None => self.done(last, LoopStop::MaxIterations),
                },
            }
        }
    }

    /// The model's turn ended: announce its calls and run them, or finish.
    fn end_turn(&mut self, resp: ChatResponse) {
        let calls = self.session.on_response(&resp);
        if calls.is_empty() {
            self.done(resp, LoopStop::Completed);
        } else {
            self.pending
                .extend(calls.iter().cloned().map(ToolEvent::ToolCall));
            self.phase = Phase::Running {
                calls: calls.into(),
                last: resp,
            };
        }
    }

    fn done(&mut self, resp: ChatResponse, stop: LoopStop) {
        let run = self.session.finish(resp, stop);
        self.pending.push_back(ToolEvent::Done(Box::new(run)));
        self.phase = Phase::Done;
    }
}

/// Like [`super::run`], streaming: yields [`ToolEvent`]s as they happen and ends with `Done` (or one `Err`, after
/// which the stream ends). Dropping the stream cancels the model call in flight.
pub fn run_stream(
    client: &Client,
    request: &ChatRequest,
    toolbox: &Toolbox,
    max_iterations: u32,
) -> ToolEventStream {
    match Session::new(request, toolbox, max_iterations) {
        Err(e) => futures_util::stream::once(async move { Err(e) }).boxed(),
        Ok(session) => {
            let driver = Driver {
                client: client.clone(),
                session,
                phase: Phase::Ask,
                pending: VecDeque::new(),
            };
            futures_util::stream::unfold(driver, |mut d| async move {
                let item = d.next().await?;
                Some((item, d))
            })
            .boxed()
        }
    }
}
