//! Core `ChatRequest` → Gemini `generateContent` body (contents, system instruction, tools, generation config).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::schema::sanitize;
use super::types::{
    Blob, Content, FileData, FunctionCall, FunctionCallingConfig, FunctionDeclaration,
    FunctionResponse, GenerateContentRequest, GenerationConfig, ToolConfig, WirePart, WireTool,
};
use crate::error::{Error, Result};
use crate::providers::{ProviderId, ProviderSpec};
use crate::types::{
    ChatRequest, ImageSource, Message, Part, ResponseFormat, Role, Tool, ToolCall, ToolChoice,
};

/// Gemini rejects more stop sequences than this.
pub const MAX_STOP_SEQUENCES: usize = 5;

/// Path of a generate call (the API key goes in the `x-goog-api-key` header, never in the URL).
pub fn path(model: &str, stream: bool) -> String {
    let model = bare_model(model);
    if stream {
        format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("/v1beta/models/{model}:generateContent")
    }
}

/// The model id without a `models/` prefix.
pub(crate) fn bare_model(model: &str) -> &str {
    model.strip_prefix("models/").unwrap_or(model)
}

/// Build the `generateContent` body for `req`.
pub fn build(spec: &ProviderSpec, req: &ChatRequest) -> Result<GenerateContentRequest> {
    build_with_bounds(spec, req).map(|(body, _)| body)
}

/// [`build`], with the number of `contents` entries written after each of `req.messages` (so a cache breakpoint
/// after message *i* covers `contents[..bounds[i]]`).
pub(crate) fn build_with_bounds(
    spec: &ProviderSpec,
    req: &ChatRequest,
) -> Result<(GenerateContentRequest, Vec<usize>)> {
    let p = spec.provider;
    if req.stop.len() > MAX_STOP_SEQUENCES {
        return Err(Error::Unsupported(format!(
            "{p} accepts at most {MAX_STOP_SEQUENCES} stop sequences, got {}",
            req.stop.len()
        )));
    }
    let mut system = Vec::new();
    let mut contents: Vec<Content> = Vec::new();
    let mut calls = CallNames::default();
    let mut bounds = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        match m.role {
            Role::System | Role::Developer => system.push(WirePart::text(m.text_content())),
            Role::User => contents.push(turn("user", user_parts(p, &m.content)?)),
            Role::Assistant => {
                calls.record(&m.tool_calls);
                contents.push(turn("model", model_parts(p, m)?));
            }
            Role::Tool => {
                let part = function_response(p, m, &calls)?;
                // Answers to parallel calls go back together in one `user` turn.
                match contents.last_mut() {
                    Some(last) if is_function_response_turn(last) => last.parts.push(part),
                    _ => contents.push(turn("user", vec![part])),
                }
            }
        }
        bounds.push(contents.len());
    }
    let mut body = GenerateContentRequest {
        contents,
        system_instruction: (!system.is_empty()).then_some(Content {
            role: None,
            parts: system,
        }),
        tools: (!req.tools.is_empty()).then(|| {
            vec![WireTool {
                function_declarations: req.tools.iter().map(declaration).collect(),
            }]
        }),
        tool_config: req.tool_choice.as_ref().map(tool_config),
        generation_config: generation_config(req),
        extra: Map::new(),
    };
    for (key, value) in &req.extra {
        match key.as_str() {
            "contents" => {}
            "generationConfig" => {
                body.generation_config =
                    Some(merge_generation_config(p, body.generation_config, value)?)
            }
            other => {
                match other {
                    "systemInstruction" => body.system_instruction = None,
                    "tools" => body.tools = None,
                    "toolConfig" => body.tool_config = None,
                    _ => {}
                }
                body.extra.insert(key.clone(), value.clone());
            }
        }
    }
    Ok((body, bounds))
}

fn turn(role: &str, parts: Vec<WirePart>) -> Content {
    // Gemini rejects a turn without parts; an empty text part stands for an empty message.
    let parts = if parts.is_empty() {
        vec![WirePart::text("")]
    } else {
        parts
    };
    Content {
        role: Some(role.to_owned()),
        parts,
    }
}

