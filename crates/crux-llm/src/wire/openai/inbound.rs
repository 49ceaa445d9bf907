//! The OpenAI dialect served by the gateway: inbound Chat Completions body → core request; core response and
//! stream events → Chat Completions JSON and `chat.completion.chunk` SSE frames.

use serde::Serialize;
use serde_json::{Value, json};

use super::types::{
    ChatCompletion, ChatCompletionRequest, Choice, CompletionDetails, PromptDetails, StopField,
    WireContent, WireFunctionCall, WireMessage, WirePart, WireToolCall, WireUsage,
};
use crate::types::{
    CacheBreakpoint, CacheTtl, ChatRequest, ChatResponse, FinishReason, ImageSource, Message, Part,
    ResponseFormat, Role, StreamEvent, Tool, ToolCall, ToolChoice, Usage,
};

/// How the caller wants the answer delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delivery {
    /// Stream as SSE.
    pub stream: bool,
    /// Send the final usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
}

/// Convert an inbound body to an unrouted core request (the router writes the target); errors are messages for
/// a 400.
pub fn to_core(body: ChatCompletionRequest) -> Result<(ChatRequest, Delivery), String> {
    if body.messages.is_empty() {
        return Err("'messages' must contain at least one message".into());
    }
    if let Some(n) = body.extra.get("n").and_then(Value::as_u64)
        && n > 1
    {
        return Err("'n' greater than 1 is not supported".into());
    }
    let mut messages = Vec::with_capacity(body.messages.len());
    let mut cache = Vec::new();
    for m in body.messages {
        let (m, mark) = message(m)?;
        messages.push(m);
        if let Some(ttl) = mark {
            cache.push(CacheBreakpoint {
                messages: messages.len(),
                ttl,
            });
        }
    }
    let mut req = ChatRequest::unrouted(messages);
    req.cache = cache;
    req.tools = body
        .tools
        .unwrap_or_default()
        .into_iter()
        .map(|t| Tool {
            name: t.function.name,
            description: t.function.description,
            parameters: t
                .function
                .parameters
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            strict: t.function.strict,
        })
        .collect();
    req.tool_choice = body.tool_choice.as_ref().map(tool_choice).transpose()?;
    req.response_format = body
        .response_format
        .as_ref()
        .map(response_format)
        .transpose()?
        .unwrap_or_default();
    req.max_tokens = body.max_completion_tokens.or(body.max_tokens);
    if req.max_tokens == Some(0) {
        return Err("'max_tokens' must be at least 1".into());
    }
    if body.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err("'temperature' must be between 0 and 2".into());
    }
    req.temperature = body.temperature;
    req.top_p = body.top_p;
    req.stop = match body.stop {
        Some(StopField::One(s)) => vec![s],
        Some(StopField::Many(v)) => v,
        None => Vec::new(),
    };
    req.seed = body.seed.or(body.random_seed);
    req.user = body.user;
    req.reasoning_effort = body.reasoning_effort;
    req.extra = body.extra;
    let stream = body.stream.unwrap_or(false);
    let include_usage = stream && body.stream_options.is_some_and(|o| o.include_usage);
    Ok((
        req,
        Delivery {
            stream,
            include_usage,
        },
    ))
}

/// One message, and the TTL of a `cache_control` on one of its text parts.
fn message(m: WireMessage) -> Result<(Message, Option<CacheTtl>), String> {
    let role = match m.role.as_str() {
        "system" => Role::System,
        "developer" => Role::Developer,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "tool" | "function" => Role::Tool,
        other => return Err(format!("unknown message role '{other}'")),
    };
    let mut content = Vec::new();
    let mut mark = None;
    if let Some(r) = m
        .reasoning_content
        .or(m.reasoning)
        .filter(|r| !r.is_empty())
    {
        content.push(Part::Reasoning {
            text: r,
            signature: None,
        });
    }
    match m.content {
        Some(WireContent::Text(text)) => content.push(Part::Text { text }),
        Some(WireContent::Parts(parts)) => {
            for p in parts {
                match p {
                    WirePart::Text {
                        text,
                        cache_control,
                    } => {
                        if let Some(c) = cache_control.filter(Value::is_object) {
                            mark = Some(CacheTtl::of_cache_control(&c));
                        }
                        content.push(Part::Text { text });
                    }
                    WirePart::Refusal { refusal } => content.push(Part::Refusal { text: refusal }),
                    WirePart::ImageUrl { image_url } => content.push(Part::Image {
                        source: ImageSource::Url { url: image_url.url },
                        detail: image_url.detail,
                    }),
                    WirePart::Unknown => return Err("unsupported content part type".into()),
                }
            }
        }
        None => {}
    }
    if role == Role::Tool && m.tool_call_id.as_deref().is_none_or(str::is_empty) {
        return Err("a 'tool' message needs 'tool_call_id'".into());
    }
    Ok((
        Message {
            role,
            content,
            tool_calls: m
                .tool_calls
                .unwrap_or_default()
                .into_iter()
                .map(|c| {
                    let (id, signature) = crate::wire::call_id::detach(&c.id);
                    let mut call = ToolCall::new(id, c.function.name, c.function.arguments);
                    call.signature = signature;
                    call
                })
                .collect(),
            tool_call_id: m.tool_call_id.as_deref().map(crate::wire::call_id::plain),
            name: m.name,
        },
        mark,
    ))
}

