//! Core `ChatRequest` → Converse body: `system` blocks, alternating user/assistant turns of content blocks (tool
//! results as user `toolResult` blocks), `inferenceConfig`, `toolConfig`, cache points from the request's cache
//! breakpoints, and the fields Converse does not model in `additionalModelRequestFields`.

use serde_json::{Map, Value, json};

use super::JSON_TOOL;
use crate::error::{Error, Result};
use crate::providers::ProviderSpec;
use crate::types::{ChatRequest, ImageSource, Message, Part, ResponseFormat, Role, ToolChoice};

/// Top-level Converse fields a request's `extra` may set directly; any other extra field is for the model and goes
/// into `additionalModelRequestFields` (e.g. Anthropic's `top_k`).
const TOP_LEVEL: &[&str] = &[
    "guardrailConfig",
    "additionalModelResponseFieldPaths",
    "promptVariables",
    "requestMetadata",
    "performanceConfig",
];

/// Build the Converse body for `req`.
pub fn build(spec: &ProviderSpec, req: &ChatRequest) -> Result<Value> {
    let mut body = Map::new();
    let mut system: Vec<Value> = req
        .messages
        .iter()
        .filter(|m| matches!(m.role, Role::System | Role::Developer))
        .map(Message::text_content)
        .filter(|t| !t.trim().is_empty())
        .map(|text| json!({ "text": text }))
        .collect();
    if req.response_format == ResponseFormat::JsonObject {
        system.push(json!({"text": "Respond with a single valid JSON object and nothing else."}));
    }
    let (mut messages, owner) = turns(spec, &req.messages)?;
    let mut tools = tool_specs(req, &messages);
    for bp in &req.cache {
        let point = json!({"cachePoint": {"type": "default"}});
        let at = bp
            .messages
            .checked_sub(1)
            .and_then(|i| owner.get(i).copied().flatten());
        match at {
            Some(w) => push_block(&mut messages[w], point),
            None if !system.is_empty() => system.push(point),
            None if !tools.is_empty() => tools.push(point),
            None => {}
        }
    }
    body.insert("messages".into(), Value::Array(messages));
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    let mut inference = Map::new();
    if let Some(n) = req.max_tokens {
        inference.insert("maxTokens".into(), json!(n));
    }
    if let Some(t) = req.temperature {
        inference.insert("temperature".into(), json!(t.clamp(0.0, 1.0)));
    }
    if let Some(p) = req.top_p {
        inference.insert("topP".into(), json!(p));
    }
    if !req.stop.is_empty() {
        inference.insert("stopSequences".into(), json!(req.stop));
    }
    let mut model_fields = Map::new();
    if let Some(budget) = req.reasoning_effort.as_deref().and_then(thinking_budget)
        && req.model.model.contains("anthropic.")
    {
        model_fields.insert(
            "thinking".into(),
            json!({"type": "enabled", "budget_tokens": budget}),
        );
        let max = req.max_tokens.unwrap_or(0).max(budget + 1024);
        inference.insert("maxTokens".into(), json!(max));
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if !tools.is_empty() {
        let mut config = Map::new();
        config.insert("tools".into(), Value::Array(tools));
        let choice = match (&req.response_format, &req.tool_choice) {
            (ResponseFormat::JsonSchema { .. }, _) => Some(json!({"tool": {"name": JSON_TOOL}})),
            (_, Some(ToolChoice::Auto)) => Some(json!({"auto": {}})),
            (_, Some(ToolChoice::Required)) => Some(json!({"any": {}})),
            (_, Some(ToolChoice::Function(name))) => Some(json!({"tool": {"name": name}})),
            // Converse has no "none": the tools stay declared (the history may use them), the choice is the model's.
            (_, Some(ToolChoice::None) | None) => None,
        };
        if let Some(choice) = choice {
            config.insert("toolChoice".into(), choice);
        }
        body.insert("toolConfig".into(), Value::Object(config));
    }
    for (k, v) in &req.extra {
        match k.as_str() {
            "model" | "messages" | "stream" | "modelId" => {}
            "additionalModelRequestFields" => {
                if let Value::Object(fields) = v {
                    model_fields.extend(fields.clone());
                }
            }
            "inferenceConfig" | "toolConfig" | "system" => merge(&mut body, k, v),
            key if TOP_LEVEL.contains(&key) => {
                body.insert(k.clone(), v.clone());
            }
            _ => {
                model_fields.insert(k.clone(), v.clone());
            }
        }
    }
    if !model_fields.is_empty() {
        body.insert(
            "additionalModelRequestFields".into(),
            Value::Object(model_fields),
        );
    }
    Ok(Value::Object(body))
}

/// An extra `inferenceConfig`/`toolConfig` object merges into the one built; anything else replaces it.
fn merge(body: &mut Map<String, Value>, key: &str, v: &Value) {
    match (body.get_mut(key), v) {
        (Some(Value::Object(built)), Value::Object(given)) => built.extend(given.clone()),
        _ => {
            body.insert(key.to_owned(), v.clone());
        }
    }
}

/// Thinking budgets for `reasoning_effort` (Anthropic models on Bedrock).
fn thinking_budget(effort: &str) -> Option<u32> {
    match effort {
        "minimal" | "low" => Some(1024),
        "medium" => Some(4096),
        "high" => Some(16_384),
        _ => None,
    }
}

fn push_block(message: &mut Value, block: Value) {
    if let Some(Value::Array(content)) = message.get_mut("content") {
        content.push(block);
    }
}

/// The turns, system removed and same-role neighbours merged (Converse requires alternation), plus for each core
/// message the index of the turn that holds it.
fn turns(spec: &ProviderSpec, messages: &[Message]) -> Result<(Vec<Value>, Vec<Option<usize>>)> {
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    let mut owner = Vec::with_capacity(messages.len());
    for m in messages {
        let (role, blocks) = match m.role {
            Role::System | Role::Developer => {
                owner.push(None);
                continue;
            }
            Role::User => ("user", content_blocks(spec, &m.content)?),
            Role::Tool => ("user", vec![tool_result(m)]),
            Role::Assistant => ("assistant", assistant_blocks(spec, m)?),
        };
        if blocks.is_empty() {
            owner.push(out.len().checked_sub(1));
            continue;
        }
        match out.last_mut() {
            Some((last, existing)) if *last == role => {
                existing.extend(blocks);
                // Tool results lead the user turn that answers the calls (order otherwise kept).
                existing.sort_by_key(|b| b.get("toolResult").is_none());
            }
            _ => out.push((role, blocks)),
        }
        owner.push(Some(out.len() - 1));
    }
    let turns = out
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    Ok((turns, owner))
}

fn tool_result(m: &Message) -> Value {
    let text = m.text_content();
    let content = if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({ "text": text })]
    };
    json!({"toolResult": {
        "toolUseId": m.tool_call_id.clone().unwrap_or_default(),
        "content": content,
    }})
}

