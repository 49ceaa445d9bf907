//! Serde structs of Ollama's native API (`/api/chat`, `/api/embed`, `/api/tags`).
//!
//! One set of types serves both directions: parsing is lenient (unknown fields ignored, every field defaulted),
//! emitting skips unset fields.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Read `null` as the type's default.
fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `POST /api/chat` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatBody {
    /// Model name (`name[:tag]`).
    #[serde(default)]
    pub model: String,
    /// Conversation.
    #[serde(default, deserialize_with = "null_as_default")]
    pub messages: Vec<OllamaMessage>,
    /// Function tools (OpenAI format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<OllamaTool>>,
    /// `"json"` or a JSON Schema object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    /// Model options (`num_predict`, `temperature`, `top_p`, `stop`, `seed`, `num_ctx`, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub options: Map<String, Value>,
    /// Always sent: Ollama streams unless told `false`.
    #[serde(default)]
    pub stream: bool,
    /// Anything else (`keep_alive`, `think`, ...), passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One message (request history or response).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OllamaMessage {
    /// `system`, `user`, `assistant` or `tool`.
    #[serde(default)]
    pub role: String,
    /// Text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: String,
    /// Thinking text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    /// Base64 images (no `data:` prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<String>>,
    /// Assistant tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<OllamaToolCall>>,
    /// On a tool result: the function it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
}

/// A tool call (arguments are an object, not a string).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OllamaToolCall {
    /// Call id (recent Ollama versions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name and arguments.
    #[serde(default)]
    pub function: OllamaFunctionCall,
}

/// `function` of a tool call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OllamaFunctionCall {
    /// Function name.
    #[serde(default)]
    pub name: String,
    /// Arguments object.
    #[serde(default)]
    pub arguments: Value,
}

/// A function tool definition (OpenAI format).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OllamaTool {
    /// Always `function`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The function.
    #[serde(default)]
    pub function: OllamaFunctionDef,
}

/// `function` of a tool definition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OllamaFunctionDef {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON schema of the arguments.
    #[serde(default)]
    pub parameters: Value,
}

/// A `/api/chat` response, or one NDJSON line of a stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// Model.
    #[serde(default)]
    pub model: String,
    /// RFC 3339 timestamp.
    #[serde(default)]
    pub created_at: String,
    /// The (partial) assistant message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<OllamaMessage>,
    /// Last object of the answer.
    #[serde(default)]
    pub done: bool,
    /// `stop`, `length`, `load`, `unload` (open set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_reason: Option<String>,
    /// Prompt tokens evaluated (omitted when zero, e.g. on a full cache hit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_count: Option<u64>,
    /// Output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_count: Option<u64>,
    /// Error text (a mid-stream failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// `POST /api/embed` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedBody {
    /// Model name.
    #[serde(default)]
    pub model: String,
    /// Texts to embed.
    #[serde(default)]
    pub input: Vec<String>,
    /// Output size, where the model supports shortening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
}

/// `POST /api/embed` response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedResult {
    /// Model.
    #[serde(default)]
    pub model: String,
    /// One vector per input.
    #[serde(default, deserialize_with = "null_as_default")]
    pub embeddings: Vec<Vec<f32>>,
    /// Input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_count: Option<u64>,
}

/// `GET /api/tags` response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TagList {
    /// Local models.
    #[serde(default, deserialize_with = "null_as_default")]
    pub models: Vec<Tag>,
}

/// One local model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// `name:tag`.
    #[serde(default)]
    pub name: String,
    /// Same as `name` on recent versions.
    #[serde(default)]
    pub model: String,
}
