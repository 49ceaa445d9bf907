//! Tool calling: a [`Toolbox`] of named tools with async handlers, and a loop that runs a chat until the model stops
//! calling tools ([`run`], or [`run_stream`] for events as they happen).
//!
//! Each round sends the whole transcript, executes the model's tool calls one after another in the order given,
//! and feeds every result back as a tool message carrying the call's id. An unknown tool, arguments that are not
//! JSON, or a handler error become an error *result* (`error: …`) instead of failing the loop, so the model can
//! recover. The loop stops when an answer has no tool calls or after `max_iterations` model calls; in the latter
//! case the last round's tools still run, so the transcript stays valid for a later continuation.
//!
//! ```no_run
//! use crux_llm::tools::{self, Toolbox};
//! use crux_llm::{ChatRequest, Client, Message, ModelId, ProviderId};
//! use serde_json::{Value, json};
//! # async fn demo(client: Client) -> crux_llm::Result<()> {
//! let mut toolbox = Toolbox::new();
//! toolbox.register(
//!     "get_weather",
//!     "Current weather in a city",
//!     json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
//!     |args: Value| async move { Ok(format!("15°C in {}", args["city"])) },
//! )?;
//! let req = ChatRequest::new(
//!     ModelId::new(ProviderId::OpenAi, "gpt-4o-mini"),
//!     vec![Message::user("What's the weather in Paris?")],
//! );
//! let run = tools::run(&client, &req, &toolbox, 5).await?;
//! println!("{} ({} model calls)", run.text(), run.iterations);
//! # Ok(()) }
//! ```

mod run;
mod stream;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

pub use self::run::{LoopStop, ToolRun, run};
pub use self::stream::{ToolEvent, ToolEventStream, run_stream};
use crate::error::{Error, Result};
use crate::types::{Message, Tool, ToolCall};

/// What a tool handler returns: the result text, or an error text the model will see.
pub type ToolFuture = BoxFuture<'static, std::result::Result<String, String>>;

type Handler = Arc<dyn Fn(Value) -> ToolFuture + Send + Sync>;

#[derive(Clone)]
struct Entry {
    tool: Tool,
    handler: Handler,
}

/// A set of tools the model may call, each with its async handler. Cheap to clone.
#[derive(Clone, Default)]
pub struct Toolbox {
    entries: Vec<Entry>,
}

impl fmt::Debug for Toolbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Toolbox")
            .field("tools", &self.names())
            .finish()
    }
}

/// The outcome of one tool call, as fed back to the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolOutput {
    /// The id of the call this answers.
    pub call_id: String,
    /// The tool that was called.
    pub name: String,
    /// The result text (for errors: `error: …`).
    pub content: String,
    /// Whether the call failed (unknown tool, bad arguments, handler error).
    pub is_error: bool,
}

impl ToolOutput {
    /// The tool-result message answering the call.
    pub fn message(&self) -> Message {
        Message::tool_result(self.call_id.clone(), self.content.clone())
    }

    fn failed(call: &ToolCall, why: String) -> Self {
        Self {
            call_id: call.id.clone(),
            name: call.name.clone(),
            content: format!("error: {why}"),
            is_error: true,
        }
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Toolbox {
    /// An empty toolbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register a tool. `parameters` is the JSON schema of its arguments object; `handler` receives the parsed
    /// arguments. Fails on a name outside `[a-zA-Z0-9_-]{1,64}`, a duplicate name, or a schema that is not an object.
    pub fn register<F, Fut>(
        &mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
        handler: F,
    ) -> Result<&mut Self>
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<String, String>> + Send + 'static,
    {
        let name = name.into();
        if !valid_name(&name) {
            return Err(Error::Config(format!(
                "invalid tool name '{name}': use 1-64 letters, digits, '_' or '-'"
            )));
        }
        if self.get(&name).is_some() {
            return Err(Error::Config(format!(
                "tool '{name}' is already registered"
            )));
        }
        if !parameters.is_object() {
            return Err(Error::Config(format!(
                "tool '{name}': the parameters schema must be a JSON object"
            )));
        }
        let description = description.into();
        self.entries.push(Entry {
            tool: Tool {
                name,
                description: (!description.is_empty()).then_some(description),
                parameters,
                strict: None,
            },
            handler: Arc::new(move |args| handler(args).boxed()),
        });
        Ok(self)
    }

    fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tool.name == name)
    }

    /// The tool definitions, in registration order.
    pub fn tools(&self) -> Vec<Tool> {
        self.entries.iter().map(|e| e.tool.clone()).collect()
    }

    /// The tool names, in registration order.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.tool.name.as_str()).collect()
    }

    /// Number of tools.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no tool is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Execute one call. Never fails: problems become an error result the model can read.
    pub async fn invoke(&self, call: &ToolCall) -> ToolOutput {
        let Some(entry) = self.get(&call.name) else {
            return ToolOutput::failed(
                call,
                format!(
                    "unknown tool '{}' (available: {})",
                    call.name,
                    self.names().join(", ")
                ),
            );
        };
        let raw = call.arguments.trim();
        let args = if raw.is_empty() {
            Ok(Value::Object(serde_json::Map::new()))
        } else {
            serde_json::from_str::<Value>(raw)
        };
        let args = match args {
            Ok(v) => v,
            Err(e) => {
                return ToolOutput::failed(call, format!("arguments are not valid JSON ({e})"));
            }
        };
        match (entry.handler)(args).await {
            Ok(content) => ToolOutput {
                call_id: call.id.clone(),
                name: call.name.clone(),
                content,
                is_error: false,
            },
            Err(why) => ToolOutput::failed(call, why),
        }
    }
}

#[cfg(test)]
mod tests;