fn content_blocks(spec: &ProviderSpec, parts: &[Part]) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for p in parts {
        match p {
            Part::Text { text } | Part::Refusal { text } if !text.trim().is_empty() => {
                out.push(json!({ "text": text }));
            }
            Part::Image { source, .. } => out.push(image(spec, source)?),
            _ => {}
        }
    }
    Ok(out)
}

fn assistant_blocks(spec: &ProviderSpec, m: &Message) -> Result<Vec<Value>> {
    let mut blocks = Vec::new();
    for p in &m.content {
        match p {
            // Reasoning is only replayable with its signature; another vendor's unsigned reasoning is dropped.
            Part::Reasoning {
                text,
                signature: Some(sig),
            } => blocks.push(json!({"reasoningContent": {
                "reasoningText": {"text": text, "signature": sig}
            }})),
            Part::Reasoning { .. } => {}
            other => blocks.extend(content_blocks(spec, std::slice::from_ref(other))?),
        }
    }
    blocks.extend(m.tool_calls.iter().map(|c| {
        json!({"toolUse": {
            "toolUseId": c.id,
            "name": c.name,
            "input": crate::wire::gemini::request::args_object(&c.arguments),
        }})
    }));
    Ok(blocks)
}

/// An image block: Converse takes inline bytes only (`png`, `jpeg`, `gif`, `webp`).
fn image(spec: &ProviderSpec, source: &ImageSource) -> Result<Value> {
    let (media_type, data) = match source {
        ImageSource::Base64 { media_type, data } => (media_type.as_str(), data.as_str()),
        ImageSource::Url { url } => url
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(";base64,"))
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "{}: Bedrock takes images as inline bytes (a data: URL or base64), not by URL",
                    spec.id
                ))
            })?,
    };
    let format = media_type.strip_prefix("image/").unwrap_or(media_type);
    let format = if format == "jpg" { "jpeg" } else { format };
    Ok(json!({"image": {"format": format, "source": {"bytes": data}}}))
}

/// `toolConfig.tools`: the request's tools, the structured-output tool, and — since Converse refuses `toolUse` and
/// `toolResult` blocks without a tool config — a bare declaration of every tool the history uses but the request
/// no longer offers.
fn tool_specs(req: &ChatRequest, messages: &[Value]) -> Vec<Value> {
    let mut specs: Vec<Value> = req
        .tools
        .iter()
        .map(|t| {
            let mut spec = Map::new();
            spec.insert("name".into(), json!(t.name));
            if let Some(d) = t.description.as_ref().filter(|d| !d.is_empty()) {
                spec.insert("description".into(), json!(d));
            }
            spec.insert("inputSchema".into(), json!({ "json": t.parameters }));
            json!({ "toolSpec": spec })
        })
        .collect();
    if let ResponseFormat::JsonSchema { schema, .. } = &req.response_format {
        specs.push(json!({"toolSpec": {
            "name": JSON_TOOL,
            "description": "Give the answer as this tool's input: a JSON object matching its schema.",
            "inputSchema": {"json": schema},
        }}));
    }
    let declared = |name: &str| {
        specs
            .iter()
            .any(|s| s["toolSpec"]["name"].as_str() == Some(name))
    };
    let mut missing: Vec<String> = Vec::new();
    let mut uses_tools = false;
    for block in messages
        .iter()
        .filter_map(|m| m["content"].as_array())
        .flatten()
    {
        uses_tools |= block.get("toolResult").is_some();
        if let Some(name) = block["toolUse"]["name"].as_str() {
            uses_tools = true;
            if !declared(name) && !missing.iter().any(|m| m == name) {
                missing.push(name.to_owned());
            }
        }
    }
    specs.extend(missing.into_iter().map(
        |name| json!({"toolSpec": {"name": name, "inputSchema": {"json": {"type": "object"}}}}),
    ));
    if specs.is_empty() && uses_tools {
        // Results without the calls in view: some declaration must exist.
        specs.push(
            json!({"toolSpec": {"name": "tool", "inputSchema": {"json": {"type": "object"}}}}),
        );
    }
    specs
}
