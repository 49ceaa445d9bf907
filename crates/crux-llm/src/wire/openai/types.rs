//! Serde structs of the OpenAI Chat Completions wire (requests, responses, chunks, embeddings, models).
//!
//! Parsing is lenient (unknown fields ignored, every field defaulted); emitting skips unset fields.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `POST /chat/completions` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequest {
    /// Model id without the Crux provider prefix.
    pub model: String,
    /// Conversation.
    pub messages: Vec<WireMessage>,
    /// Function tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<WireTool>>,
    /// `"auto"`, `"none"`, `"required"` or `{"type":"function","function":{"name"}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// `{"type":"json_object"}` or `{"type":"json_schema","json_schema":{..}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    /// Token limit (compatible vendors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Token limit (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Stop sequences (string or array on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopField>,
    /// Seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Mistral's seed field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_seed: Option<i64>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Reasoning effort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// Stream the answer as SSE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Anything else, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `stop` as a string or a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StopField {
    /// One sequence.
    One(String),
    /// Several sequences.
    Many(Vec<String>),
}

/// `stream_options`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Ask for a final usage chunk.
    #[serde(default)]
    pub include_usage: bool,
}

/// One message on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireMessage {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    #[serde(default)]
    pub role: String,
    /// Text or parts; `null` for a tool-calling assistant turn.
    #[serde(default)]
    pub content: Option<WireContent>,
    /// Participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Assistant tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<WireToolCall>>,
    /// Tool result's call id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Assistant refusal text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// DeepSeek/xAI reasoning text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// OpenRouter/Groq reasoning text (input only).
    #[serde(default, skip_serializing)]
    pub reasoning: Option<String>,
}

/// Message content: a string or an array of parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum WireContent {
    /// Plain text.
    Text(String),
    /// Typed parts.
    Parts(Vec<WirePart>),
}

crate::wire::text_or_list::impl_deserialize!(
    WireContent,
    WirePart,
    Text,
    Parts,
    "a string or an array of content parts"
);

/// One content part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WirePart {
    /// Text.
    Text {
        /// The text.
        text: String,
        /// Prompt-cache breakpoint (the Anthropic marker, as OpenRouter and other gateways accept it here).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// Image by URL or data URL.
    ImageUrl {
        /// The image.
        image_url: ImageUrl,
    },
    /// A refusal.
    Refusal {
        /// Refusal text.
        refusal: String,
    },
    /// A part type this version does not model (audio, file, ...).
    #[serde(other)]
    Unknown,
}

/// `image_url` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// URL or data URL.
    pub url: String,
    /// `low`, `high` or `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A complete tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireToolCall {
    /// Call id.
    #[serde(default)]
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// Name and arguments.
    pub function: WireFunctionCall,
}

/// `function` of a tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireFunctionCall {
    /// Function name.
    #[serde(default)]
    pub name: String,
    /// Arguments as JSON text.
    #[serde(default)]
    pub arguments: String,
}

/// A function tool definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireTool {
    /// Always `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// The function.
    pub function: WireFunctionDef,
}

/// `function` of a tool definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireFunctionDef {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Structured-outputs strictness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

fn function_type() -> String {
    "function".to_owned()
}

/// Non-streamed response body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// Response id.
    #[serde(default)]
    pub id: String,
    /// Always `chat.completion`.
    #[serde(default)]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: u64,
    /// Model that answered.
    #[serde(default)]
    pub model: String,
    /// Choices (Crux reads index 0).
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Token usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<WireUsage>,
}

/// One choice of a response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Choice index.
    #[serde(default)]
    pub index: u32,
    /// The assistant message.
    #[serde(default)]
    pub message: WireMessage,
    /// Why generation stopped (open set).
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// Usage block, with the vendor extensions Crux reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireUsage {
    /// Input tokens (cached included).
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    /// Output tokens (reasoning included).
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    /// Total.
    #[serde(default)]
    pub total_tokens: Option<u64>,
    /// `cached_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptDetails>,
    /// `reasoning_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek cache hits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_hit_tokens: Option<u64>,
    /// OpenRouter cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
}

/// `prompt_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptDetails {
    /// Tokens served from cache.
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

/// `completion_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionDetails {
    /// Reasoning tokens.
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

/// One streamed `chat.completion.chunk`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionChunk {
    /// Response id.
    #[serde(default)]
    pub id: String,
    /// Always `chat.completion.chunk`.
    #[serde(default)]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: u64,
    /// Model.
    #[serde(default)]
    pub model: String,
    /// Choice deltas.
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    /// Usage (final chunk, or any chunk on some vendors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<WireUsage>,
    /// Groq's extension block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_groq: Option<XGroq>,
    /// Mid-stream error (OpenAI, OpenRouter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// Groq's `x_groq` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct XGroq {
    /// Usage on the final chunk.
    #[serde(default)]
    pub usage: Option<WireUsage>,
    /// Error when the stream was stopped early.
    #[serde(default)]
    pub error: Option<Value>,
}

/// One choice of a chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// Choice index.
    #[serde(default)]
    pub index: u32,
    /// The delta.
    #[serde(default)]
    pub delta: Delta,
    /// Finish reason on the last content chunk.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// A streamed message delta.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// Role (first chunk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Text fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Refusal fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// DeepSeek/xAI reasoning fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// OpenRouter/Groq reasoning fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Tool-call fragments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallChunk>>,
}

/// A tool-call fragment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCallChunk {
    /// Position of the call (may be missing on some vendors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Call id (first fragment; some vendors repeat it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Always `function` when present.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name and/or argument fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionChunk>,
}

/// `function` of a tool-call fragment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionChunk {
    /// Name (first fragment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Arguments fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

/// `POST /embeddings` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsRequest {
    /// Model id.
    pub model: String,
    /// Texts.
    pub input: Vec<String>,
    /// Output dimensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// `float` or `base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<String>,
}

/// `/embeddings` response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsResponse {
    /// Model that answered.
    #[serde(default)]
    pub model: String,
    /// One entry per input.
    #[serde(default)]
    pub data: Vec<EmbeddingData>,
    /// Usage.
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// One embedding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingData {
    /// Input index.
    #[serde(default)]
    pub index: usize,
    /// The vector.
    #[serde(default)]
    pub embedding: Vec<f32>,
}

/// `GET /models` response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelList {
    /// The models.
    #[serde(default)]
    pub data: Vec<WireModel>,
}

/// One listed model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireModel {
    /// Model id.
    pub id: String,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// Context window (OpenRouter, Groq, Mistral's `max_context_length`).
    #[serde(
        default,
        alias = "max_context_length",
        skip_serializing_if = "Option::is_none"
    )]
    pub context_length: Option<u64>,
}
