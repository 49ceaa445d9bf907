//! OpenAI Chat Completions wire: request validation and translation into a neutral
//! [`Conversation`]. Rejects malformed requests with 400s so client translation bugs fail tests.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::errors::MockError;
use crate::http::json_object;
use crate::reply::{Conversation, Message, OutputFormat, Role, ToolChoice, ToolDef};

/// A validated Chat Completions request.
#[derive(Debug)]
pub(crate) struct ChatRequest {
    /// Requested model (echoed back).
    pub model: String,
    /// `stream: true`.
    pub stream: bool,
    /// `stream_options.include_usage: true`.
    pub include_usage: bool,
    /// The neutral conversation.
    pub conv: Conversation,
}

fn bad(message: impl Into<String>, param: &str) -> MockError {
    MockError::invalid(message, Some(param))
}

/// The non-empty `model` string of a request body.
pub(crate) fn model(obj: &Map<String, Value>) -> Result<String, MockError> {
    match obj.get("model") {
        Some(Value::String(m)) if !m.is_empty() => Ok(m.clone()),
        _ => Err(bad("you must provide a model parameter", "model")),
    }
}

/// Validates and translates a Chat Completions request body.
pub(crate) fn parse_chat(body: &[u8]) -> Result<ChatRequest, MockError> {
    let obj = json_object(body)?;
    let model = model(&obj)?;
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("'stream' must be a boolean.", "stream")),
    };
    let include_usage = match obj.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(_) if !stream => {
            return Err(bad(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options",
            ));
        }
        Some(Value::Object(o)) => o.get("include_usage") == Some(&Value::Bool(true)),
        Some(_) => return Err(bad("'stream_options' must be an object.", "stream_options")),
    };
    let messages = parse_messages(obj.get("messages"))?;
    let tools = parse_tools(obj.get("tools"))?;
    let tool_choice = parse_tool_choice(obj.get("tool_choice"), &tools)?;
    let format = parse_format(obj.get("response_format"))?;
    let max_tokens = ["max_tokens", "max_completion_tokens"]
        .into_iter()
        .filter_map(|k| obj.get(k).filter(|v| !v.is_null()).map(|v| (k, v)))
        .map(|(k, v)| {
            v.as_u64()
                .ok_or_else(|| bad(format!("'{k}' must be a non-negative integer."), k))
        })
        .collect::<Result<Vec<u64>, _>>()?
        .into_iter()
        .min();
    Ok(ChatRequest {
        model,
        stream,
        include_usage,
        conv: Conversation {
            messages,
            tools,
            tool_choice,
            format,
            max_tokens,
        },
    })
}

/// Text of a `content` value: a string, or an array of parts whose `text` parts are joined
/// with `\n`. `None` when the content is absent or null.
fn content_text(content: Option<&Value>, param: &str) -> Result<Option<String>, MockError> {
    match content {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::new();
            for (j, part) in parts.iter().enumerate() {
                let p = format!("{param}[{j}]");
                let Some(kind) = part.get("type").and_then(Value::as_str) else {
                    return Err(bad(format!("Missing required parameter: '{p}.type'."), &p));
                };
                if kind == "text" {
                    match part.get("text") {
                        Some(Value::String(t)) => texts.push(t.as_str()),
                        _ => {
                            return Err(bad(
                                format!("Missing required parameter: '{p}.text'."),
                                &p,
                            ));
                        }
                    }
                }
            }
            Ok(Some(texts.join("\n")))
        }
        Some(_) => Err(bad(
            format!("Invalid type for '{param}': expected a string or an array of content parts."),
            param,
        )),
    }
}

