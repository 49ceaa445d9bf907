//! Core `ChatRequest` → Anthropic Messages body: top-level system, alternating merged turns, tool blocks.

use serde_json::{Map, Value, json};

use super::types::{Block, Content, MessagesRequest, SystemPrompt, WireMessage, WireTool};
use crate::error::Result;
use crate::providers::ProviderSpec;
use crate::types::{ChatRequest, ImageSource, Message, Part, ResponseFormat, Role, ToolChoice};

/// Headers every Anthropic request carries.
pub const HEADERS: &[(&str, &str)] = &[("anthropic-version", "2023-06-01")];

/// `max_tokens` sent when neither the request nor the known-model table gives one.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Known output limits by model-id prefix (longest prefix wins); the model registry refines this later.
const OUTPUT_LIMITS: &[(&str, u32)] = &[
    ("claude-3-haiku", 4096),
    ("claude-3-opus", 4096),
    ("claude-3-5-haiku", 8192),
    ("claude-3-5-sonnet", 8192),
    ("claude-3-7-sonnet", 64_000),
    ("claude-sonnet-4", 64_000),
    ("claude-haiku-4", 64_000),
    ("claude-opus-4", 32_000),
    ("claude-opus-4-5", 64_000),
];

/// Thinking budgets for `reasoning_effort`.
fn thinking_budget(effort: &str) -> Option<u32> {
    match effort {
        "minimal" | "low" => Some(1024),
        "medium" => Some(4096),
        "high" => Some(16_384),
        _ => None,
    }
}

