//! Core `ChatRequest` → OpenAI Chat Completions body, applying each compatible vendor's quirks.

use serde_json::{Value, json};

use super::types::{
    ChatCompletionRequest, EmbeddingsRequest, ImageUrl, StopField, StreamOptions, WireContent,
    WireFunctionCall, WireFunctionDef, WireMessage, WirePart, WireTool, WireToolCall,
};
use crate::providers::{MaxTokensField, ProviderId, ProviderSpec};
use crate::types::{ChatRequest, EmbedRequest, Message, Part, ResponseFormat, Role, ToolChoice};

/// Build the upstream body for `req` as `spec` expects it.
pub fn build(spec: &ProviderSpec, req: &ChatRequest, stream: bool) -> ChatCompletionRequest {
    let q = spec.quirks;
    let messages = req.messages.iter().map(|m| message(spec, m)).collect();
    let (max_tokens, max_completion_tokens) = match q.max_tokens_field {
        MaxTokensField::MaxTokens => (req.max_tokens, None),
        MaxTokensField::MaxCompletionTokens => (None, req.max_tokens),
    };
    let (seed, random_seed) = if q.random_seed {
        (None, req.seed)
    } else {
        (req.seed, None)
    };
    let mut body = ChatCompletionRequest {
        model: req.model.model.clone(),
        messages,
        tools: (!req.tools.is_empty()).then(|| {
            req.tools
                .iter()
                .map(|t| WireTool {
                    kind: "function".to_owned(),
                    function: WireFunctionDef {
                        name: t.name.clone(),
                        description: t.description.clone(),
                        parameters: Some(t.parameters.clone()),
                        strict: t.strict,
                    },
                })
                .collect()
        }),
        tool_choice: req.tool_choice.as_ref().map(tool_choice),
        response_format: response_format(&req.response_format),
        max_tokens,
        max_completion_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        stop: (!req.stop.is_empty()).then(|| StopField::Many(req.stop.clone())),
        seed,
        random_seed,
        user: req.user.clone(),
        reasoning_effort: req.reasoning_effort.clone(),
        stream: stream.then_some(true),
        stream_options: (stream && !req.omit_stream_usage).then_some(StreamOptions {
            include_usage: true,
        }),
        extra: Default::default(),
    };
    for (k, v) in &req.extra {
        if !matches!(k.as_str(), "model" | "messages" | "stream") {
            body.extra.insert(k.clone(), v.clone());
        }
    }
    body
}

/// Build an embeddings body.
pub fn build_embeddings(req: &EmbedRequest) -> EmbeddingsRequest {
    EmbeddingsRequest {
        model: req.model.model.clone(),
        input: req.input.clone(),
        dimensions: req.dimensions,
        encoding_format: Some("float".to_owned()),
    }
}

fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Function(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

fn response_format(format: &ResponseFormat) -> Option<Value> {
    match format {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(json!({"type": "json_object"})),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => {
            let mut js = json!({"name": name, "schema": schema});
            if let Some(strict) = strict {
                js["strict"] = json!(strict);
            }
            Some(json!({"type": "json_schema", "json_schema": js}))
        }
    }
}

fn message(spec: &ProviderSpec, m: &Message) -> WireMessage {
    let q = spec.quirks;
    let role = match m.role {
        Role::Developer if q.no_developer_role => Role::System,
        r => r,
    };
    let tool_calls: Vec<WireToolCall> = m
        .tool_calls
        .iter()
        .map(|c| WireToolCall {
            id: tool_id(spec, &c.id),
            kind: "function".to_owned(),
            function: WireFunctionCall {
                name: c.name.clone(),
                arguments: c.arguments.clone(),
            },
        })
        .collect();
    let reasoning: Option<String> = m
        .content
        .iter()
        .filter_map(|p| match p {
            Part::Reasoning { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .next()
        .map(str::to_owned);
    // DeepSeek thinking models require reasoning_content on tool-calling assistant turns.
    let reasoning_content = (spec.provider == ProviderId::DeepSeek && !tool_calls.is_empty())
        .then(|| reasoning.unwrap_or_default());
    let content = content(&m.content);
    let content = if content.is_none() && tool_calls.is_empty() {
        Some(WireContent::Text(String::new()))
    } else {
        content
    };
    WireMessage {
        role: role.as_str().to_owned(),
        content,
        name: if q.no_message_name {
            None
        } else {
            m.name.clone()
        },
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        tool_call_id: m.tool_call_id.as_deref().map(|id| tool_id(spec, id)),
        refusal: None,
        reasoning_content,
        reasoning: None,
    }
}

/// Content as a plain string when it is one text part (byte for byte), else typed parts.
fn content(parts: &[Part]) -> Option<WireContent> {
    let visible: Vec<&Part> = parts
        .iter()
        .filter(|p| !matches!(p, Part::Reasoning { .. }))
        .collect();
    match visible.as_slice() {
        [] => None,
        [Part::Text { text }] => Some(WireContent::Text(text.clone())),
        many => Some(WireContent::Parts(
            many.iter()
                .filter_map(|p| match p {
                    Part::Text { text } => Some(WirePart::Text {
                        text: text.clone(),
                        cache_control: None,
                    }),
                    Part::Image { source, detail } => Some(WirePart::ImageUrl {
                        image_url: ImageUrl {
                            url: source.to_url(),
                            detail: detail.clone(),
                        },
                    }),
                    Part::Refusal { text } => Some(WirePart::Text {
                        text: text.clone(),
                        cache_control: None,
                    }),
                    Part::Reasoning { .. } => None,
                })
                .collect(),
        )),
    }
}

/// Tool-call ids as the provider accepts them (Mistral: exactly nine alphanumerics).
fn tool_id(spec: &ProviderSpec, id: &str) -> String {
    if spec.quirks.nine_char_tool_ids {
        nine_char_id(id)
    } else {
        id.to_owned()
    }
}

/// Map any id to a 9-character alphanumeric id, deterministically; valid ids are kept.
pub fn nine_char_id(id: &str) -> String {
    if id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return id.to_owned();
    }
    const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    // FNV-1a, 64-bit: stable across runs and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (0..9)
        .map(|_| {
            let c = ALPHABET[(hash % 62) as usize];
            hash /= 62;
            char::from(c)
        })
        .collect()
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
