//! Anthropic Messages wire: validation of a `POST /v1/messages` body (top-level fields, system,
//! tools, tool choice, thinking, structured output) and translation into a neutral
//! [`Conversation`]. Rejects what the real API rejects, with its `field: problem` messages.

use serde_json::{Map, Value};

use crate::anthropic::messages::parse_messages;
use crate::errors::MockError;
use crate::http::json_object;
use crate::reply::{Conversation, Message, OutputFormat, Role, ToolChoice, ToolDef};
use crate::signatures::Signatures;

/// Smallest `thinking.budget_tokens` the API accepts.
const MIN_THINKING_BUDGET: u64 = 1024;

/// Top-level request fields the API knows; anything else is "Extra inputs are not permitted".
const KNOWN_FIELDS: [&str; 19] = [
    "model",
    "messages",
    "max_tokens",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "stream",
    "tools",
    "tool_choice",
    "metadata",
    "thinking",
    "output_config",
    "output_format",
    "service_tier",
    "container",
    "mcp_servers",
    "context_management",
];

/// Prefixes of versioned server-tool `type`s (accepted and ignored by the mock).
const SERVER_TOOL_PREFIXES: [&str; 8] = [
    "web_search_",
    "web_fetch_",
    "code_execution_",
    "bash_",
    "text_editor_",
    "computer_",
    "memory_",
    "tool_search_",
];

/// A validated Messages request.
#[derive(Debug)]
pub(crate) struct MessagesRequest {
    /// Requested model (echoed back).
    pub model: String,
    /// `stream: true`.
    pub stream: bool,
    /// Extended thinking enabled.
    pub thinking: bool,
    /// The neutral conversation.
    pub conv: Conversation,
}

fn bad(message: impl Into<String>) -> MockError {
    MockError::invalid(message, None)
}

fn unit_interval(obj: &Map<String, Value>, key: &str) -> Result<(), MockError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(v) => match v.as_f64() {
            None => Err(bad(format!("{key}: Input should be a valid number"))),
            Some(x) if x < 0.0 => Err(bad(format!(
                "{key}: Input should be greater than or equal to 0"
            ))),
            Some(x) if x > 1.0 => Err(bad(format!(
                "{key}: Input should be less than or equal to 1"
            ))),
            Some(_) => Ok(()),
        },
    }
}

fn system_text(value: Option<&Value>) -> Result<Option<String>, MockError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(blocks)) => {
            let mut texts = Vec::new();
            for (j, b) in blocks.iter().enumerate() {
                if b.get("type").and_then(Value::as_str) != Some("text") {
                    return Err(bad(format!("system.{j}.type: Input should be 'text'")));
                }
                match b.get("text") {
                    Some(Value::String(t)) => texts.push(t.as_str()),
                    _ => return Err(bad(format!("system.{j}.text: Field required"))),
                }
            }
            Ok(Some(texts.join("\n")))
        }
        Some(_) => Err(bad(
            "system: Input should be a valid string or a valid list",
        )),
    }
}

fn valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_tools(value: Option<&Value>) -> Result<Vec<ToolDef>, MockError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(bad("tools: Input should be a valid list")),
    };
    let mut tools = Vec::new();
    for (i, tool) in list.iter().enumerate() {
        let p = format!("tools.{i}");
        match tool.get("type").and_then(Value::as_str) {
            None | Some("custom") => {}
            Some(t) if SERVER_TOOL_PREFIXES.iter().any(|s| t.starts_with(s)) => continue,
            Some(t) => {
                return Err(bad(format!(
                    "{p}: Input tag '{t}' found using 'type' does not match any of the expected \
                     tags (custom tools take `name`, `description` and `input_schema`)"
                )));
            }
        }
        let name = match tool.get("name") {
            Some(Value::String(n)) if valid_tool_name(n) => n.clone(),
            Some(_) => {
                return Err(bad(format!(
                    "{p}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
                )));
            }
            None => return Err(bad(format!("{p}.custom.name: Field required"))),
        };
        let Some(schema) = tool.get("input_schema").filter(|s| s.is_object()) else {
            return Err(bad(format!("{p}.custom.input_schema: Field required")));
        };
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err(bad(format!(
                "{p}.custom.input_schema.type: Input should be 'object'"
            )));
        }
        tools.push(ToolDef {
            name,
            parameters: schema.clone(),
        });
    }
    Ok(tools)
}

