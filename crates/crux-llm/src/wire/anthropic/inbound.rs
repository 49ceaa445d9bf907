//! The Anthropic dialect served by the gateway: inbound Messages body → core request; core response and stream
//! events → Anthropic message JSON and the named SSE event sequence.

use serde_json::{Map, Value, json};

use super::cache;
use super::types::{Block, Content, MessagesRequest, SystemPrompt};
use crate::types::{
    ChatRequest, ChatResponse, FinishReason, ImageSource, Message, Part, ResponseFormat,
    StreamEvent, Tool, ToolCall, ToolChoice, Usage,
};

/// Convert an inbound body to an unrouted core request (the router writes the target); errors are messages for
/// a 400.
pub fn to_core(body: MessagesRequest) -> Result<(ChatRequest, bool), String> {
    if body.messages.is_empty() {
        return Err("messages: at least one message is required".into());
    }
    let mut messages = Vec::new();
    // `cache_control` markers: each closes a prefix of the core messages (tools come first in Anthropic's order).
    let mut breaks = Vec::new();
    let tools_mark = body.tools.as_deref().and_then(cache::tools_marked);
    cache::close(&mut breaks, tools_mark, 0);
    match body.system {
        Some(SystemPrompt::Text(t)) => messages.push(Message::system(t)),
        // Each system block stays its own system message, in order (cross-wire targets keep the structure;
        // an Anthropic target gets them back as separate blocks).
        Some(SystemPrompt::Blocks(blocks)) => {
            for b in blocks {
                let mark = cache::marked(std::slice::from_ref(&b));
                if let Block::Text { text, .. } = b {
                    messages.push(Message::system(text));
                }
                cache::close(&mut breaks, mark, messages.len());
            }
        }
        None => {}
    }
    for m in body.messages {
        let blocks = m.content.into_blocks();
        let mark = cache::marked(&blocks);
        match m.role.as_str() {
            "user" => user_turn(blocks, &mut messages)?,
            "assistant" => messages.push(assistant_turn(blocks)),
            // `mid-conversation-system-*` (Claude Code): a system item between turns stays in place; targets that
            // allow only a leading system prompt merge it there (see each wire's request builder).
            "system" => messages.push(Message::system(
                blocks
                    .into_iter()
                    .filter_map(|b| match b {
                        Block::Text { text, .. } => Some(text),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            )),
            other => return Err(format!("messages: unexpected role '{other}'")),
        }
        cache::close(&mut breaks, mark, messages.len());
    }
    let mut req = ChatRequest::unrouted(messages);
    req.cache = breaks;
    req.tools = body
        .tools
        .unwrap_or_default()
        .into_iter()
        .map(|t| Tool {
            name: t.name,
            description: t.description,
            parameters: t.input_schema,
            strict: None,
        })
        .collect();
    req.tool_choice = body.tool_choice.as_ref().map(tool_choice).transpose()?;
    if let Some(schema) = body
        .output_config
        .as_ref()
        .and_then(|c| c.get("format"))
        .and_then(|f| f.get("schema"))
    {
        req.response_format = ResponseFormat::JsonSchema {
            name: "output".into(),
            schema: schema.clone(),
            strict: None,
        };
    }
    if body.max_tokens == 0 {
        return Err("max_tokens: must be at least 1".into());
    }
    if body.temperature.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
        return Err("temperature: must be between 0 and 1".into());
    }
    req.max_tokens = Some(body.max_tokens);
    req.temperature = body.temperature;
    req.top_p = body.top_p;
    req.stop = body.stop_sequences.unwrap_or_default();
    req.user = body
        .metadata
        .as_ref()
        .and_then(|m| m.get("user_id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    req.reasoning_effort =
        super::thinking::reasoning_effort(body.thinking.as_ref(), body.output_config.as_ref());
    req.extra = body.extra;
    if let Some(thinking) = body.thinking {
        req.extra.insert("thinking".into(), thinking);
    }
    Ok((req, body.stream.unwrap_or(false)))
}

fn user_turn(blocks: Vec<Block>, out: &mut Vec<Message>) -> Result<(), String> {
    let mut parts = Vec::new();
    for b in blocks {
        match b {
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
                ..
            } => {
                let mut text = content.map(content_text).unwrap_or_default();
                if is_error == Some(true) && !text.starts_with("Error") {
                    text = format!("Error: {text}");
                }
                out.push(Message::tool_result(
                    crate::wire::call_id::plain(&tool_use_id),
                    text,
                ));
            }
            Block::Text { text, .. } => parts.push(Part::Text { text }),
            Block::Image { source, .. } => parts.push(Part::Image {
                source: image(&source)?,
                detail: None,
            }),
            _ => {}
        }
    }
    if !parts.is_empty() {
        out.push(Message {
            content: parts,
            ..Message::user("")
        });
    }
    Ok(())
}

fn content_text(c: Content) -> String {
    match c {
        Content::Text(t) => t,
        Content::Blocks(blocks) => blocks
            .into_iter()
            .filter_map(|b| match b {
                Block::Text { text, .. } => Some(text),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn image(source: &Value) -> Result<ImageSource, String> {
    match source.get("type").and_then(Value::as_str) {
        Some("base64") => Ok(ImageSource::Base64 {
            media_type: source
                .get("media_type")
                .and_then(Value::as_str)
                .unwrap_or("image/png")
                .to_owned(),
            data: source
                .get("data")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        }),
        Some("url") => Ok(ImageSource::Url {
            url: source
                .get("url")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        }),
        _ => Err("image source must be base64 or url".into()),
    }
}

fn assistant_turn(blocks: Vec<Block>) -> Message {
    let mut m = Message {
        content: Vec::new(),
        ..Message::assistant("")
    };
    for b in blocks {
        match b {
            Block::Text { text, .. } => m.content.push(Part::Text { text }),
            Block::Thinking {
                thinking,
                signature,
            } => m.content.push(Part::Reasoning {
                text: thinking,
                signature: (!signature.is_empty()).then_some(signature),
            }),
            Block::ToolUse {
                id, name, input, ..
            } => {
                let (id, signature) = crate::wire::call_id::detach(&id);
                let mut call = ToolCall::new(id, name, super::response::args_text(&input));
                call.signature = signature;
                m.tool_calls.push(call);
            }
            _ => {}
        }
    }
    m
}

fn tool_choice(v: &Value) -> Result<ToolChoice, String> {
    match v.get("type").and_then(Value::as_str) {
        Some("auto") => Ok(ToolChoice::Auto),
        Some("any") => Ok(ToolChoice::Required),
        Some("none") => Ok(ToolChoice::None),
        Some("tool") => v
            .get("name")
            .and_then(Value::as_str)
            .map(|n| ToolChoice::Function(n.to_owned()))
            .ok_or_else(|| "tool_choice: 'tool' needs a name".into()),
        _ => Err("tool_choice: invalid type".into()),
    }
}

/// The Anthropic `stop_reason` for a core reason.
pub fn stop_reason(reason: &FinishReason) -> &str {
    match reason {
        FinishReason::Stop | FinishReason::Error => "end_turn",
        FinishReason::Length => "max_tokens",
        FinishReason::ToolCalls => "tool_use",
        FinishReason::ContentFilter => "refusal",
        FinishReason::Other(s) => s,
    }
}

/// Usage in Anthropic shape (input excludes cache reads, which are reported apart).
pub fn wire_usage(u: &Usage) -> Value {
    let cached = u.cached_prompt.unwrap_or(0);
    json!({
        "input_tokens": u.prompt.unwrap_or(0).saturating_sub(cached),
        "output_tokens": u.completion.unwrap_or(0),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    })
}

fn tool_input(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ if arguments.trim().is_empty() => json!({}),
        _ => json!({ "_raw": arguments }),
    }
}

/// A complete response in Anthropic shape; `model` is the name the caller used.
pub fn response(resp: &ChatResponse, model: &str) -> Value {
    let mut content = Vec::new();
    for p in &resp.message.content {
        match p {
            Part::Reasoning {
                text,
                signature: Some(sig),
            } => {
                content.push(json!({"type": "thinking", "thinking": text, "signature": sig}));
            }
            Part::Text { text } | Part::Refusal { text } if !text.is_empty() => {
                content.push(json!({"type": "text", "text": text}));
            }
            _ => {}
        }
    }
    for c in &resp.message.tool_calls {
        let id = crate::wire::call_id::attach(&c.id, c.signature.as_deref());
        content.push(json!({"type": "tool_use", "id": id, "name": c.name, "input": tool_input(&c.arguments)}));
    }
    json!({
        "id": if resp.id.is_empty() { "msg_crux" } else { resp.id.as_str() },
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(&resp.finish),
        "stop_sequence": null,
        "usage": wire_usage(&resp.usage),
    })
}

/// The hot-path event, serialized from borrowed fields.
#[derive(serde::Serialize)]
struct TextDeltaEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    index: u32,
    delta: TextDelta<'a>,
}

/// `{"type":"text_delta","text":…}`.
#[derive(serde::Serialize)]
struct TextDelta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

/// Which content block is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    Tool(u32),
}

/// Encodes core stream events as Anthropic's named SSE events.
#[derive(Debug)]
pub struct EventEncoder {
    model: String,
    next_block: u32,
    open: Option<Open>,
    usage: Usage,
}

impl EventEncoder {
    /// An encoder answering as `model`.
    pub fn new(model: &str) -> Self {
        Self {
            model: model.to_owned(),
            next_block: 0,
            open: None,
            usage: Usage::default(),
        }
    }

    fn event<T: serde::Serialize + ?Sized>(name: &str, data: &T, out: &mut Vec<u8>) {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        let _ = serde_json::to_writer(&mut *out, data);
        out.extend_from_slice(b"\n\n");
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if self.open.take().is_some() {
            let index = self.next_block - 1;
            Self::event(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
                out,
            );
        }
    }

    fn ensure(&mut self, kind: Open, block: Value, out: &mut Vec<u8>) -> u32 {
        if self.open != Some(kind) {
            self.close(out);
            let index = self.next_block;
            self.next_block += 1;
            self.open = Some(kind);
            Self::event(
                "content_block_start",
                &json!({"type": "content_block_start", "index": index, "content_block": block}),
                out,
            );
        }
        self.next_block - 1
    }

    fn delta(index: u32, delta: Value, out: &mut Vec<u8>) {
        Self::event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
            out,
        );
    }

    /// Append the events for one core event.
    pub fn encode(&mut self, ev: &StreamEvent, out: &mut Vec<u8>) {
        match ev {
            StreamEvent::Start { id, .. } => {
                let mut message = Map::new();
                message.insert(
                    "id".into(),
                    json!(if id.is_empty() { "msg_crux" } else { id }),
                );
                message.insert("type".into(), json!("message"));
                message.insert("role".into(), json!("assistant"));
                message.insert("model".into(), json!(self.model));
                message.insert("content".into(), json!([]));
                message.insert("stop_reason".into(), Value::Null);
                message.insert("stop_sequence".into(), Value::Null);
                message.insert(
                    "usage".into(),
                    json!({"input_tokens": 0, "output_tokens": 0}),
                );
                Self::event(
                    "message_start",
                    &json!({"type": "message_start", "message": message}),
                    out,
                );
            }
            StreamEvent::TextDelta { text } => {
                let i = self.ensure(Open::Text, json!({"type": "text", "text": ""}), out);
                let data = TextDeltaEvent {
                    kind: "content_block_delta",
                    index: i,
                    delta: TextDelta {
                        kind: "text_delta",
                        text,
                    },
                };
                Self::event("content_block_delta", &data, out);
            }
            StreamEvent::ReasoningDelta { text, signature } => {
                let i = self.ensure(
                    Open::Thinking,
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    out,
                );
                if !text.is_empty() {
                    Self::delta(i, json!({"type": "thinking_delta", "thinking": text}), out);
                }
                if let Some(sig) = signature {
                    Self::delta(i, json!({"type": "signature_delta", "signature": sig}), out);
                }
            }
            StreamEvent::ToolCallDelta {
                index,
                id,
                name,
                args_fragment,
                signature,
            } => {
                if id.is_some() || self.open != Some(Open::Tool(*index)) {
                    self.close(out);
                }
                let id = id
                    .as_deref()
                    .map(|id| crate::wire::call_id::attach(id, signature.as_deref()))
                    .unwrap_or_default();
                let block = json!({"type": "tool_use", "id": id,
                    "name": name.clone().unwrap_or_default(), "input": {}});
                let i = self.ensure(Open::Tool(*index), block, out);
                if !args_fragment.is_empty() {
                    Self::delta(
                        i,
                        json!({"type": "input_json_delta", "partial_json": args_fragment}),
                        out,
                    );
                }
            }
            StreamEvent::Usage(u) => self.usage = *u,
            StreamEvent::Finish { reason, .. } => {
                self.close(out);
                let data = json!({"type": "message_delta",
                    "delta": {"stop_reason": stop_reason(reason), "stop_sequence": null},
                    "usage": wire_usage(&self.usage)});
                Self::event("message_delta", &data, out);
                Self::event("message_stop", &json!({"type": "message_stop"}), out);
            }
        }
    }

    /// Append an in-band `error` event; the stream then ends.
    pub fn error(&mut self, error_type: &str, message: &str, out: &mut Vec<u8>) {
        Self::event(
            "error",
            &json!({"type": "error", "error": {"type": error_type, "message": message}}),
            out,
        );
    }
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
