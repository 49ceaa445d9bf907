//! Core answers → Responses API objects for the gateway's Responses dialect: the `response` object, its output
//! items (`reasoning`, `message`, `function_call`) and usage with cached and reasoning tokens.

use serde_json::{Map, Value, json};

use super::tools::{self, ToolNames};
use crate::types::{ChatResponse, FinishReason, Message, Part, Usage};

/// Identity of one answered response and the request fields it echoes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Meta {
    /// `resp_…` id.
    pub id: String,
    /// Unix seconds.
    pub created_at: u64,
    /// The model name as the caller sent it.
    pub model: String,
    /// Request fields echoed in the object (see `inbound::Inbound::echo`).
    pub echo: Map<String, Value>,
    /// Namespaced and custom tools of the request, to map calls back (see `inbound::Inbound::tools`).
    pub tools: ToolNames,
}

impl Meta {
    /// An output item id with `prefix` (`msg`, `fc`, `rs`) derived from the response id, `n` its position.
    pub fn item_id(&self, prefix: &str, n: usize) -> String {
        let base = self.id.strip_prefix("resp_").unwrap_or(&self.id);
        format!("{prefix}_{base}_{n}")
    }
}

/// Usage in Responses shape.
pub fn wire_usage(u: &Usage) -> Value {
    let input = u.prompt.unwrap_or(0);
    let output = u.completion.unwrap_or(0);
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": u.cached_prompt.unwrap_or(0)},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": u.reasoning.unwrap_or(0)},
        "total_tokens": u.total.unwrap_or(input + output),
    })
}

/// `status` and `incomplete_details` for a finish reason.
pub fn status(reason: &FinishReason) -> (&'static str, Value) {
    match reason {
        FinishReason::Length => ("incomplete", json!({"reason": "max_output_tokens"})),
        FinishReason::ContentFilter => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

/// A `response` object.
pub fn object(meta: &Meta, status: &str, output: Vec<Value>, usage: Value) -> Value {
    let mut obj = Map::new();
    obj.insert("id".into(), json!(meta.id));
    obj.insert("object".into(), json!("response"));
    obj.insert("created_at".into(), json!(meta.created_at));
    obj.insert("status".into(), json!(status));
    obj.insert("error".into(), Value::Null);
    obj.insert("incomplete_details".into(), Value::Null);
    obj.insert("model".into(), json!(meta.model));
    obj.insert("output".into(), Value::Array(output));
    obj.insert("usage".into(), usage);
    for (k, v) in &meta.echo {
        obj.insert(k.clone(), v.clone());
    }
    Value::Object(obj)
}

/// A `reasoning` output item.
pub fn reasoning_item(id: &str, text: &str) -> Value {
    let summary: Vec<Value> = if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({"type": "summary_text", "text": text})]
    };
    json!({"id": id, "type": "reasoning", "summary": summary})
}

/// An `output_text` content part.
pub fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": []})
}

/// An assistant `message` output item.
pub fn message_item(id: &str, status: &str, content: Vec<Value>) -> Value {
    json!({"id": id, "type": "message", "status": status, "role": "assistant", "content": content})
}

/// The output items of an assistant message: reasoning, then one message with its text and refusal parts, then
/// one item per function call.
pub fn items(meta: &Meta, message: &Message, status: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let reasoning: Vec<&str> = message
        .content
        .iter()
        .filter_map(|p| match p {
            Part::Reasoning { text, .. } if !text.is_empty() => Some(text.as_str()),
            _ => None,
        })
        .collect();
    if !reasoning.is_empty() {
        out.push(reasoning_item(
            &meta.item_id("rs", out.len()),
            &reasoning.join("\n"),
        ));
    }
    let content: Vec<Value> = message
        .content
        .iter()
        .filter_map(|p| match p {
            Part::Text { text } => Some(text_part(text)),
            Part::Refusal { text } => Some(json!({"type": "refusal", "refusal": text})),
            _ => None,
        })
        .collect();
    if !content.is_empty() || message.tool_calls.is_empty() {
        let content = if content.is_empty() {
            vec![text_part("")]
        } else {
            content
        };
        out.push(message_item(
            &meta.item_id("msg", out.len()),
            status,
            content,
        ));
    }
    for c in &message.tool_calls {
        out.push(tools::call_item(
            &meta.tools,
            &meta.item_id("fc", out.len()),
            "completed",
            &crate::wire::call_id::attach(&c.id, c.signature.as_deref()),
            &c.name,
            &c.arguments,
        ));
    }
    out
}

/// A complete (non-streamed) answer as a `response` object.
pub fn response(resp: &ChatResponse, meta: &Meta) -> Value {
    let (status, details) = status(&resp.finish);
    let mut v = object(
        meta,
        status,
        items(meta, &resp.message, status),
        wire_usage(&resp.usage),
    );
    v["incomplete_details"] = details;
    v
}
