//! The Responses dialect served by the gateway: an inbound `POST /v1/responses` body → an unrouted core request
//! plus what the core cannot carry (stream, store, chaining, hosted tools, the fields echoed in the answer).
//!
//! `namespace` and `custom` tools are carried to other wires as functions and their calls mapped back (see
//! [`super::tools`]). Hosted tools (`web_search`, `file_search`, …) only exist on the Responses wire: they are listed
//! in [`Inbound::hosted_tools`] so the gateway can pass them through to a Responses target and leave them out for
//! any other (refusing only a request whose `tool_choice` demands one). Reasoning items keep their summary text; their `encrypted_content` only means something to the
//! Responses API, which receives the caller's body as sent, so translated targets never see it.

use serde_json::{Map, Value, json};

use super::request::ResponsesRequest;
use super::tools::{self, ToolNames, custom_arguments, flat_name};
use crate::types::{
    ChatRequest, ImageSource, Message, Part, ResponseFormat, Role, ToolCall, ToolChoice,
};

/// A parsed Responses request.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// The model name as the caller sent it.
    pub model: String,
    /// The unrouted core request.
    pub req: ChatRequest,
    /// `stream: true`.
    pub stream: bool,
    /// `store` (the API's default is `true`).
    pub store: bool,
    /// `previous_response_id`, when chaining.
    pub previous_response_id: Option<String>,
    /// Types of the tools only the Responses API can run (`web_search`, `file_search`, …), in request order.
    pub hosted_tools: Vec<String>,
    /// The hosted tool type `tool_choice` demands, if it does.
    pub forced_hosted: Option<String>,
    /// Flattened names of namespaced and custom tools → the tools the caller sent.
    pub tools: ToolNames,
    /// `include` asks for `reasoning.encrypted_content`.
    pub include_encrypted_reasoning: bool,
    /// Request fields echoed in the response object (`instructions`, `tools`, `text`, `reasoning`, …).
    pub echo: Map<String, Value>,
}

/// Fields of a request echoed in the response object, with the API's defaults.
const ECHO: [&str; 13] = [
    "instructions",
    "max_output_tokens",
    "metadata",
    "parallel_tool_calls",
    "previous_response_id",
    "reasoning",
    "store",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_p",
    "truncation",
];

fn echo_default(key: &str) -> Value {
    match key {
        "metadata" => json!({}),
        "parallel_tool_calls" | "store" => json!(true),
        "reasoning" => json!({"effort": null, "summary": null}),
        "temperature" | "top_p" => json!(1.0),
        "text" => json!({"format": {"type": "text"}}),
        "tool_choice" => json!("auto"),
        "tools" => json!([]),
        "truncation" => json!("disabled"),
        _ => Value::Null,
    }
}

/// The input items of a body: a string `input` is one user message.
pub fn input_items(body: &Value) -> Vec<Value> {
    match body.get("input") {
        Some(Value::String(s)) => vec![json!({"type": "message", "role": "user", "content": s})],
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    }
}