fn parse_tool_choice(value: Option<&Value>, tools: &[ToolDef]) -> Result<ToolChoice, MockError> {
    let obj = match value {
        None | Some(Value::Null) => return Ok(ToolChoice::Auto),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(bad("tool_choice: Input should be a valid dictionary")),
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("auto") => Ok(ToolChoice::Auto),
        Some("any") => Ok(ToolChoice::Required),
        Some("none") => Ok(ToolChoice::None),
        Some("tool") => {
            let Some(name) = obj.get("name").and_then(Value::as_str) else {
                return Err(bad("tool_choice.tool.name: Field required"));
            };
            if !tools.iter().any(|t| t.name == name) {
                return Err(bad(format!(
                    "tool_choice: tool '{name}' not found in `tools`"
                )));
            }
            Ok(ToolChoice::Named(name.to_owned()))
        }
        _ => Err(bad(
            "tool_choice: Input tag found using 'type' does not match any of the expected tags: \
             'auto', 'any', 'tool', 'none'",
        )),
    }
}

/// Top-level fields that exist only under a beta, with the beta's name prefix.
const BETA_FIELDS: &[(&str, &str)] = &[
    ("context_management", "context-management-"),
    ("container", "code-execution-"),
    ("mcp_servers", "mcp-client-"),
];

/// Most `cache_control` breakpoints one request may set.
const MAX_CACHE_BREAKPOINTS: usize = 4;

/// `cache_control` rules: at most four breakpoints over system, tools and message blocks; only `ephemeral`; never
/// on `thinking` blocks or empty text.
fn check_cache_control(obj: &serde_json::Map<String, Value>) -> Result<(), MockError> {
    fn visit(v: &Value, n: &mut usize) -> Result<(), MockError> {
        match v {
            Value::Object(m) => {
                if let Some(cc) = m.get("cache_control") {
                    if cc.get("type").and_then(Value::as_str) != Some("ephemeral") {
                        return Err(bad("cache_control.type: Input should be 'ephemeral'"));
                    }
                    match m.get("type").and_then(Value::as_str) {
                        Some("thinking" | "redacted_thinking") => {
                            return Err(bad("cache_control cannot be set on thinking blocks"));
                        }
                        Some("text") if m.get("text").and_then(Value::as_str) == Some("") => {
                            return Err(bad("cache_control cannot be set for empty text blocks"));
                        }
                        _ => {}
                    }
                    *n += 1;
                }
                m.values().try_for_each(|x| visit(x, n))
            }
            Value::Array(a) => a.iter().try_for_each(|x| visit(x, n)),
            _ => Ok(()),
        }
    }
    let mut n = 0;
    for key in ["system", "tools", "messages"] {
        if let Some(v) = obj.get(key) {
            visit(v, &mut n)?;
        }
    }
    if n > MAX_CACHE_BREAKPOINTS {
        return Err(bad(format!(
            "A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {n}."
        )));
    }
    Ok(())
}

/// `thinking`: true when enabled (with a budget of at least 1024, below `max_tokens`) or adaptive.
fn parse_thinking(value: Option<&Value>, max_tokens: u64) -> Result<bool, MockError> {
    let Some(v) = value.filter(|v| !v.is_null()) else {
        return Ok(false);
    };
    match v.get("type").and_then(Value::as_str) {
        Some("disabled") => Ok(false),
        // Adaptive thinking: the model decides how much to think (no budget).
        Some("adaptive") => Ok(true),
        Some("enabled") => {
            let Some(budget) = v.get("budget_tokens").and_then(Value::as_u64) else {
                return Err(bad("thinking.enabled.budget_tokens: Field required"));
            };
            if budget < MIN_THINKING_BUDGET {
                return Err(bad(format!(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to \
                     {MIN_THINKING_BUDGET}"
                )));
            }
            if max_tokens <= budget {
                return Err(bad(
                    "`max_tokens` must be greater than `thinking.budget_tokens`",
                ));
            }
            Ok(true)
        }
        _ => Err(bad(
            "thinking: Input tag found using 'type' does not match any of the expected tags: \
             'enabled', 'disabled', 'adaptive'",
        )),
    }
}

