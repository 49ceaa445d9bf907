//! Provider-neutral request, response, message and stream types shared by every wire format.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model_id::ModelId;
pub use crate::types_cache::{CacheBreakpoint, CacheTtl};
pub use crate::types_embed::{EmbedRequest, EmbedResponse, ModelInfo};
pub use crate::usage::Usage;

/// A chat request in Crux's normalized form; every provider wire is built from this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Target model, `provider/model`.
    pub model: ModelId,
    /// Full conversation history, oldest first.
    pub messages: Vec<Message>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// How the model should choose among `tools`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Requested output format.
    #[serde(default)]
    pub response_format: ResponseFormat,
    /// Upper bound on generated tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Best-effort determinism seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// End-user identifier for provider abuse tracking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Reasoning effort for reasoning models (`low`, `medium`, `high`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// Prompt-cache breakpoints the caller marked (Anthropic `cache_control`), in request order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache: Vec<CacheBreakpoint>,
    /// Provider-specific fields passed through untouched into the upstream body.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
    /// Do not ask a streamed answer for its usage (`stream_options`); set for models observed to reject it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub omit_stream_usage: bool,
}

impl ChatRequest {
    /// A request with the given model and messages and every option unset.
    pub fn new(model: ModelId, messages: Vec<Message>) -> Self {
        Self {
            model,
            messages,
            tools: Vec::new(),
            tool_choice: None,
            response_format: ResponseFormat::Text,
            max_tokens: None,
            temperature: None,
            top_p: None,
            stop: Vec::new(),
            seed: None,
            user: None,
            reasoning_effort: None,
            cache: Vec::new(),
            extra: Map::new(),
            omit_stream_usage: false,
        }
    }

    /// A request parsed from a caller that names its model only by a string (an inbound dialect): its `model` is
    /// empty until the [`crate::Router`] writes the target it sends to.
    pub fn unrouted(messages: Vec<Message>) -> Self {
        Self::new(
            ModelId::new(crate::ProviderId::OpenAi, String::new()),
            messages,
        )
    }
}

/// Who authored a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// System instructions.
    System,
    /// Developer instructions (OpenAI reasoning models); mapped to `system` where unsupported.
    Developer,
    /// The end user.
    User,
    /// The model.
    Assistant,
    /// A tool result.
    Tool,
}

impl Role {
    /// The lowercase wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Author.
    pub role: Role,
    /// Ordered content parts (text is kept byte for byte).
    #[serde(default)]
    pub content: Vec<Part>,
    /// Tool calls made by an assistant message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For `Role::Tool`: the id of the call this result answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Optional participant or tool name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Message {
    /// A message with one text part.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: vec![Part::Text { text: text.into() }],
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
        }
    }
    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Self::text(Role::System, text)
    }
    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self::text(Role::User, text)
    }
    /// An assistant text message.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::text(Role::Assistant, text)
    }
    /// A tool result answering call `call_id`.
    pub fn tool_result(call_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(call_id.into()),
            ..Self::text(Role::Tool, text)
        }
    }
    /// All text parts concatenated (no separator added, so text survives byte for byte).
    pub fn text_content(&self) -> String {
        self.content
            .iter()
            .filter_map(|p| match p {
                Part::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// One piece of message content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// Plain text.
    Text {
        /// The text, verbatim.
        text: String,
    },
    /// An image by URL (`https:` or `data:`) or inline base64.
    Image {
        /// Where the image is.
        source: ImageSource,
        /// Optional detail hint (`low`, `high`, `auto`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// Model reasoning ("thinking"), with a provider signature to send back unchanged.
    Reasoning {
        /// Reasoning text (may be empty when only a signature is kept).
        text: String,
        /// Opaque signature required when replaying the reasoning.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// A refusal by the model.
    Refusal {
        /// Refusal text.
        text: String,
    },
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImageSource {
    /// A URL (`https://…` or a `data:` URL).
    Url {
        /// The URL.
        url: String,
    },
    /// Raw base64 bytes with their media type.
    Base64 {
        /// MIME type, e.g. `image/png`.
        media_type: String,
        /// Base64 data without a `data:` prefix.
        data: String,
    },
}

impl ImageSource {
    /// The image as a URL (`data:` URL for inline bytes).
    pub fn to_url(&self) -> String {
        match self {
            ImageSource::Url { url } => url.clone(),
            ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        }
    }
}

/// A tool call made by the assistant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Provider-assigned call id, echoed by the tool result.
    pub id: String,
    /// Function name.
    pub name: String,
    /// Arguments as a JSON text (kept raw if the model produced invalid JSON).
    pub arguments: String,
    /// Opaque provider signature bound to this call (Gemini `thoughtSignature`), sent back unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl ToolCall {
    /// A call without a provider signature.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
            signature: None,
        }
    }
}

/// A function tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Function name (`[a-zA-Z0-9_-]{1,64}`).
    pub name: String,
    /// What the tool does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON schema of the arguments object.
    #[serde(default = "empty_object_schema")]
    pub parameters: Value,
    /// Ask for strict schema adherence where supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

fn empty_object_schema() -> Value {
    serde_json::json!({"type": "object", "properties": {}})
}

/// How the model chooses tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// No tool calls.
    None,
    /// At least one tool call.
    Required,
    /// This exact function.
    Function(String),
}

/// Requested output format.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text.
    #[default]
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// Schema name (`[a-zA-Z0-9_-]{1,64}`).
        name: String,
        /// The JSON schema.
        schema: Value,
        /// Strict adherence (OpenAI structured outputs).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        strict: Option<bool>,
    },
}

