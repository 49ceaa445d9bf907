//! Ollama native wire: validation of `/api/chat` requests (with the Go decoder's error wording
//! for type mismatches) and translation into a neutral [`Conversation`].

use serde_json::{Map, Value};

use crate::b64::{self, Alphabet};
use crate::errors::{ErrorKind, MockError};
use crate::reply::{Conversation, Message, OutputFormat, Role, ToolChoice, ToolDef};

/// A validated `/api/chat` request.
#[derive(Debug)]
pub(crate) struct ChatRequest {
    /// Requested model (echoed back).
    pub model: String,
    /// Stream NDJSON (the default when `stream` is absent).
    pub stream: bool,
    /// The neutral conversation.
    pub conv: Conversation,
}

fn bad(message: impl Into<String>) -> MockError {
    MockError::invalid(message, None)
}

/// The Go name of a JSON value's type, as `encoding/json` reports it.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go's `cannot unmarshal` error for `value` at `field` (of Go type `ty`).
fn unmarshal(value: &Value, field: &str, ty: &str) -> MockError {
    bad(format!(
        "json: cannot unmarshal {} into Go struct field {field} of type {ty}",
        go_type(value)
    ))
}

/// Parses a request body as a JSON object, with Go-like error wording.
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, MockError> {
    if body.is_empty() {
        return Err(bad("missing request body"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(other) => Err(bad(format!(
            "json: cannot unmarshal {} into Go value of type api.ChatRequest",
            go_type(&other)
        ))),
        Err(e) => Err(bad(format!("invalid character in request body: {e}"))),
    }
}

/// The `model` of a request: required; ids starting with `missing` are not pulled (404).
pub(crate) fn model(obj: &Map<String, Value>) -> Result<String, MockError> {
    let m = match obj.get("model").or_else(|| obj.get("name")) {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        Some(Value::String(_) | Value::Null) | None => return Err(bad("model is required")),
        Some(other) => return Err(unmarshal(other, "ChatRequest.model", "string")),
    };
    if m.starts_with("missing") {
        return Err(MockError {
            status: 404,
            kind: ErrorKind::NotFound,
            message: format!("model \"{m}\" not found, try pulling it first"),
            param: None,
            code: None,
            headers: Vec::new(),
        });
    }
    Ok(m)
}

/// Validates and translates an `/api/chat` body.
pub(crate) fn parse_chat(obj: &Map<String, Value>) -> Result<ChatRequest, MockError> {
    let model = model(obj)?;
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(unmarshal(other, "ChatRequest.stream", "bool")),
    };
    match obj.get("think") {
        None | Some(Value::Null | Value::Bool(_)) => {}
        Some(Value::String(level)) if ["low", "medium", "high"].contains(&level.as_str()) => {}
        Some(other) => {
            return Err(bad(format!(
                "invalid think value: {other} (must be a boolean or \"low\", \"medium\", \
                 \"high\")"
            )));
        }
    }
    let messages = parse_messages(obj.get("messages"))?;
    let tools = parse_tools(obj.get("tools"))?;
    let format = match obj.get("format") {
        None | Some(Value::Null) => OutputFormat::Text,
        Some(Value::String(s)) if s.is_empty() => OutputFormat::Text,
        Some(Value::String(s)) if s == "json" => OutputFormat::JsonObject,
        Some(Value::Object(schema)) => OutputFormat::JsonSchema(Value::Object(schema.clone())),
        Some(other) => {
            return Err(bad(format!(
                "invalid format: {other}; expected \"json\" or a valid JSON schema"
            )));
        }
    };
    let max_tokens = parse_options(obj.get("options"))?;
    Ok(ChatRequest {
        model,
        stream,
        conv: Conversation {
            messages,
            tools,
            tool_choice: ToolChoice::Auto,
            format,
            max_tokens,
        },
    })
}

/// Validates `options`; returns the `num_predict` limit (negative means unlimited).
fn parse_options(value: Option<&Value>) -> Result<Option<u64>, MockError> {
    let opts = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(unmarshal(
                other,
                "ChatRequest.options",
                "map[string]interface {}",
            ));
        }
    };
    let integer = |key: &str| -> Result<Option<i64>, MockError> {
        match opts.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| bad(format!("option \"{key}\" must be of type integer"))),
        }
    };
    for key in ["temperature", "top_p", "min_p", "repeat_penalty"] {
        if opts
            .get(key)
            .is_some_and(|v| !v.is_number() && !v.is_null())
        {
            return Err(bad(format!("option \"{key}\" must be of type number")));
        }
    }
    integer("seed")?;
    integer("top_k")?;
    integer("num_ctx")?;
    match opts.get("stop") {
        None | Some(Value::Null) => {}
        Some(Value::Array(s)) if s.iter().all(Value::is_string) => {}
        Some(_) => return Err(bad("option \"stop\" must be of type array of strings")),
    }
    Ok(integer("num_predict")?.and_then(|n| u64::try_from(n).ok()))
}