/// Extended thinking forbids non-default `temperature` and forced tool use.
fn check_thinking_compat(
    obj: &Map<String, Value>,
    tool_choice: &ToolChoice,
) -> Result<(), MockError> {
    if obj
        .get("temperature")
        .and_then(Value::as_f64)
        .is_some_and(|t| (t - 1.0).abs() > f64::EPSILON)
    {
        return Err(bad(
            "`temperature` may only be set to 1 when thinking is enabled",
        ));
    }
    if matches!(tool_choice, ToolChoice::Required | ToolChoice::Named(_)) {
        return Err(bad(
            "Thinking may not be enabled when tool_choice forces tool use.",
        ));
    }
    Ok(())
}

/// Structured output from `output_config.format` (or the older top-level `output_format`).
fn parse_format(obj: &Map<String, Value>) -> Result<OutputFormat, MockError> {
    let (format, p) = match (obj.get("output_config"), obj.get("output_format")) {
        (Some(c), _) if !c.is_null() => {
            if !c.is_object() {
                return Err(bad("output_config: Input should be a valid dictionary"));
            }
            (c.get("format"), "output_config.format")
        }
        (_, Some(f)) => (Some(f), "output_format"),
        _ => (None, ""),
    };
    let Some(format) = format.filter(|f| !f.is_null()) else {
        return Ok(OutputFormat::Text);
    };
    if format.get("type").and_then(Value::as_str) != Some("json_schema") {
        return Err(bad(format!("{p}.type: Input should be 'json_schema'")));
    }
    match format.get("schema") {
        Some(s) if s.is_object() => Ok(OutputFormat::JsonSchema(s.clone())),
        _ => Err(bad(format!("{p}.schema: Field required"))),
    }
}

/// Validates and translates a Messages request body; `signatures` checks thinking history.
pub(crate) fn parse_request(
    body: &[u8],
    signatures: &Signatures,
    betas: &[String],
) -> Result<MessagesRequest, MockError> {
    let obj = json_object(body)?;
    if let Some(extra) = obj.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(bad(format!("{extra}: Extra inputs are not permitted")));
    }
    let has_beta = |prefix: &str| betas.iter().any(|b| b.starts_with(prefix));
    // Beta-gated fields are rejected without their beta, as the API does.
    for (field, beta) in BETA_FIELDS {
        if obj.contains_key(*field) && !has_beta(beta) {
            return Err(bad(format!(
                "{field}: Extra inputs are not permitted (requires the `anthropic-beta: {beta}…` header)"
            )));
        }
    }
    check_cache_control(&obj)?;
    let model = match obj.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        Some(_) => return Err(bad("model: Input should be a valid string")),
        None => return Err(bad("model: Field required")),
    };
    let max_tokens = match obj.get("max_tokens") {
        None | Some(Value::Null) => return Err(bad("max_tokens: Field required")),
        Some(v) => v
            .as_u64()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad("max_tokens: Input should be a positive integer"))?,
    };
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("stream: Input should be a valid boolean")),
    };
    unit_interval(&obj, "temperature")?;
    unit_interval(&obj, "top_p")?;
    if let Some(stops) = obj.get("stop_sequences").filter(|v| !v.is_null())
        && !stops
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    {
        return Err(bad(
            "stop_sequences: Input should be a valid list of strings",
        ));
    }
    let mut messages = Vec::new();
    if let Some(system) = system_text(obj.get("system"))? {
        messages.push(Message {
            role: Role::System,
            text: system,
        });
    }
    messages.extend(parse_messages(
        obj.get("messages"),
        signatures,
        has_beta("mid-conversation-system-"),
    )?);
    let tools = parse_tools(obj.get("tools"))?;
    let tool_choice = parse_tool_choice(obj.get("tool_choice"), &tools)?;
    let thinking = parse_thinking(obj.get("thinking"), max_tokens)?;
    if thinking {
        check_thinking_compat(&obj, &tool_choice)?;
    }
    let format = parse_format(&obj)?;
    Ok(MessagesRequest {
        model,
        stream,
        thinking,
        conv: Conversation {
            messages,
            tools,
            tool_choice,
            format,
            max_tokens: Some(max_tokens),
        },
    })
}
