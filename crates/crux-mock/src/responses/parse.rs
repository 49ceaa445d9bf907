//! OpenAI Responses wire: validation of a `POST /v1/responses` body and translation into a
//! neutral [`Conversation`]. Rejects Chat Completions leftovers (`messages`, `max_tokens`,
//! nested tool/format shapes) and reasoning-model sampling parameters with OpenAI-style 400s.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::errors::MockError;
use crate::http::json_object;
use crate::openai::parse::model;
use crate::reply::{Conversation, Message, OutputFormat, Role, ToolChoice, ToolDef};

/// Reasoning tokens reported (and charged against `max_output_tokens`) when reasoning is on.
pub(crate) const REASONING_TOKENS: u64 = 8;

/// Chat Completions parameters that do not exist in the Responses API, with their replacement.
const MOVED: [(&str, Option<&str>); 9] = [
    ("messages", Some("input")),
    ("max_tokens", Some("max_output_tokens")),
    ("max_completion_tokens", Some("max_output_tokens")),
    ("response_format", Some("text.format")),
    ("functions", Some("tools")),
    ("function_call", Some("tool_choice")),
    ("stop", None),
    ("n", None),
    ("seed", None),
];

/// Response fields echoed from the request, with their defaults.
fn echo_defaults() -> [(&'static str, Value); 12] {
    [
        ("instructions", Value::Null),
        ("max_output_tokens", Value::Null),
        ("metadata", json!({})),
        ("parallel_tool_calls", json!(true)),
        ("previous_response_id", Value::Null),
        ("reasoning", json!({"effort": null, "summary": null})),
        ("store", json!(true)),
        ("temperature", json!(1.0)),
        ("text", json!({"format": {"type": "text"}})),
        ("tool_choice", json!("auto")),
        ("tools", json!([])),
        ("top_p", json!(1.0)),
    ]
}

/// A validated Responses request.
#[derive(Debug)]
pub(crate) struct ResponsesRequest {
    /// Requested model (echoed back).
    pub model: String,
    /// `stream: true`.
    pub stream: bool,
    /// `reasoning.effort` given (and not `none`).
    pub reasoning: bool,
    /// `include` asks for `reasoning.encrypted_content`.
    pub encrypted_reasoning: bool,
    /// Request fields echoed in the response object.
    pub echo: Map<String, Value>,
    /// The neutral conversation.
    pub conv: Conversation,
}

fn bad(message: impl Into<String>, param: &str) -> MockError {
    MockError::invalid(message, Some(param))
}

fn is_reasoning_model(model: &str) -> bool {
    ["o1", "o3", "o4", "gpt-5"]
        .iter()
        .any(|p| model.starts_with(p))
}

fn check_sampling(obj: &Map<String, Value>, model: &str) -> Result<(), MockError> {
    for key in ["temperature", "top_p"] {
        let Some(v) = obj.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let Some(x) = v.as_f64() else {
            return Err(bad(
                format!("Invalid type for '{key}': expected a number."),
                key,
            ));
        };
        if is_reasoning_model(model) && (x - 1.0).abs() > f64::EPSILON {
            return Err(bad(
                format!("Unsupported parameter: '{key}' is not supported with this model."),
                key,
            ));
        }
        let max = if key == "temperature" { 2.0 } else { 1.0 };
        if !(0.0..=max).contains(&x) {
            return Err(bad(
                format!("Invalid '{key}': must be between 0 and {max}."),
                key,
            ));
        }
    }
    Ok(())
}

/// Text of a message `content`: a string or an array of parts allowed for `role`.
fn content_text(content: Option<&Value>, role: Role, p: &str) -> Result<String, MockError> {
    let parts = match content {
        Some(Value::String(s)) => return Ok(s.clone()),
        Some(Value::Array(parts)) => parts,
        Some(_) => {
            return Err(bad(
                format!("Invalid type for '{p}.content': expected a string or an array."),
                &format!("{p}.content"),
            ));
        }
        None => {
            return Err(bad(
                format!("Missing required parameter: '{p}.content'."),
                &format!("{p}.content"),
            ));
        }
    };
    let (allowed, listed): (&[&str], &str) = if role == Role::Assistant {
        (&["output_text", "refusal"], "'output_text' and 'refusal'")
    } else {
        (
            &["input_text", "input_image", "input_file"],
            "'input_text', 'input_image', and 'input_file'",
        )
    };
    let mut texts = Vec::new();
    for (j, part) in parts.iter().enumerate() {
        let pp = format!("{p}.content[{j}]");
        let kind = part.get("type").and_then(Value::as_str).unwrap_or_default();
        if !allowed.contains(&kind) {
            return Err(bad(
                format!("Invalid value: '{kind}'. Supported values are: {listed}."),
                &format!("{pp}.type"),
            ));
        }
        match kind {
            "input_text" | "output_text" => match part.get("text") {
                Some(Value::String(t)) => texts.push(t.as_str()),
                _ => {
                    return Err(bad(
                        format!("Missing required parameter: '{pp}.text'."),
                        &pp,
                    ));
                }
            },
            "input_image" if part.get("image_url").is_none() && part.get("file_id").is_none() => {
                return Err(bad(
                    format!("Missing required parameter: '{pp}.image_url'."),
                    &pp,
                ));
            }
            _ => {}
        }
    }
    Ok(texts.join("\n"))
}

fn required_str<'a>(item: &'a Value, key: &str, p: &str) -> Result<&'a str, MockError> {
    item.get(key).and_then(Value::as_str).ok_or_else(|| {
        bad(
            format!("Missing required parameter: '{p}.{key}'."),
            &format!("{p}.{key}"),
        )
    })
}