fn parse_messages(value: Option<&Value>) -> Result<Vec<Message>, MockError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(unmarshal(other, "ChatRequest.messages", "[]api.Message"));
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for msg in list {
        let Some(obj) = msg.as_object() else {
            return Err(unmarshal(msg, "ChatRequest.messages", "api.Message"));
        };
        let role = match obj.get("role") {
            Some(Value::String(r)) => match r.as_str() {
                "system" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                "tool" => Role::Tool,
                other => {
                    return Err(bad(format!(
                        "invalid message role \"{other}\": must be one of system, user, \
                         assistant, tool"
                    )));
                }
            },
            None | Some(Value::Null) => return Err(bad("message role is required")),
            Some(other) => return Err(unmarshal(other, "ChatRequest.messages.role", "string")),
        };
        let text = match obj.get("content") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(unmarshal(other, "ChatRequest.messages.content", "string"));
            }
        };
        check_images(obj.get("images"))?;
        check_tool_calls(obj.get("tool_calls"))?;
        out.push(Message { role, text });
    }
    Ok(out)
}

/// `images` must be a list of raw standard base64 strings (no `data:` URL prefix).
fn check_images(value: Option<&Value>) -> Result<(), MockError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(unmarshal(
                other,
                "ChatRequest.messages.images",
                "[]api.ImageData",
            ));
        }
    };
    for image in list {
        let Value::String(data) = image else {
            return Err(unmarshal(
                image,
                "ChatRequest.messages.images",
                "api.ImageData",
            ));
        };
        if let Some(at) = b64::invalid_at(data, Alphabet::Standard) {
            return Err(bad(format!("illegal base64 data at input byte {at}")));
        }
    }
    Ok(())
}

/// Assistant `tool_calls`: `function.name` required, `function.arguments` an object.
fn check_tool_calls(value: Option<&Value>) -> Result<(), MockError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(unmarshal(
                other,
                "ChatRequest.messages.tool_calls",
                "[]api.ToolCall",
            ));
        }
    };
    for call in list {
        let function = call.get("function").and_then(Value::as_object);
        if !function
            .and_then(|f| f.get("name"))
            .is_some_and(Value::is_string)
        {
            return Err(bad("tool call is missing function.name"));
        }
        match function.and_then(|f| f.get("arguments")) {
            None | Some(Value::Null | Value::Object(_)) => {}
            Some(other) => {
                return Err(unmarshal(
                    other,
                    "ChatRequest.messages.tool_calls.function.arguments",
                    "map[string]interface {}",
                ));
            }
        }
    }
    Ok(())
}

fn parse_tools(value: Option<&Value>) -> Result<Vec<ToolDef>, MockError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(unmarshal(other, "ChatRequest.tools", "api.Tools")),
    };
    list.iter()
        .map(|tool| {
            if tool
                .get("type")
                .is_some_and(|t| t != &Value::String("function".to_owned()))
            {
                return Err(bad(format!(
                    "invalid tool type {}: only \"function\" is supported",
                    tool["type"]
                )));
            }
            let function = tool.get("function");
            let name = function
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| bad("tool is missing function.name"))?;
            let parameters = function
                .and_then(|f| f.get("parameters"))
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}}));
            Ok(ToolDef {
                name: name.to_owned(),
                parameters,
            })
        })
        .collect()
}