fn parse_messages(value: Option<&Value>) -> Result<Vec<Message>, MockError> {
    let list = match value {
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(Value::Array(_)) => {
            return Err(bad(
                "Invalid 'messages': empty array. Expected an array with minimum length 1.",
                "messages",
            ));
        }
        _ => return Err(bad("Missing required parameter: 'messages'.", "messages")),
    };
    let mut call_ids: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, msg) in list.iter().enumerate() {
        let p = format!("messages[{i}]");
        let role_name = msg.get("role").and_then(Value::as_str).unwrap_or_default();
        let role = match role_name {
            "system" | "developer" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            other => {
                return Err(bad(
                    format!(
                        "Invalid value: '{other}'. Supported values are: 'system', 'developer', \
                         'assistant', 'user' and 'tool'."
                    ),
                    &format!("{p}.role"),
                ));
            }
        };
        let text = content_text(msg.get("content"), &format!("{p}.content"))?;
        if role == Role::Assistant {
            let has_calls = collect_tool_calls(msg.get("tool_calls"), &p, &mut call_ids)?;
            if text.is_none() && !has_calls {
                return Err(bad(
                    format!("Missing required parameter: '{p}.content'."),
                    &format!("{p}.content"),
                ));
            }
        } else if text.is_none() {
            return Err(bad(
                format!("Missing required parameter: '{p}.content'."),
                &format!("{p}.content"),
            ));
        }
        if role == Role::Tool {
            let id = msg.get("tool_call_id").and_then(Value::as_str);
            if !id.is_some_and(|id| call_ids.contains(id)) {
                return Err(bad(
                    format!(
                        "Invalid parameter: messages with role 'tool' must be a response to a \
                         preceding message with 'tool_calls' (tool_call_id {:?} not found).",
                        id.unwrap_or_default()
                    ),
                    &format!("{p}.tool_call_id"),
                ));
            }
        }
        out.push(Message {
            role,
            text: text.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Validates an assistant message's `tool_calls`, collecting their ids; true if any.
fn collect_tool_calls(
    value: Option<&Value>,
    p: &str,
    ids: &mut HashSet<String>,
) -> Result<bool, MockError> {
    let calls = match value {
        None | Some(Value::Null) => return Ok(false),
        Some(Value::Array(calls)) => calls,
        Some(_) => {
            return Err(bad(
                "'tool_calls' must be an array.",
                &format!("{p}.tool_calls"),
            ));
        }
    };
    for (j, call) in calls.iter().enumerate() {
        let cp = format!("{p}.tool_calls[{j}]");
        let Some(id) = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Err(bad(format!("Missing required parameter: '{cp}.id'."), &cp));
        };
        if call.get("type").and_then(Value::as_str) != Some("function") {
            return Err(bad(format!("'{cp}.type' must be 'function'."), &cp));
        }
        let function = call.get("function");
        if function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .is_none()
        {
            return Err(bad(
                format!("Missing required parameter: '{cp}.function.name'."),
                &cp,
            ));
        }
        if !function
            .and_then(|f| f.get("arguments"))
            .is_some_and(Value::is_string)
        {
            return Err(bad(
                format!("Invalid type for '{cp}.function.arguments': expected a string."),
                &format!("{cp}.function.arguments"),
            ));
        }
        ids.insert(id.to_owned());
    }
    Ok(!calls.is_empty())
}

fn parse_tools(value: Option<&Value>) -> Result<Vec<ToolDef>, MockError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(bad("'tools' must be an array.", "tools")),
    };
    list.iter()
        .enumerate()
        .map(|(i, tool)| {
            let p = format!("tools[{i}]");
            if tool.get("type").and_then(Value::as_str) != Some("function") {
                return Err(bad(
                    format!("'{p}.type' must be 'function' (the mock serves function tools)."),
                    &p,
                ));
            }
            let function = tool.get("function");
            let name = function
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    bad(
                        format!("Missing required parameter: '{p}.function.name'."),
                        &p,
                    )
                })?;
            let parameters = function
                .and_then(|f| f.get("parameters"))
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type":"object","properties":{}}));
            Ok(ToolDef {
                name: name.to_owned(),
                parameters,
            })
        })
        .collect()
}

fn parse_tool_choice(value: Option<&Value>, tools: &[ToolDef]) -> Result<ToolChoice, MockError> {
    let p = "tool_choice";
    let choice = match value {
        None | Some(Value::Null) => return Ok(ToolChoice::Auto),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => {
                return Err(bad(
                    format!("Invalid value for 'tool_choice': '{other}'."),
                    p,
                ));
            }
        },
        Some(Value::Object(o)) => match o.get("type").and_then(Value::as_str) {
            Some("function") => {
                let name = o
                    .get("function")
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("Missing 'tool_choice.function.name'.", p))?;
                if !tools.iter().any(|t| t.name == name) {
                    return Err(bad(
                        format!("Invalid 'tool_choice': function '{name}' is not in 'tools'."),
                        p,
                    ));
                }
                ToolChoice::Named(name.to_owned())
            }
            Some("allowed_tools") => ToolChoice::Auto,
            _ => return Err(bad("Invalid 'tool_choice' object.", p)),
        },
        Some(_) => return Err(bad("'tool_choice' must be a string or an object.", p)),
    };
    if tools.is_empty() {
        return Err(bad(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are \
             specified.",
            p,
        ));
    }
    Ok(choice)
}

fn parse_format(value: Option<&Value>) -> Result<OutputFormat, MockError> {
    let p = "response_format";
    let Some(v) = value.filter(|v| !v.is_null()) else {
        return Ok(OutputFormat::Text);
    };
    match v.get("type").and_then(Value::as_str) {
        Some("text") => Ok(OutputFormat::Text),
        Some("json_object") => Ok(OutputFormat::JsonObject),
        Some("json_schema") => {
            let js = v
                .get("json_schema")
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    bad(
                        "Missing required parameter: 'response_format.json_schema'.",
                        p,
                    )
                })?;
            if !js.get("name").is_some_and(Value::is_string) {
                return Err(bad(
                    "Missing required parameter: 'response_format.json_schema.name'.",
                    p,
                ));
            }
            let schema = js
                .get("schema")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type":"object"}));
            Ok(OutputFormat::JsonSchema(schema))
        }
        _ => Err(bad(
            "Invalid 'response_format.type': expected 'text', 'json_object' or 'json_schema'.",
            p,
        )),
    }
}