fn is_function_response_turn(c: &Content) -> bool {
    c.role.as_deref() == Some("user") && c.parts.iter().all(|p| p.function_response.is_some())
}

fn user_parts(p: ProviderId, content: &[Part]) -> Result<Vec<WirePart>> {
    let mut parts = Vec::new();
    for part in content {
        match part {
            Part::Text { text } | Part::Refusal { text } => {
                parts.push(WirePart::text(text.clone()))
            }
            Part::Image { source, .. } => parts.push(image(p, source)?),
            Part::Reasoning { .. } => {}
        }
    }
    Ok(parts)
}

/// An assistant turn: text parts (a reasoning signature rides on the text that follows it), then function calls.
fn model_parts(p: ProviderId, m: &Message) -> Result<Vec<WirePart>> {
    let mut parts = Vec::new();
    let mut pending: Option<String> = None;
    for part in &m.content {
        match part {
            Part::Reasoning {
                signature: Some(sig),
                ..
            } => {
                if let Some(previous) = pending.replace(sig.clone()) {
                    parts.push(signed_text(String::new(), Some(previous)));
                }
            }
            Part::Reasoning {
                signature: None, ..
            } => {}
            Part::Text { text } | Part::Refusal { text } => {
                parts.push(signed_text(text.clone(), pending.take()))
            }
            Part::Image { source, .. } => parts.push(image(p, source)?),
        }
    }
    if let Some(sig) = pending {
        parts.push(signed_text(String::new(), Some(sig)));
    }
    parts.extend(m.tool_calls.iter().map(function_call));
    Ok(parts)
}

fn signed_text(text: String, signature: Option<String>) -> WirePart {
    WirePart {
        thought_signature: signature,
        ..WirePart::text(text)
    }
}

fn function_call(c: &ToolCall) -> WirePart {
    WirePart {
        function_call: Some(FunctionCall {
            id: None,
            name: c.name.clone(),
            args: args_object(&c.arguments),
        }),
        thought_signature: c.signature.clone(),
        ..WirePart::default()
    }
}

/// Tool-call arguments as the JSON object Gemini and Ollama require: the parsed text when it is an object, `{}` for
/// empty text, else `{"_raw": text}` so nothing the model produced is lost.
pub(crate) fn args_object(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({ "_raw": arguments }),
    }
}

/// Function names of the assistant tool calls seen so far, by call id (later turns win on reused ids).
#[derive(Debug, Default)]
pub(crate) struct CallNames<'a> {
    names: HashMap<&'a str, &'a str>,
}

impl<'a> CallNames<'a> {
    /// Remember the calls of one assistant turn.
    pub(crate) fn record(&mut self, calls: &'a [ToolCall]) {
        for c in calls {
            self.names.insert(c.id.as_str(), c.name.as_str());
        }
    }

    /// The function a tool result answers: by its call id, else the message's own `name`.
    pub(crate) fn name_for(&self, m: &'a Message) -> Option<&'a str> {
        m.tool_call_id
            .as_deref()
            .and_then(|id| self.names.get(id).copied())
            .or(m.name.as_deref())
    }
}

fn function_response(p: ProviderId, m: &Message, calls: &CallNames<'_>) -> Result<WirePart> {
    let Some(name) = calls.name_for(m) else {
        return Err(Error::Unsupported(format!(
            "{p}: tool result for call {:?} answers no earlier tool call",
            m.tool_call_id.as_deref().unwrap_or_default()
        )));
    };
    let text = m.text_content();
    let response = match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(other) => json!({ "result": other }),
        Err(_) => json!({ "result": text }),
    };
    Ok(WirePart {
        function_response: Some(FunctionResponse {
            id: None,
            name: name.to_owned(),
            response,
        }),
        ..WirePart::default()
    })
}