fn tool_choice(v: &Value) -> Result<ToolChoice, String> {
    match v {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(format!("invalid tool_choice '{other}'")),
        },
        Value::Object(o) => o
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .map(|n| ToolChoice::Function(n.to_owned()))
            .ok_or_else(|| "tool_choice object needs function.name".into()),
        _ => Err("invalid tool_choice".into()),
    }
}

fn response_format(v: &Value) -> Result<ResponseFormat, String> {
    match v.get("type").and_then(Value::as_str) {
        Some("text") => Ok(ResponseFormat::Text),
        Some("json_object") => Ok(ResponseFormat::JsonObject),
        Some("json_schema") => {
            let js = v
                .get("json_schema")
                .ok_or("response_format json_schema needs 'json_schema'")?;
            Ok(ResponseFormat::JsonSchema {
                name: js
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("response")
                    .to_owned(),
                schema: js
                    .get("schema")
                    .cloned()
                    .unwrap_or_else(|| json!({"type": "object"})),
                strict: js.get("strict").and_then(Value::as_bool),
            })
        }
        _ => Err("invalid response_format type".into()),
    }
}

/// The OpenAI `finish_reason` for a core reason.
pub fn finish_reason(reason: &FinishReason) -> &str {
    match reason {
        FinishReason::Error => "stop",
        other => other.as_str(),
    }
}

/// Usage in OpenAI shape.
pub fn wire_usage(u: &Usage) -> WireUsage {
    let prompt = u.prompt.unwrap_or(0);
    let completion = u.completion.unwrap_or(0);
    WireUsage {
        prompt_tokens: Some(prompt),
        completion_tokens: Some(completion),
        total_tokens: Some(u.total.unwrap_or(prompt + completion)),
        prompt_tokens_details: Some(PromptDetails {
            cached_tokens: Some(u.cached_prompt.unwrap_or(0)),
        }),
        completion_tokens_details: Some(CompletionDetails {
            reasoning_tokens: Some(u.reasoning.unwrap_or(0)),
        }),
        prompt_cache_hit_tokens: None,
        cost: u.cost,
    }
}