/// Parse an inbound body (a JSON object); errors are messages for a 400.
pub fn to_core(mut body: Value) -> Result<Inbound, String> {
    let obj = body
        .as_object_mut()
        .ok_or("the body must be a JSON object")?;
    match obj.get("input") {
        Some(Value::String(_) | Value::Array(_)) => {}
        Some(_) => return Err("'input' must be a string or an array of input items".into()),
        None => return Err("Missing required parameter: 'input'.".into()),
    }
    for (moved, to) in [
        ("messages", "input"),
        ("max_tokens", "max_output_tokens"),
        ("response_format", "text.format"),
    ] {
        if obj.contains_key(moved) {
            return Err(format!(
                "Unsupported parameter: '{moved}'. Use '{to}' instead."
            ));
        }
    }
    let items = input_items(&Value::Object(obj.clone()));
    obj.insert("input".into(), Value::Array(items));
    obj.entry("store").or_insert(json!(true));
    let echo: Map<String, Value> = ECHO
        .iter()
        .map(|k| {
            let v = obj.get(*k).filter(|v| !v.is_null()).cloned();
            ((*k).to_owned(), v.unwrap_or_else(|| echo_default(k)))
        })
        .collect();
    let wire: ResponsesRequest =
        serde_json::from_value(body).map_err(|e| format!("invalid request body: {e}"))?;
    let extra = &wire.extra;
    let mut messages = Vec::new();
    if let Some(text) = extra.get("instructions").and_then(Value::as_str)
        && !text.is_empty()
    {
        messages.push(Message::system(text));
    }
    for (i, item) in wire.input.iter().enumerate() {
        input_item(item, &mut messages).map_err(|e| format!("input[{i}]: {e}"))?;
    }
    if messages.is_empty() {
        return Err("'input' must contain at least one item".into());
    }
    let mut req = ChatRequest::unrouted(messages);
    let parsed = tools::parse(wire.tools.as_deref().unwrap_or_default())?;
    req.tools = parsed.functions;
    let mut forced_hosted = None;
    req.tool_choice = wire
        .tool_choice
        .as_ref()
        .map(|c| tool_choice(c, &mut forced_hosted))
        .transpose()?;
    req.response_format = match wire.text.as_ref().and_then(|t| t.get("format")) {
        Some(f) => format(f)?,
        None => ResponseFormat::Text,
    };
    req.max_tokens = wire.max_output_tokens;
    if req.max_tokens == Some(0) {
        return Err("'max_output_tokens' must be at least 1".into());
    }
    let number = |k: &str| extra.get(k).and_then(Value::as_f64).map(|x| x as f32);
    req.temperature = number("temperature");
    req.top_p = number("top_p");
    if req.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err("'temperature' must be between 0 and 2".into());
    }
    req.user = wire.user.clone();
    req.reasoning_effort = wire
        .reasoning
        .as_ref()
        .and_then(|r| r["effort"].as_str())
        .map(str::to_owned);
    // Passthrough fields must be valid on both wires of the OpenAI family (the router keeps them there only).
    if let Some(p) = extra.get("parallel_tool_calls").filter(|v| v.is_boolean()) {
        req.extra.insert("parallel_tool_calls".into(), p.clone());
    }
    let include_encrypted_reasoning = extra
        .get("include")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == "reasoning.encrypted_content"));
    Ok(Inbound {
        model: wire.model.clone(),
        req,
        stream: wire.stream.unwrap_or(false),
        store: wire.store,
        previous_response_id: extra
            .get("previous_response_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        hosted_tools: parsed.hosted,
        forced_hosted,
        tools: parsed.names,
        include_encrypted_reasoning,
        echo,
    })
}

fn tool_choice(v: &Value, forced: &mut Option<String>) -> Result<ToolChoice, String> {
    match v {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(format!("invalid tool_choice '{other}'")),
        },
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some(kind @ ("function" | "custom")) => o
                .get("name")
                .and_then(Value::as_str)
                .map(|n| {
                    let ns = o.get("namespace").and_then(Value::as_str);
                    ToolChoice::Function(flat_name(ns, n))
                })
                .ok_or_else(|| format!("tool_choice of type '{kind}' needs 'name'")),
            Some("allowed_tools") => Ok(ToolChoice::Auto),
            Some(kind) => {
                *forced = Some(kind.to_owned());
                Ok(ToolChoice::Auto)
            }
            None => Err("tool_choice object needs 'type'".into()),
        },
        _ => Err("invalid tool_choice".into()),
    }
}

fn format(f: &Value) -> Result<ResponseFormat, String> {
    match f["type"].as_str() {
        Some("text") => Ok(ResponseFormat::Text),
        Some("json_object") => Ok(ResponseFormat::JsonObject),
        Some("json_schema") => Ok(ResponseFormat::JsonSchema {
            name: f["name"].as_str().unwrap_or("response").to_owned(),
            schema: f
                .get("schema")
                .cloned()
                .ok_or("text.format of type 'json_schema' needs 'schema'")?,
            strict: f["strict"].as_bool(),
        }),
        _ => Err("invalid text.format type".into()),
    }
}

