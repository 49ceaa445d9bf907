//! Core `ChatRequest` → Responses API body: input items, developer role, `max_output_tokens`, no sampling knobs.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::Result;
use crate::providers::ProviderSpec;
use crate::types::{ChatRequest, Message, Part, ResponseFormat, Role, ToolChoice};

/// `POST /responses` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesRequest {
    /// Model id.
    pub model: String,
    /// Input items.
    pub input: Vec<Value>,
    /// Function tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Value>>,
    /// Tool choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// Output token limit (reasoning included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// `{"effort": ..}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Value>,
    /// `{"format": ..}` for structured output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Value>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Stream the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Crux never asks OpenAI to store responses.
    pub store: bool,
    /// Anything else, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Build the upstream body. Temperature, top_p and stop are not sent: reasoning models reject them.
pub fn build(_spec: &ProviderSpec, req: &ChatRequest, stream: bool) -> Result<ResponsesRequest> {
    let mut body = ResponsesRequest {
        model: req.model.model.clone(),
        input: req.messages.iter().flat_map(items).collect(),
        tools: (!req.tools.is_empty()).then(|| {
            req.tools
                .iter()
                .map(|t| {
                    let mut tool =
                        json!({"type": "function", "name": t.name, "parameters": t.parameters});
                    if let Some(d) = &t.description {
                        tool["description"] = json!(d);
                    }
                    if let Some(s) = t.strict {
                        tool["strict"] = json!(s);
                    }
                    tool
                })
                .collect()
        }),
        tool_choice: req.tool_choice.as_ref().map(|c| match c {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Function(name) => json!({"type": "function", "name": name}),
        }),
        max_output_tokens: req.max_tokens,
        reasoning: req.reasoning_effort.as_ref().map(|e| json!({"effort": e})),
        text: match &req.response_format {
            ResponseFormat::Text => None,
            ResponseFormat::JsonObject => Some(json!({"format": {"type": "json_object"}})),
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => {
                let mut f = json!({"type": "json_schema", "name": name, "schema": schema});
                if let Some(s) = strict {
                    f["strict"] = json!(s);
                }
                Some(json!({ "format": f }))
            }
        },
        user: req.user.clone(),
        stream: stream.then_some(true),
        store: false,
        extra: Map::new(),
    };
    for (k, v) in &req.extra {
        if !matches!(k.as_str(), "model" | "input" | "stream") {
            body.extra.insert(k.clone(), v.clone());
        }
    }
    Ok(body)
}

/// The input items of one message.
fn items(m: &Message) -> Vec<Value> {
    match m.role {
        Role::System | Role::Developer => {
            vec![json!({"role": "developer", "content": m.text_content()})]
        }
        Role::User => vec![json!({"role": "user", "content": user_content(&m.content)})],
        Role::Tool => vec![json!({
            "type": "function_call_output",
            "call_id": m.tool_call_id.clone().unwrap_or_default(),
            "output": m.text_content(),
        })],
        Role::Assistant => {
            let mut out = Vec::new();
            let text = m.text_content();
            if !text.is_empty() {
                out.push(json!({"role": "assistant", "content": text}));
            }
            out.extend(m.tool_calls.iter().map(|c| {
                json!({"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.arguments})
            }));
            out
        }
    }
}

fn user_content(parts: &[Part]) -> Value {
    if let [Part::Text { text }] = parts {
        return json!(text);
    }
    Value::Array(
        parts
            .iter()
            .filter_map(|p| match p {
                Part::Text { text } | Part::Refusal { text } => {
                    Some(json!({"type": "input_text", "text": text}))
                }
                Part::Image { source, detail } => {
                    let mut v = json!({"type": "input_image", "image_url": source.to_url()});
                    if let Some(d) = detail {
                        v["detail"] = json!(d);
                    }
                    Some(v)
                }
                Part::Reasoning { .. } => None,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Tool, ToolCall};

    #[test]
    fn reasoning_body_shape() {
        let mut r = ChatRequest::new(
            "openai/o3-mini".parse().unwrap(),
            vec![
                Message::system("be terse"),
                Message::user(" exact\n  text "),
                Message {
                    tool_calls: vec![ToolCall::new("call_1", "f", r#"{"a":1}"#)],
                    content: vec![],
                    ..Message::assistant("")
                },
                Message::tool_result("call_1", "42"),
            ],
        );
        r.max_tokens = Some(500);
        r.temperature = Some(0.3);
        r.reasoning_effort = Some("high".into());
        r.tools = vec![Tool {
            name: "f".into(),
            description: None,
            parameters: json!({"type":"object"}),
            strict: None,
        }];
        r.response_format = ResponseFormat::JsonSchema {
            name: "o".into(),
            schema: json!({"type":"object"}),
            strict: Some(true),
        };
        let b = serde_json::to_value(build(r.model.provider.spec(), &r, true).unwrap()).unwrap();
        assert_eq!(
            b["input"][0],
            json!({"role": "developer", "content": "be terse"})
        );
        assert_eq!(b["input"][1]["content"], " exact\n  text ");
        assert_eq!(b["input"][2]["type"], "function_call");
        assert_eq!(
            b["input"][3],
            json!({"type": "function_call_output", "call_id": "call_1", "output": "42"})
        );
        assert_eq!(b["max_output_tokens"], 500);
        assert!(b.get("temperature").is_none() && b.get("max_tokens").is_none());
        assert_eq!(b["reasoning"], json!({"effort": "high"}));
        assert_eq!(b["text"]["format"]["type"], "json_schema");
        assert_eq!(
            b["tools"][0],
            json!({"type": "function", "name": "f", "parameters": {"type": "object"}})
        );
        assert_eq!(b["store"], false);
        assert_eq!(b["stream"], true);
    }
}