/// Why generation stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Natural end or stop sequence.
    Stop,
    /// Token limit reached.
    Length,
    /// The model called tools.
    ToolCalls,
    /// Output was filtered.
    ContentFilter,
    /// The provider reported an error.
    Error,
    /// A value this version does not know, kept raw.
    Other(String),
}

impl FinishReason {
    /// The normalized name (`stop`, `length`, `tool_calls`, ...); unknown values keep their raw text.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Error => "error",
            FinishReason::Other(s) => s,
        }
    }
}

/// A complete (non-streamed) chat answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// Provider response id.
    pub id: String,
    /// Model that answered, as the provider named it.
    pub model: String,
    /// Provider id (`openai`, `anthropic`, ...).
    pub provider: String,
    /// The assistant message (text, reasoning, tool calls).
    pub message: Message,
    /// Why generation stopped.
    pub finish: FinishReason,
    /// Token usage.
    pub usage: Usage,
    /// Wall time of the whole call, retries included.
    #[serde(with = "duration_ms")]
    pub latency: Duration,
}

impl ChatResponse {
    /// The answer's text.
    pub fn text(&self) -> String {
        self.message.text_content()
    }
}

/// One item of a chat stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The upstream accepted the request; first item of every successful stream.
    Start {
        /// Provider response id.
        id: String,
        /// Model as named by the provider.
        model: String,
    },
    /// A piece of answer text.
    TextDelta {
        /// The text fragment.
        text: String,
    },
    /// A piece of reasoning text or its signature.
    ReasoningDelta {
        /// The reasoning fragment.
        text: String,
        /// A signature for the reasoning block, when the provider sends one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// A fragment of a tool call; fragments with the same `index` concatenate.
    ToolCallDelta {
        /// Position of the call in this turn.
        index: u32,
        /// Call id (on the first fragment).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Function name (on the first fragment).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// A piece of the JSON arguments text.
        args_fragment: String,
        /// Opaque provider signature for the call (Gemini `thoughtSignature`), when sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// Token usage (may come more than once; the last wins).
    Usage(Usage),
    /// Terminal item of a successful stream.
    Finish {
        /// Why generation stopped.
        reason: FinishReason,
        /// Stream timings.
        metrics: StreamMetrics,
    },
}

/// Timing facts for one stream, carried by its terminal item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StreamMetrics {
    /// Content items emitted (text, reasoning, tool-call deltas).
    pub emitted: u64,
    /// Time from the call to the first content item; `None` when nothing was emitted.
    pub time_to_first_token_ms: Option<u64>,
    /// Time from the call to the terminal item.
    pub total_duration_ms: u64,
}

/// Serde helper: a `Duration` as integer milliseconds.
pub(crate) mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
