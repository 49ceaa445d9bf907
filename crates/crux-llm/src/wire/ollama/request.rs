//! Core `ChatRequest` → Ollama `/api/chat` body (messages, tools, `format`, `options`, explicit `stream`).

use serde_json::{Map, Value, json};

use super::types::{
    ChatBody, OllamaFunctionCall, OllamaFunctionDef, OllamaMessage, OllamaTool, OllamaToolCall,
};
use crate::error::{Error, Result};
use crate::providers::{ProviderId, ProviderSpec};
use crate::types::{ChatRequest, ImageSource, Message, Part, ResponseFormat, Role};
use crate::wire::gemini::request::{CallNames, args_object, parse_data_url};

/// Build the `/api/chat` body; `stream` is always sent because Ollama streams by default.
pub fn build(spec: &ProviderSpec, req: &ChatRequest, stream: bool) -> Result<ChatBody> {
    let p = spec.provider;
    let mut calls = CallNames::default();
    let mut messages = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        if m.role == Role::Assistant {
            calls.record(&m.tool_calls);
        }
        messages.push(message(p, m, &calls)?);
    }
    let mut body = ChatBody {
        model: req.model.model.clone(),
        messages,
        tools: (!req.tools.is_empty()).then(|| {
            req.tools
                .iter()
                .map(|t| OllamaTool {
                    kind: "function".to_owned(),
                    function: OllamaFunctionDef {
                        name: t.name.clone(),
                        description: t.description.clone(),
                        parameters: t.parameters.clone(),
                    },
                })
                .collect()
        }),
        format: match &req.response_format {
            ResponseFormat::Text => None,
            ResponseFormat::JsonObject => Some(json!("json")),
            ResponseFormat::JsonSchema { schema, .. } => Some(schema.clone()),
        },
        options: options(req),
        stream,
        extra: Map::new(),
    };
    for (key, value) in &req.extra {
        match (key.as_str(), value) {
            ("model" | "messages" | "stream", _) => {}
            // Caller options are merged into the built ones (the caller's values win).
            ("options", Value::Object(extra)) => body
                .options
                .extend(extra.iter().map(|(k, v)| (k.clone(), v.clone()))),
            ("tools", _) => {
                body.tools = None;
                body.extra.insert(key.clone(), value.clone());
            }
            ("format", _) => {
                body.format = None;
                body.extra.insert(key.clone(), value.clone());
            }
            _ => {
                body.extra.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(body)
}

fn options(req: &ChatRequest) -> Map<String, Value> {
    let mut o = Map::new();
    if let Some(n) = req.max_tokens {
        o.insert("num_predict".into(), json!(n));
    }
    if let Some(t) = req.temperature {
        o.insert("temperature".into(), json!(t));
    }
    if let Some(t) = req.top_p {
        o.insert("top_p".into(), json!(t));
    }
    if !req.stop.is_empty() {
        o.insert("stop".into(), json!(req.stop));
    }
    if let Some(s) = req.seed {
        o.insert("seed".into(), json!(s));
    }
    o
}

fn message(p: ProviderId, m: &Message, calls: &CallNames<'_>) -> Result<OllamaMessage> {
    let role = match m.role {
        Role::System | Role::Developer => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    let mut images = Vec::new();
    for part in &m.content {
        if let Part::Image { source, .. } = part {
            images.push(image(p, source)?);
        }
    }
    let thinking: String = m
        .content
        .iter()
        .filter_map(|part| match part {
            Part::Reasoning { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let tool_calls: Vec<OllamaToolCall> = m
        .tool_calls
        .iter()
        .map(|c| OllamaToolCall {
            id: None,
            function: OllamaFunctionCall {
                name: c.name.clone(),
                arguments: args_object(&c.arguments),
            },
        })
        .collect();
    Ok(OllamaMessage {
        role: role.to_owned(),
        content: m.text_content(),
        thinking: (m.role == Role::Assistant && !thinking.is_empty()).then_some(thinking),
        images: (!images.is_empty()).then_some(images),
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        tool_name: (m.role == Role::Tool)
            .then(|| calls.name_for(m).map(str::to_owned))
            .flatten(),
    })
}

/// Raw base64 for `images`: inline bytes as they are, data URLs without their prefix; remote URLs are unsupported.
fn image(p: ProviderId, source: &ImageSource) -> Result<String> {
    match source {
        ImageSource::Base64 { data, .. } => Ok(data.clone()),
        ImageSource::Url { url } => match parse_data_url(url) {
            Some((_, data)) => Ok(data.to_owned()),
            None => Err(Error::Unsupported(format!(
                "{p} accepts only inline base64 images, not image URLs"
            ))),
        },
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
