//! Serde structs of the Anthropic Messages wire (requests, responses, stream events, errors).
//!
//! Parsing is lenient (unknown fields ignored, unknown block and event types kept as `Unknown`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `POST /v1/messages` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest {
    /// Model id.
    pub model: String,
    /// Output token limit (required by the API).
    pub max_tokens: u32,
    /// Top-level system prompt as text blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemPrompt>,
    /// Alternating user/assistant turns.
    pub messages: Vec<WireMessage>,
    /// Tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<WireTool>>,
    /// `{"type":"auto"|"any"|"none"|"tool","name"?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// Sampling temperature (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// `{"user_id": ..}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Extended thinking `{"type":"enabled","budget_tokens":N}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Value>,
    /// Structured output `{"format":{"type":"json_schema","schema":..}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<Value>,
    /// Stream the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Anything else, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `system`: a string or text blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SystemPrompt {
    /// Plain text.
    Text(String),
    /// Text blocks.
    Blocks(Vec<Block>),
}

crate::wire::text_or_list::impl_deserialize!(
    SystemPrompt,
    Block,
    Text,
    Blocks,
    "a string or an array of text blocks"
);

/// One turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireMessage {
    /// `user` or `assistant`.
    pub role: String,
    /// Blocks (a plain string is accepted on input).
    pub content: Content,
}

/// Message content: a string or blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Typed blocks.
    Blocks(Vec<Block>),
}

crate::wire::text_or_list::impl_deserialize!(
    Content,
    Block,
    Text,
    Blocks,
    "a string or an array of content blocks"
);

impl Content {
    /// The blocks (a plain string becomes one text block).
    pub fn into_blocks(self) -> Vec<Block> {
        match self {
            Content::Text(text) => vec![Block::Text {
                text,
                extra: Map::new(),
            }],
            Content::Blocks(b) => b,
        }
    }
}

/// A content block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Text.
    Text {
        /// The text.
        text: String,
        /// `cache_control`, `citations`, ...
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// An image.
    Image {
        /// `{"type":"base64","media_type","data"}` or `{"type":"url","url"}`.
        source: Value,
        /// Prompt-cache breakpoint.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// A tool call.
    ToolUse {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments object.
        #[serde(default)]
        input: Value,
        /// Prompt-cache breakpoint.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// A tool result.
    ToolResult {
        /// The call answered.
        tool_use_id: String,
        /// String or blocks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Content>,
        /// Whether the tool failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_error: Option<bool>,
        /// Prompt-cache breakpoint.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// Extended thinking, replayed unchanged.
    Thinking {
        /// Reasoning text.
        #[serde(default)]
        thinking: String,
        /// Signature.
        #[serde(default)]
        signature: String,
    },
    /// Encrypted thinking.
    RedactedThinking {
        /// Opaque data.
        #[serde(default)]
        data: String,
    },
    /// A block type this version does not model.
    #[serde(other)]
    Unknown,
}

/// A tool definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireTool {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON schema of the input.
    #[serde(default)]
    pub input_schema: Value,
    /// Prompt-cache breakpoint (covers every tool up to this one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
}

/// Non-streamed response (also `message_start.message`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageResponse {
    /// Message id.
    #[serde(default)]
    pub id: String,
    /// Model.
    #[serde(default)]
    pub model: String,
    /// Content blocks.
    #[serde(default)]
    pub content: Vec<Block>,
    /// Why generation stopped (open set).
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// Usage.
    #[serde(default)]
    pub usage: WireUsage,
}

/// Usage block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WireUsage {
    /// Uncached input tokens.
    #[serde(default)]
    pub input_tokens: Option<u64>,
    /// Output tokens (cumulative in streams).
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// Tokens written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Tokens read from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
}

/// One stream event's data (`type` mirrors the SSE event name).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamData {
    /// First event.
    MessageStart {
        /// The message shell with input usage.
        message: MessageResponse,
    },
    /// A block opens.
    ContentBlockStart {
        /// Block index.
        index: u32,
        /// The block's initial state.
        content_block: Block,
    },
    /// A block grows.
    ContentBlockDelta {
        /// Block index.
        index: u32,
        /// The delta.
        delta: BlockDelta,
    },
    /// A block closes.
    ContentBlockStop {
        /// Block index.
        index: u32,
    },
    /// Stop reason and cumulative output usage.
    MessageDelta {
        /// `stop_reason`.
        #[serde(default)]
        delta: MessageDeltaBody,
        /// Usage so far.
        #[serde(default)]
        usage: WireUsage,
    },
    /// Terminator.
    MessageStop,
    /// Keep-alive.
    Ping,
    /// In-band error.
    Error {
        /// `{type, message}`.
        error: Value,
    },
    /// An event this version does not model.
    #[serde(other)]
    Unknown,
}

/// `message_delta.delta`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MessageDeltaBody {
    /// Stop reason.
    #[serde(default)]
    pub stop_reason: Option<String>,
}

/// `content_block_delta.delta`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockDelta {
    /// Text.
    TextDelta {
        /// Fragment.
        text: String,
    },
    /// Tool input JSON fragment.
    InputJsonDelta {
        /// Fragment.
        partial_json: String,
    },
    /// Thinking text.
    ThinkingDelta {
        /// Fragment.
        thinking: String,
    },
    /// Thinking signature.
    SignatureDelta {
        /// The signature.
        signature: String,
    },
    /// A delta this version does not model (citations, ...).
    #[serde(other)]
    Unknown,
}