/// Split a `data:<mime>;base64,<data>` URL into its MIME type and base64 payload.
pub(crate) fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let (meta, data) = url.strip_prefix("data:")?.split_once(',')?;
    let mime = meta.strip_suffix(";base64")?;
    Some((mime, data))
}

fn image(p: ProviderId, source: &ImageSource) -> Result<WirePart> {
    let (inline_data, file_data) = match source {
        ImageSource::Base64 { media_type, data } => (
            Some(Blob {
                mime_type: media_type.clone(),
                data: data.clone(),
            }),
            None,
        ),
        ImageSource::Url { url } if url.starts_with("data:") => {
            let Some((mime, data)) = parse_data_url(url) else {
                return Err(Error::Unsupported(format!(
                    "{p}: only base64 data URLs are supported"
                )));
            };
            (
                Some(Blob {
                    mime_type: mime.to_owned(),
                    data: data.to_owned(),
                }),
                None,
            )
        }
        ImageSource::Url { url } => (
            None,
            Some(FileData {
                mime_type: mime_from_extension(url).map(str::to_owned),
                file_uri: url.clone(),
            }),
        ),
    };
    Ok(WirePart {
        inline_data,
        file_data,
        ..WirePart::default()
    })
}

fn mime_from_extension(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        _ => return None,
    })
}

fn declaration(t: &Tool) -> FunctionDeclaration {
    let schema = sanitize(&t.parameters);
    // A function without arguments is declared without `parameters` (an empty OBJECT is rejected).
    let has_properties = schema
        .get("properties")
        .is_some_and(|p| p.as_object().is_some_and(|p| !p.is_empty()));
    let is_object = schema
        .get("type")
        .and_then(Value::as_str)
        .is_none_or(|t| t.eq_ignore_ascii_case("object"));
    FunctionDeclaration {
        name: t.name.clone(),
        description: t.description.clone(),
        parameters: (has_properties || !is_object).then_some(schema),
    }
}

fn tool_config(choice: &ToolChoice) -> ToolConfig {
    let (mode, allowed) = match choice {
        ToolChoice::Auto => ("AUTO", None),
        ToolChoice::None => ("NONE", None),
        ToolChoice::Required => ("ANY", None),
        ToolChoice::Function(name) => ("ANY", Some(vec![name.clone()])),
    };
    ToolConfig {
        function_calling_config: FunctionCallingConfig {
            mode: mode.to_owned(),
            allowed_function_names: allowed,
        },
    }
}

fn generation_config(req: &ChatRequest) -> Option<GenerationConfig> {
    let (mime, schema) = match &req.response_format {
        ResponseFormat::Text => (None, None),
        ResponseFormat::JsonObject => (Some("application/json".to_owned()), None),
        ResponseFormat::JsonSchema { schema, .. } => {
            (Some("application/json".to_owned()), Some(sanitize(schema)))
        }
    };
    let config = GenerationConfig {
        max_output_tokens: req.max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        stop_sequences: (!req.stop.is_empty()).then(|| req.stop.clone()),
        seed: req.seed,
        response_mime_type: mime,
        response_schema: schema,
        extra: Map::new(),
    };
    (config != GenerationConfig::default()).then_some(config)
}

/// Lay the caller's `extra.generationConfig` over the built one (the caller's fields win; unknown ones such as
/// `thinkingConfig` pass through).
fn merge_generation_config(
    p: ProviderId,
    built: Option<GenerationConfig>,
    overlay: &Value,
) -> Result<GenerationConfig> {
    let Value::Object(overlay) = overlay else {
        return Err(Error::Unsupported(format!(
            "{p}: extra.generationConfig must be an object"
        )));
    };
    let mut merged = match serde_json::to_value(built.unwrap_or_default()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    merged.extend(overlay.iter().map(|(k, v)| (k.clone(), v.clone())));
    serde_json::from_value(Value::Object(merged))
        .map_err(|e| Error::Unsupported(format!("{p}: invalid extra.generationConfig ({e})")))
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
