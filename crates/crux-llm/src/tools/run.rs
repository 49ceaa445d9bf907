//! The tool loop's shared bookkeeping ([`Session`]) and the non-streaming [`run`].

use serde::Serialize;

use super::{ToolOutput, Toolbox};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::types::{ChatRequest, ChatResponse, Message, Role, ToolCall, Usage};

/// Why the loop stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopStop {
    /// The model answered without calling tools.
    Completed,
    /// `max_iterations` model calls were made and the last one still called tools (they were executed).
    MaxIterations,
}

/// The outcome of a tool loop.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRun {
    /// The last model answer.
    pub response: ChatResponse,
    /// The whole conversation: the request's messages, then every assistant turn and tool result.
    pub transcript: Vec<Message>,
    /// Every tool call executed, in order.
    pub outputs: Vec<ToolOutput>,
    /// Model calls made.
    pub iterations: u32,
    /// Usage summed over every model call.
    pub usage: Usage,
    /// Why the loop stopped.
    pub stop: LoopStop,
}

impl ToolRun {
    /// The final answer's text.
    pub fn text(&self) -> String {
        self.response.text()
    }
}

fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

fn add_usage(total: &mut Usage, u: &Usage) {
    total.prompt = add(total.prompt, u.prompt);
    total.completion = add(total.completion, u.completion);
    total.total = add(total.total, u.total);
    total.cached_prompt = add(total.cached_prompt, u.cached_prompt);
    total.reasoning = add(total.reasoning, u.reasoning);
    total.cost = match (total.cost, u.cost) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
    };
}

/// The state both loop flavours share: the growing request, counters and results.
pub(super) struct Session {
    pub(super) req: ChatRequest,
    pub(super) toolbox: Toolbox,
    max_iterations: u32,
    iterations: u32,
    usage: Usage,
    outputs: Vec<ToolOutput>,
}

impl Session {
    /// Start from `request`, offering the toolbox's tools besides any the request already has.
    pub(super) fn new(
        request: &ChatRequest,
        toolbox: &Toolbox,
        max_iterations: u32,
    ) -> Result<Self> {
        if max_iterations == 0 {
            return Err(Error::Config(
                "the tool loop needs max_iterations of at least 1".into(),
            ));
        }
        let mut req = request.clone();
        for tool in toolbox.tools() {
            if !req.tools.iter().any(|t| t.name == tool.name) {
                req.tools.push(tool);
            }
        }
        Ok(Self {
            req,
            toolbox: toolbox.clone(),
            max_iterations,
            iterations: 0,
            usage: Usage::default(),
            outputs: Vec::new(),
        })
    }

    /// Record a model answer; returns the tool calls to execute (none: the loop is complete).
    pub(super) fn on_response(&mut self, resp: &ChatResponse) -> Vec<ToolCall> {
        self.iterations += 1;
        add_usage(&mut self.usage, &resp.usage);
        self.req.messages.push(Message {
            role: Role::Assistant,
            ..resp.message.clone()
        });
        resp.message.tool_calls.clone()
    }

    /// Record one tool result.
    pub(super) fn on_output(&mut self, out: ToolOutput) {
        self.req.messages.push(out.message());
        self.outputs.push(out);
    }

    /// Whether another model call is allowed.
    pub(super) fn can_continue(&self) -> bool {
        self.iterations < self.max_iterations
    }

    /// The outcome, ending with `response`.
    pub(super) fn finish(&mut self, response: ChatResponse, stop: LoopStop) -> ToolRun {
        ToolRun {
            response,
            transcript: std::mem::take(&mut self.req.messages),
            outputs: std::mem::take(&mut self.outputs),
            iterations: self.iterations,
            usage: self.usage,
            stop,
        }
    }
}

/// Run `request` with `toolbox` until the model answers without tool calls or `max_iterations` model calls were
/// made. Errors from the model calls end the loop; tool failures do not (they are fed back as error results).
pub async fn run(
    client: &Client,
    request: &ChatRequest,
    toolbox: &Toolbox,
    max_iterations: u32,
) -> Result<ToolRun> {
    let mut s = Session::new(request, toolbox, max_iterations)?;
    loop {
        let resp = client.chat(&s.req).await?;
        let calls = s.on_response(&resp);
        if calls.is_empty() {
            return Ok(s.finish(resp, LoopStop::Completed));
        }
        for call in &calls {
            let out = s.toolbox.invoke(call).await;
            s.on_output(out);
        }
        if !s.can_continue() {
            return Ok(s.finish(resp, LoopStop::MaxIterations));
        }
    }
}