/// A complete response in OpenAI shape; `model` is the name the caller used.
pub fn response(resp: &ChatResponse, model: &str, created: u64) -> ChatCompletion {
    let text = resp.message.text_content();
    let reasoning: String = resp
        .message
        .content
        .iter()
        .filter_map(|p| match p {
            Part::Reasoning { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let calls: Vec<WireToolCall> = resp
        .message
        .tool_calls
        .iter()
        .map(|c| WireToolCall {
            id: crate::wire::call_id::attach(&c.id, c.signature.as_deref()),
            kind: "function".into(),
            function: WireFunctionCall {
                name: c.name.clone(),
                arguments: c.arguments.clone(),
            },
        })
        .collect();
    let refusal: String = resp
        .message
        .content
        .iter()
        .filter_map(|p| match p {
            Part::Refusal { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    ChatCompletion {
        id: completion_id(&resp.id),
        object: "chat.completion".into(),
        created,
        model: model.to_owned(),
        choices: vec![Choice {
            index: 0,
            message: WireMessage {
                role: "assistant".into(),
                content: (!text.is_empty() || calls.is_empty()).then_some(WireContent::Text(text)),
                tool_calls: (!calls.is_empty()).then_some(calls),
                refusal: (!refusal.is_empty()).then_some(refusal),
                reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
                ..WireMessage::default()
            },
            finish_reason: Some(finish_reason(&resp.finish).to_owned()),
        }],
        usage: Some(wire_usage(&resp.usage)),
    }
}

fn completion_id(id: &str) -> String {
    if id.is_empty() {
        "chatcmpl-crux".to_owned()
    } else {
        id.to_owned()
    }
}

/// One `chat.completion.chunk`, serialized straight from borrowed fields (no intermediate JSON tree per token).
#[derive(Serialize)]
struct Chunk<'a, C> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: C,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Value>,
}

/// A choice carrying a delta; `()` serializes as JSON `null`.
#[derive(Serialize)]
struct DeltaChoice<D> {
    index: u32,
    delta: D,
    logprobs: (),
    finish_reason: (),
}

/// The hot-path delta: one text fragment.
#[derive(Serialize)]
struct ContentDelta<'a> {
    content: &'a str,
}

/// Encodes core stream events as `chat.completion.chunk` SSE frames.
#[derive(Debug)]
pub struct ChunkEncoder {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    usage: Option<Usage>,
}

impl ChunkEncoder {
    /// An encoder answering as `model`.
    pub fn new(model: &str, created: u64, delivery: Delivery) -> Self {
        Self {
            id: "chatcmpl-crux".into(),
            model: model.to_owned(),
            created,
            include_usage: delivery.include_usage,
            usage: None,
        }
    }

    fn frame<C: Serialize>(&self, choices: C, usage: Option<Value>, out: &mut Vec<u8>) {
        let chunk = Chunk {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.created,
            model: &self.model,
            choices,
            usage,
        };
        out.extend_from_slice(b"data: ");
        // Serializing borrowed strings and numbers cannot fail.
        let _ = serde_json::to_writer(&mut *out, &chunk);
        out.extend_from_slice(b"\n\n");
    }

    fn delta<D: Serialize>(&self, delta: D, out: &mut Vec<u8>) {
        self.frame(
            [DeltaChoice {
                index: 0,
                delta,
                logprobs: (),
                finish_reason: (),
            }],
            None,
            out,
        );
    }

    /// Append the frames for one event.
    pub fn encode(&mut self, ev: &StreamEvent, out: &mut Vec<u8>) {
        match ev {
            StreamEvent::Start { id, .. } => {
                self.id = completion_id(id);
                self.delta(json!({"role": "assistant", "content": ""}), out);
            }
            StreamEvent::TextDelta { text } => self.delta(ContentDelta { content: text }, out),
            StreamEvent::ReasoningDelta { text, .. } => {
                if !text.is_empty() {
                    self.delta(json!({ "reasoning_content": text }), out);
                }
            }
            StreamEvent::ToolCallDelta {
                index,
                id,
                name,
                args_fragment,
                signature,
            } => {
                let mut call = json!({"index": index, "function": {"arguments": args_fragment}});
                if let Some(id) = id {
                    call["id"] = json!(crate::wire::call_id::attach(id, signature.as_deref()));
                    call["type"] = json!("function");
                }
                if let Some(name) = name {
                    call["function"]["name"] = json!(name);
                }
                self.delta(json!({ "tool_calls": [call] }), out);
            }
            StreamEvent::Usage(u) => self.usage = Some(*u),
            StreamEvent::Finish { reason, .. } => {
                let choices = json!([{"index": 0, "delta": {}, "logprobs": null,
                    "finish_reason": finish_reason(reason)}]);
                self.frame(choices, None, out);
                if self.include_usage {
                    let usage =
                        serde_json::to_value(wire_usage(&self.usage.unwrap_or_default())).ok();
                    self.frame(json!([]), usage, out);
                }
                out.extend_from_slice(b"data: [DONE]\n\n");
            }
        }
    }

    /// Append an in-band error frame (after content was already sent); the stream then ends.
    pub fn error(&self, message: &str, code: &str, out: &mut Vec<u8>) {
        let body = json!({"error": {"message": message, "type": "upstream_error", "param": null, "code": code}});
        out.extend_from_slice(b"data: ");
        let _ = serde_json::to_writer(&mut *out, &body);
        out.extend_from_slice(b"\n\n");
    }
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
