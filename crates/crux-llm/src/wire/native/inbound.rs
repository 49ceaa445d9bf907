//! The native `/api/chat` dialect (the original Python service's shapes, minus its bugs): the request body into an
//! unrouted core request, the `{"ok":true,"response":…}` answer, and the NDJSON stream lines
//! `{type, delta, structured, finish, error}`.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::providers::ProviderId;
use crate::types::{
    ChatRequest, ChatResponse, Message, Part, ResponseFormat, Role, StreamEvent, Tool, ToolCall,
};

/// The native chat body (`{provider, model, messages, max_tokens?, temperature?, response_format?, json_schema?,
/// tools?, extra?}`).
#[derive(Debug, Deserialize)]
pub struct ChatBody {
    provider: String,
    model: String,
    messages: Vec<NativeMessage>,
    #[serde(default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    response_format: Option<String>,
    #[serde(default)]
    json_schema: Option<Value>,
    #[serde(default)]
    tools: Option<Vec<Value>>,
    #[serde(default)]
    extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct NativeMessage {
    role: String,
    #[serde(default)]
    content: Value,
    #[serde(default)]
    tool_call_id: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<Value>>,
}

fn content_parts(content: &Value) -> Result<Vec<Part>, String> {
    match content {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![Part::Text { text: s.clone() }]),
        Value::Array(parts) => parts
            .iter()
            .map(|p| {
                match (
                    p.get("type").and_then(Value::as_str).unwrap_or("text"),
                    p.get("text"),
                ) {
                    ("text", Some(Value::String(t))) => Ok(Part::Text { text: t.clone() }),
                    ("json", _) => Ok(Part::Text {
                        text: p.get("data").map(Value::to_string).unwrap_or_default(),
                    }),
                    (kind, _) => Err(format!("unsupported content part type '{kind}'")),
                }
            })
            .collect(),
        other => Ok(vec![Part::Text {
            text: other.to_string(),
        }]),
    }
}

fn tool(v: &Value) -> Result<Tool, String> {
    let f = v.get("function").unwrap_or(v);
    let name = f
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    let name = name.ok_or_else(|| "each tool needs a non-empty 'name'".to_owned())?;
    Ok(Tool {
        name: name.to_owned(),
        description: f
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        parameters: f
            .get("parameters")
            .cloned()
            .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        strict: None,
    })
}

/// Convert a native body to an unrouted core request and the `provider/model` name it asks for; errors are
/// messages for a 400.
pub fn to_core(body: ChatBody) -> Result<(ChatRequest, String), String> {
    let provider: ProviderId = body.provider.trim().parse().map_err(|e| format!("{e}"))?;
    if body.model.trim().is_empty() {
        return Err("'model' is required".into());
    }
    if body.messages.is_empty() {
        return Err("'messages' must contain at least one message".into());
    }
    if body.max_tokens == Some(0) {
        return Err("'max_tokens' must be greater than 0".into());
    }
    if body.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err("'temperature' must be between 0 and 2".into());
    }
    let mut messages = Vec::new();
    for m in body.messages {
        let role = match m.role.as_str() {
            "system" => Role::System,
            "developer" => Role::Developer,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            other => return Err(format!("unknown role '{other}'")),
        };
        let content = content_parts(&m.content)?;
        if role == Role::User
            && content
                .iter()
                .all(|p| matches!(p, Part::Text { text } if text.trim().is_empty()))
        {
            return Err("a user message needs non-blank text".into());
        }
        let tool_calls = m
            .tool_calls
            .unwrap_or_default()
            .iter()
            .map(|c| {
                let f = c.get("function").unwrap_or(c);
                let args = f.get("arguments").map_or_else(String::new, |a| {
                    a.as_str().map_or_else(|| a.to_string(), str::to_owned)
                });
                ToolCall::new(
                    c.get("id").and_then(Value::as_str).unwrap_or_default(),
                    f.get("name").and_then(Value::as_str).unwrap_or_default(),
                    args,
                )
            })
            .collect();
        messages.push(Message {
            role,
            content,
            tool_calls,
            tool_call_id: m.tool_call_id,
            name: None,
        });
    }
    let name = format!("{provider}/{}", body.model.trim());
    let mut req = ChatRequest::unrouted(messages);
    req.max_tokens = body.max_tokens;
    req.temperature = body.temperature;
    req.tools = body
        .tools
        .unwrap_or_default()
        .iter()
        .map(tool)
        .collect::<Result<_, _>>()?;
    req.response_format = match (body.json_schema, body.response_format.as_deref()) {
        (Some(schema), _) => ResponseFormat::JsonSchema {
            name: "response".into(),
            schema,
            strict: None,
        },
        (None, Some("json_object")) => ResponseFormat::JsonObject,
        (None, None | Some("text")) => ResponseFormat::Text,
        (None, Some(other)) => {
            return Err(format!("unknown response_format '{other}'"));
        }
    };
    req.extra = body.extra;
    Ok((req, name))
}