fn parse_item(
    item: &Value,
    p: &str,
    calls: &mut HashSet<String>,
    out: &mut Vec<Message>,
) -> Result<(), MockError> {
    let kind = match item.get("type").and_then(Value::as_str) {
        Some(k) => k,
        None if item.get("role").is_some() => "message",
        None => {
            return Err(bad(
                format!("Missing required parameter: '{p}.type'."),
                &format!("{p}.type"),
            ));
        }
    };
    match kind {
        "message" => {
            let role = match item.get("role").and_then(Value::as_str) {
                Some("user") => Role::User,
                Some("assistant") => Role::Assistant,
                Some("system" | "developer") => Role::System,
                other => {
                    return Err(bad(
                        format!(
                            "Invalid value: '{}'. Supported values are: 'assistant', 'system', \
                             'developer', and 'user'.",
                            other.unwrap_or_default()
                        ),
                        &format!("{p}.role"),
                    ));
                }
            };
            let text = content_text(item.get("content"), role, p)?;
            out.push(Message { role, text });
        }
        "function_call" => {
            let call_id = required_str(item, "call_id", p)?;
            required_str(item, "name", p)?;
            if !item.get("arguments").is_some_and(Value::is_string) {
                return Err(bad(
                    format!("Invalid type for '{p}.arguments': expected a string."),
                    &format!("{p}.arguments"),
                ));
            }
            calls.insert(call_id.to_owned());
            out.push(Message {
                role: Role::Assistant,
                text: String::new(),
            });
        }
        "function_call_output" => {
            let call_id = required_str(item, "call_id", p)?;
            if !calls.contains(call_id) {
                return Err(bad(
                    format!("No tool call found for function call output with call_id {call_id}."),
                    &format!("{p}.call_id"),
                ));
            }
            let text = match item.get("output") {
                Some(Value::String(s)) => s.clone(),
                Some(v @ Value::Array(_)) => content_text(Some(v), Role::User, p)?,
                _ => {
                    return Err(bad(
                        format!("Missing required parameter: '{p}.output'."),
                        &format!("{p}.output"),
                    ));
                }
            };
            out.push(Message {
                role: Role::Tool,
                text,
            });
        }
        "reasoning" | "item_reference" => {}
        other => {
            return Err(bad(
                format!(
                    "Invalid value: '{other}'. Supported values are: 'message', 'function_call', \
                     'function_call_output', 'reasoning' and 'item_reference'."
                ),
                &format!("{p}.type"),
            ));
        }
    }
    Ok(())
}

fn parse_input(obj: &Map<String, Value>) -> Result<Vec<Message>, MockError> {
    let mut out = Vec::new();
    match obj.get("instructions") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => out.push(Message {
            role: Role::System,
            text: s.clone(),
        }),
        Some(_) => {
            return Err(bad(
                "Invalid type for 'instructions': expected a string.",
                "instructions",
            ));
        }
    }
    match obj.get("input") {
        Some(Value::String(s)) => out.push(Message {
            role: Role::User,
            text: s.clone(),
        }),
        Some(Value::Array(items)) => {
            let mut calls = HashSet::new();
            for (i, item) in items.iter().enumerate() {
                parse_item(item, &format!("input[{i}]"), &mut calls, &mut out)?;
            }
        }
        Some(_) => {
            return Err(bad(
                "Invalid type for 'input': expected a string or an array of input items.",
                "input",
            ));
        }
        None => return Err(bad("Missing required parameter: 'input'.", "input")),
    }
    Ok(out)
}

fn parse_tools(value: Option<&Value>) -> Result<Vec<ToolDef>, MockError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(bad("Invalid type for 'tools': expected an array.", "tools")),
    };
    let mut tools = Vec::new();
    for (i, tool) in list.iter().enumerate() {
        let p = format!("tools[{i}]");
        match tool.get("type").and_then(Value::as_str) {
            Some("function") => {}
            Some(_) => continue,
            None => {
                return Err(bad(
                    format!("Missing required parameter: '{p}.type'."),
                    &format!("{p}.type"),
                ));
            }
        }
        let name = required_str(tool, "name", &p)?;
        tools.push(ToolDef {
            name: name.to_owned(),
            parameters: tool
                .get("parameters")
                .filter(|v| !v.is_null())
                .cloned()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        });
    }
    Ok(tools)
}

