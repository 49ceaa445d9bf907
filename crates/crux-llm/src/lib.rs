//! `crux-llm`: one typed API over OpenAI, Anthropic, Gemini, Ollama, OpenRouter, DeepSeek, xAI, Groq and Mistral.
//!
//! Build a [`Client`] with per-provider [`ProviderConfig`]s (the library never reads the environment), then call
//! [`Client::chat`], [`Client::chat_stream`], [`Client::embed`] or [`Client::list_models`] with normalized types.
//!
//! ```no_run
//! use crux_llm::{ChatRequest, Client, Message, ProviderConfig, ProviderId};
//! # async fn demo() -> crux_llm::Result<()> {
//! let client = Client::builder()
//!     .provider(ProviderId::OpenAi, ProviderConfig { api_key: Some("sk-...".into()), ..Default::default() })
//!     .build()?;
//! let req = ChatRequest::new("openai/gpt-4o-mini".parse().map_err(|e| crux_llm::Error::Config(format!("{e}")))?,
//!     vec![Message::user("hello")]);
//! let answer = client.chat(&req).await?;
//! println!("{}", answer.text());
//! # Ok(()) }
//! ```

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod accumulate;
pub mod breaker;
pub mod catalog;
pub mod client;
pub mod context;
pub mod cost;
pub mod custom;
pub mod decode;
pub mod error;
pub mod model_id;
pub mod providers;
pub mod registry;
pub mod router;
pub mod scrub;
pub mod tools;
pub mod trace;
pub mod types;
mod types_cache;
mod types_embed;
mod usage;
pub mod wire;

pub use accumulate::Accumulator;
pub use catalog::{Capability, Prices};
pub use client::{
    ChatStream, Client, ClientBuilder, ProviderConfig, RetryLog, RetryPolicy, Timeouts,
};
pub use context::{GuardConfig, PruneStrategy};
pub use cost::request_cost;
pub use error::{Error, ErrorCode, Result};
pub use model_id::ModelId;
pub use providers::{ProviderId, ProviderSpec, Wire};
pub use registry::{ModelEntry, Observation, Registry, Snapshot};
pub use router::{CallOptions, ResolveError, Route, RouteFailure, Routed, Router, RouterConfig};
pub use tools::{ToolEvent, ToolRun, Toolbox};
pub use types::{
    ChatRequest, ChatResponse, EmbedRequest, EmbedResponse, FinishReason, ImageSource, Message,
    ModelInfo, Part, ResponseFormat, Role, StreamEvent, StreamMetrics, Tool, ToolCall, ToolChoice,
    Usage,
};