fn text_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The assistant message that `function_call` and `reasoning` items join: the last one, unless a later message
/// (a tool result, a user turn) closed it.
fn assistant_turn(messages: &mut Vec<Message>) -> &mut Message {
    if messages.last().is_none_or(|m| m.role != Role::Assistant) {
        messages.push(Message {
            content: Vec::new(),
            ..Message::assistant("")
        });
    }
    let last = messages.len() - 1;
    &mut messages[last]
}

fn input_item(item: &Value, messages: &mut Vec<Message>) -> Result<(), String> {
    let kind = item["type"]
        .as_str()
        .unwrap_or(if item.get("role").is_some() {
            "message"
        } else {
            ""
        });
    match kind {
        "message" => message(item, messages),
        "function_call" | "custom_tool_call" => {
            let call_id = item["call_id"].as_str().filter(|c| !c.is_empty());
            let name = flat_name(
                item["namespace"].as_str(),
                item["name"].as_str().unwrap_or_default(),
            );
            let arguments = if kind == "custom_tool_call" {
                custom_arguments(item["input"].as_str().unwrap_or_default())
            } else {
                text_of(&item["arguments"])
            };
            let (id, signature) = crate::wire::call_id::detach(
                call_id.ok_or_else(|| format!("a {kind} item needs 'call_id'"))?,
            );
            let mut call = ToolCall::new(id, name, arguments);
            call.signature = signature;
            assistant_turn(messages).tool_calls.push(call);
            Ok(())
        }
        "function_call_output" | "custom_tool_call_output" => {
            let call_id = item["call_id"].as_str().filter(|c| !c.is_empty());
            let output = match &item["output"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
                _ => return Err(format!("a {kind} item needs 'output'")),
            };
            messages.push(Message::tool_result(
                crate::wire::call_id::plain(
                    call_id.ok_or_else(|| format!("a {kind} item needs 'call_id'"))?,
                ),
                output,
            ));
            Ok(())
        }
        "reasoning" => {
            let summary: Vec<&str> = item["summary"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|s| s["text"].as_str())
                .collect();
            if !summary.is_empty() {
                assistant_turn(messages).content.push(Part::Reasoning {
                    text: summary.join("\n"),
                    signature: None,
                });
            }
            Ok(())
        }
        "item_reference" => {
            Err("'item_reference' items need server-side state; send the item itself".into())
        }
        "" => Err("an input item needs 'type' or 'role'".into()),
        other => Err(format!(
            "input items of type '{other}' can only be sent to an OpenAI Responses model"
        )),
    }
}

fn message(item: &Value, messages: &mut Vec<Message>) -> Result<(), String> {
    let role = match item["role"].as_str() {
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("system") => Role::System,
        Some("developer") => Role::Developer,
        Some(other) => return Err(format!("unknown message role '{other}'")),
        None => return Err("a message needs 'role'".into()),
    };
    let content = match &item["content"] {
        Value::String(text) => vec![Part::Text { text: text.clone() }],
        Value::Array(parts) => parts.iter().map(part).collect::<Result<_, _>>()?,
        _ => return Err("a message needs 'content' (a string or an array of parts)".into()),
    };
    if role == Role::Assistant {
        assistant_turn(messages).content.extend(content);
    } else {
        messages.push(Message {
            role,
            content,
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
        });
    }
    Ok(())
}

fn part(p: &Value) -> Result<Part, String> {
    match p["type"].as_str() {
        Some("input_text" | "output_text" | "text") => Ok(Part::Text {
            text: text_of(&p["text"]),
        }),
        Some("refusal") => Ok(Part::Refusal {
            text: text_of(&p["refusal"]),
        }),
        Some("input_image") => {
            let url = p["image_url"].as_str().ok_or(
                "an input_image part needs 'image_url' ('file_id' needs OpenAI's file store)",
            )?;
            Ok(Part::Image {
                source: ImageSource::Url {
                    url: url.to_owned(),
                },
                detail: p["detail"].as_str().map(str::to_owned),
            })
        }
        Some(other) => Err(format!("content parts of type '{other}' are not supported")),
        None => Err("a content part needs 'type'".into()),
    }
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