fn parse_tool_choice(value: Option<&Value>, tools: &[ToolDef]) -> Result<ToolChoice, MockError> {
    let p = "tool_choice";
    match value {
        None | Some(Value::Null) => Ok(ToolChoice::Auto),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(bad(
                format!(
                    "Invalid value: '{other}'. Supported values are: 'none', 'auto', and \
                     'required'."
                ),
                p,
            )),
        },
        Some(Value::Object(o)) => match o.get("type").and_then(Value::as_str) {
            Some("function") => {
                let Some(name) = o.get("name").and_then(Value::as_str) else {
                    return Err(bad("Missing required parameter: 'tool_choice.name'.", p));
                };
                if !tools.iter().any(|t| t.name == name) {
                    return Err(bad(
                        format!("Tool choice '{name}' not found in 'tools' parameter."),
                        p,
                    ));
                }
                Ok(ToolChoice::Named(name.to_owned()))
            }
            Some(_) => Ok(ToolChoice::Auto),
            None => Err(bad("Missing required parameter: 'tool_choice.type'.", p)),
        },
        Some(_) => Err(bad(
            "Invalid type for 'tool_choice': expected a string or an object.",
            p,
        )),
    }
}

fn parse_format(value: Option<&Value>) -> Result<OutputFormat, MockError> {
    let p = "text.format";
    let Some(format) = value.and_then(|t| t.get("format")).filter(|f| !f.is_null()) else {
        return Ok(OutputFormat::Text);
    };
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(OutputFormat::Text),
        Some("json_object") => Ok(OutputFormat::JsonObject),
        Some("json_schema") => {
            if !format.get("name").is_some_and(Value::is_string) {
                return Err(bad("Missing required parameter: 'text.format.name'.", p));
            }
            match format.get("schema") {
                Some(s) if s.is_object() => Ok(OutputFormat::JsonSchema(s.clone())),
                _ => Err(bad("Missing required parameter: 'text.format.schema'.", p)),
            }
        }
        _ => Err(bad(
            "Invalid value for 'text.format.type': expected 'text', 'json_object' or \
             'json_schema'.",
            p,
        )),
    }
}

fn bool_field(obj: &Map<String, Value>, key: &str) -> Result<bool, MockError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(
            format!("Invalid type for '{key}': expected a boolean."),
            key,
        )),
    }
}

/// Validates and translates a Responses request body.
pub(crate) fn parse_request(body: &[u8]) -> Result<ResponsesRequest, MockError> {
    let obj = json_object(body)?;
    if let Some((key, moved)) = MOVED.iter().find(|(k, _)| obj.contains_key(*k)) {
        let hint = match moved {
            Some(to) => format!("In the Responses API, this parameter has moved to '{to}'."),
            None => "It is not supported by the Responses API.".to_owned(),
        };
        return Err(bad(format!("Unsupported parameter: '{key}'. {hint}"), key));
    }
    let model = model(&obj)?;
    check_sampling(&obj, &model)?;
    let stream = bool_field(&obj, "stream")?;
    bool_field(&obj, "store")?;
    let effort = obj.get("reasoning").and_then(|r| r.get("effort"));
    let reasoning = match effort {
        None | Some(Value::Null) => false,
        Some(Value::String(e)) => e != "none",
        Some(_) => return Err(bad("Invalid type for 'reasoning.effort'.", "reasoning")),
    };
    let encrypted_reasoning = obj
        .get("include")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == "reasoning.encrypted_content"));
    let max_output = match obj.get("max_output_tokens") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            bad(
                "Invalid 'max_output_tokens': expected a non-negative integer.",
                "max_output_tokens",
            )
        })?),
    };
    let messages = parse_input(&obj)?;
    let tools = parse_tools(obj.get("tools"))?;
    let tool_choice = parse_tool_choice(obj.get("tool_choice"), &tools)?;
    let format = parse_format(obj.get("text"))?;
    let max_tokens = max_output.map(|m| {
        if reasoning {
            m.saturating_sub(REASONING_TOKENS)
        } else {
            m
        }
    });
    let echo = echo_defaults()
        .into_iter()
        .map(|(k, default)| {
            let v = obj.get(k).filter(|v| !v.is_null()).cloned();
            (k.to_owned(), v.unwrap_or(default))
        })
        .collect();
    Ok(ResponsesRequest {
        model,
        stream,
        reasoning,
        encrypted_reasoning,
        echo,
        conv: Conversation {
            messages,
            tools,
            tool_choice,
            format,
            max_tokens,
        },
    })
}