/// The original service's response shape (`{"ok":true,"response":{text, parts, meta}}`).
pub fn response(resp: &ChatResponse, latency_ms: u128) -> Value {
    let text = resp.text();
    let mut parts: Vec<Value> = Vec::new();
    if !text.is_empty() {
        parts.push(match serde_json::from_str::<Value>(&text) {
            Ok(v @ (Value::Object(_) | Value::Array(_))) => {
                json!({"type": "json", "text": text, "data": v})
            }
            _ => json!({"type": "text", "text": text}),
        });
    }
    for c in &resp.message.tool_calls {
        parts.push(json!({"type": "tool_call", "data": {"id": c.id, "name": c.name, "arguments": c.arguments}}));
    }
    json!({"ok": true, "response": {
        "text": text,
        "parts": if parts.is_empty() { Value::Null } else { Value::Array(parts) },
        "raw": null,
        "meta": {
            "provider_name": resp.provider,
            "model_name": resp.model,
            "latency_ms": latency_ms,
            "token_usage": {"prompt": resp.usage.prompt, "completion": resp.usage.completion, "total": resp.usage.total},
            "extra": {"finish_reason": resp.finish.as_str(), "response_id": resp.id},
        },
    }})
}

fn line(v: &Value) -> Bytes {
    let mut out = serde_json::to_vec(v).unwrap_or_default();
    out.push(b'\n');
    Bytes::from(out)
}

/// One NDJSON line for a stream event (`None` for events the native stream does not show); a stream ends with
/// exactly one `final` line, or the [`error_line`] of its terminal error.
pub fn ndjson(ev: &StreamEvent) -> Option<Bytes> {
    let v = match ev {
        StreamEvent::TextDelta { text } => {
            json!({"type": "delta", "delta": text, "structured": null, "finish": false, "error": null})
        }
        StreamEvent::ToolCallDelta {
            index,
            id,
            name,
            args_fragment,
            ..
        } => json!({"type": "delta", "delta": null,
            "structured": {"tool_call": {"index": index, "id": id, "name": name, "arguments": args_fragment}},
            "finish": false, "error": null}),
        StreamEvent::Usage(u) => json!({"type": "delta", "delta": null,
            "structured": {"token_usage": {"prompt": u.prompt, "completion": u.completion, "total": u.total}},
            "finish": false, "error": null}),
        StreamEvent::Finish { reason, metrics } => {
            json!({"type": "final", "delta": null, "structured":
            {"finish_reason": reason.as_str(), "metrics": metrics}, "finish": true, "error": null})
        }
        StreamEvent::Start { .. } | StreamEvent::ReasoningDelta { .. } => return None,
    };
    Some(line(&v))
}

/// The terminal `error` line (`"error": "code:message"`, the original's format).
pub fn error_line(code: &str, message: &str) -> Bytes {
    line(
        &json!({"type": "error", "delta": null, "structured": null, "finish": true,
        "error": format!("{code}:{message}")}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_body_validation() {
        let ok: ChatBody = serde_json::from_value(json!({"provider": "openai", "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            "response_format": "json_object", "tools": [{"name": "f", "parameters": {"type": "object"}}]}))
        .unwrap();
        let (req, name) = to_core(ok).unwrap();
        assert_eq!(name, "openai/gpt-4o-mini");
        assert!(
            req.model.model.is_empty(),
            "unrouted until the router writes the target"
        );
        assert_eq!(req.response_format, ResponseFormat::JsonObject);
        assert_eq!(req.tools[0].name, "f");
        for bad in [
            json!({"provider": "nope", "model": "m", "messages": [{"role": "user", "content": "x"}]}),
            json!({"provider": "openai", "model": "", "messages": [{"role": "user", "content": "x"}]}),
            json!({"provider": "openai", "model": "m", "messages": []}),
            json!({"provider": "openai", "model": "m", "messages": [{"role": "user", "content": "  "}]}),
            json!({"provider": "openai", "model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}),
            json!({"provider": "openai", "model": "m", "temperature": 3.0, "messages": [{"role": "user", "content": "x"}]}),
        ] {
            let body: ChatBody = serde_json::from_value(bad.clone()).unwrap();
            assert!(to_core(body).is_err(), "{bad}");
        }
    }
}