/// The output limit used when the request has none.
pub fn default_max_tokens(model: &str) -> u32 {
    OUTPUT_LIMITS
        .iter()
        .filter(|(prefix, _)| model.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or(DEFAULT_MAX_TOKENS, |(_, limit)| *limit)
}

/// Build the upstream body for `req`.
pub fn build(_spec: &ProviderSpec, req: &ChatRequest, stream: bool) -> Result<MessagesRequest> {
    let mut system: Vec<Block> = req
        .messages
        .iter()
        .filter(|m| matches!(m.role, Role::System | Role::Developer))
        .map(|m| text_block(m.text_content()))
        .filter(|b| !matches!(b, Block::Text { text, .. } if text.is_empty()))
        .collect();
    let mut output_config = None;
    match &req.response_format {
        ResponseFormat::Text => {}
        ResponseFormat::JsonObject => system.push(text_block(
            "Respond with a single valid JSON object and nothing else.".to_owned(),
        )),
        ResponseFormat::JsonSchema { schema, .. } => {
            output_config = Some(json!({"format": {"type": "json_schema", "schema": schema}}));
        }
    }
    let mut max_tokens = req
        .max_tokens
        .unwrap_or_else(|| default_max_tokens(&req.model.model));
    let thinking = req
        .reasoning_effort
        .as_deref()
        .and_then(thinking_budget)
        .map(|budget| {
            max_tokens = max_tokens.max(budget + 1024);
            json!({"type": "enabled", "budget_tokens": budget})
        });
    let mut body = MessagesRequest {
        model: req.model.model.clone(),
        max_tokens,
        system: (!system.is_empty()).then_some(SystemPrompt::Blocks(system)),
        messages: turns(&req.messages),
        tools: (!req.tools.is_empty()).then(|| {
            req.tools
                .iter()
                .map(|t| WireTool {
                    name: t.name.clone(),
                    description: t.description.clone(),
                    input_schema: t.parameters.clone(),
                    cache_control: None,
                })
                .collect()
        }),
        tool_choice: req.tool_choice.as_ref().map(|c| match c {
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::None => json!({"type": "none"}),
            ToolChoice::Required => json!({"type": "any"}),
            ToolChoice::Function(name) => json!({"type": "tool", "name": name}),
        }),
        temperature: req.temperature.map(|t| t.clamp(0.0, 1.0)),
        top_p: req.top_p,
        stop_sequences: (!req.stop.is_empty()).then(|| req.stop.clone()),
        metadata: req.user.as_ref().map(|u| json!({"user_id": u})),
        thinking,
        output_config,
        stream: stream.then_some(true),
        extra: Map::new(),
    };
    for (k, v) in &req.extra {
        match k.as_str() {
            "model" | "messages" | "stream" => {}
            "max_tokens" => {
                if let Some(n) = v.as_u64().and_then(|n| u32::try_from(n).ok()) {
                    body.max_tokens = n;
                }
            }
            "thinking" => body.thinking = Some(v.clone()),
            _ => {
                body.extra.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(body)
}

fn text_block(text: String) -> Block {
    Block::Text {
        text,
        extra: Map::new(),
    }
}

/// Conversation turns: system removed, tool results as user blocks, same-role turns merged so roles alternate.
fn turns(messages: &[Message]) -> Vec<WireMessage> {
    let mut out: Vec<(String, Vec<Block>)> = Vec::new();
    for m in messages {
        let (role, blocks) = match m.role {
            Role::System | Role::Developer => continue,
            Role::User => ("user", content_blocks(&m.content)),
            Role::Tool => ("user", vec![tool_result(m)]),
            Role::Assistant => ("assistant", assistant_blocks(m)),
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last, existing)) if last == role => {
                existing.extend(blocks);
                // Tool results must lead the user turn that follows the calls (stable: order kept otherwise).
                existing.sort_by_key(|b| !matches!(b, Block::ToolResult { .. }));
            }
            _ => out.push((role.to_owned(), blocks)),
        }
    }
    out.into_iter()
        .map(|(role, blocks)| WireMessage {
            role,
            content: Content::Blocks(blocks),
        })
        .collect()
}

fn tool_result(m: &Message) -> Block {
    let text = m.text_content();
    Block::ToolResult {
        tool_use_id: m.tool_call_id.clone().unwrap_or_default(),
        content: (!text.is_empty()).then_some(Content::Text(text)),
        is_error: None,
        cache_control: None,
    }
}

fn content_blocks(parts: &[Part]) -> Vec<Block> {
    parts
        .iter()
        .filter_map(|p| match p {
            Part::Text { text } if !text.is_empty() => Some(text_block(text.clone())),
            Part::Refusal { text } if !text.is_empty() => Some(text_block(text.clone())),
            Part::Image { source, .. } => Some(Block::Image {
                source: image_source(source),
                cache_control: None,
            }),
            _ => None,
        })
        .collect()
}

fn assistant_blocks(m: &Message) -> Vec<Block> {
    let mut blocks = Vec::new();
    for p in &m.content {
        match p {
            // Thinking blocks are only valid with their signature; unsigned reasoning (another vendor's) is dropped.
            Part::Reasoning {
                text,
                signature: Some(sig),
            } => blocks.push(Block::Thinking {
                thinking: text.clone(),
                signature: sig.clone(),
            }),
            Part::Reasoning { .. } => {}
            other => blocks.extend(content_blocks(std::slice::from_ref(other))),
        }
    }
    blocks.extend(m.tool_calls.iter().map(|c| Block::ToolUse {
        id: c.id.clone(),
        name: c.name.clone(),
        input: match serde_json::from_str::<Value>(&c.arguments) {
            Ok(v @ Value::Object(_)) => v,
            Ok(other) => json!({ "value": other }),
            Err(_) if c.arguments.trim().is_empty() => json!({}),
            Err(_) => json!({ "_raw": c.arguments }),
        },
        cache_control: None,
    }));
    blocks
}

fn image_source(source: &ImageSource) -> Value {
    match source {
        ImageSource::Base64 { media_type, data } => {
            json!({"type": "base64", "media_type": media_type, "data": data})
        }
        ImageSource::Url { url } => match url
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(";base64,"))
        {
            Some((media_type, data)) => {
                json!({"type": "base64", "media_type": media_type, "data": data})
            }
            None => json!({"type": "url", "url": url}),
        },
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
