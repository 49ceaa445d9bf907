//! Ollama native wire: rendering neutral replies as `/api/chat` objects and NDJSON stream lines,
//! `{"error": "..."}` bodies, and the model catalogue of `/api/tags` and `/api/show`.

use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::errors::MockError;
use crate::http::{json_response, with_headers};
use crate::reply::{Finish, Reply, ReplyContent, Usage, word_chunks};
use crate::stream::Frames;

/// Body (or line) sent for `invalid_json`.
pub(crate) const BROKEN_BODY: &str = r#"{"model":"broken","message":{"role":"assistant","#;

/// Simulated model load time, in nanoseconds.
const LOAD_NS: u64 = 1_500_000;
/// Simulated prompt evaluation time per token, in nanoseconds.
const PROMPT_NS_PER_TOKEN: u64 = 100_000;
/// Simulated generation time per token, in nanoseconds.
const EVAL_NS_PER_TOKEN: u64 = 10_000_000;

/// Installed models: (name, family, parameter size, quantization, size in bytes, digest).
pub(crate) const MODELS: [(&str, &str, &str, &str, u64, &str); 3] = [
    (
        "llama3.2:latest",
        "llama",
        "3.2B",
        "Q4_K_M",
        2_019_393_189,
        "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
    ),
    (
        "qwen3:8b",
        "qwen3",
        "8.2B",
        "Q4_K_M",
        5_225_387_923,
        "500a1f067a9f782620b40bee6f7b0c89e17ae61f686b92c24933e4ca4b2b8b41",
    ),
    (
        "nomic-embed-text:latest",
        "nomic-bert",
        "137M",
        "F16",
        274_302_450,
        "0a109f422b47e3a30ba2b10eca18548e944e8a23073ee3f3e947efcf3c45e59f",
    ),
];

/// `modified_at` of installed models.
const MODIFIED_AT: &str = "2025-05-10T08:06:48.639712648-07:00";

/// Identity of one chat response.
#[derive(Clone, Debug)]
pub(crate) struct Meta {
    /// Echoed model.
    pub model: String,
    /// RFC 3339 creation time.
    pub created_at: String,
}

/// Renders a [`MockError`] as an Ollama `{"error": "..."}` response.
pub(crate) fn error_response(err: &MockError) -> Response {
    with_headers(
        json_response(err.status, &json!({ "error": err.message })),
        &err.headers,
    )
}

/// The in-band error of `mid_error`.
fn mid_error_json() -> Value {
    json!({"error": "mock mid-stream failure"})
}

/// The non-streamed body for `mid_error`.
pub(crate) fn mid_error_body() -> Bytes {
    Bytes::from(mid_error_json().to_string())
}

fn object(meta: &Meta, message: Value, done: bool) -> Map<String, Value> {
    let mut obj = Map::new();
    obj.insert("model".to_owned(), json!(meta.model));
    obj.insert("created_at".to_owned(), json!(meta.created_at));
    obj.insert("message".to_owned(), message);
    obj.insert("done".to_owned(), json!(done));
    obj
}

/// Adds the final statistics; `done_reason` is `stop` even after a tool call.
fn add_stats(obj: &mut Map<String, Value>, finish: Finish, usage: Usage) {
    let reason = match finish {
        Finish::Stop | Finish::ToolCalls => "stop",
        Finish::Length => "length",
    };
    let prompt_ns = usage.prompt * PROMPT_NS_PER_TOKEN;
    let eval_ns = usage.completion * EVAL_NS_PER_TOKEN;
    let stats = [
        ("done_reason", json!(reason)),
        ("total_duration", json!(LOAD_NS + prompt_ns + eval_ns)),
        ("load_duration", json!(LOAD_NS)),
        ("prompt_eval_count", json!(usage.prompt)),
        ("prompt_eval_duration", json!(prompt_ns)),
        ("eval_count", json!(usage.completion)),
        ("eval_duration", json!(eval_ns)),
    ];
    for (k, v) in stats {
        obj.insert(k.to_owned(), v);
    }
}

fn message(reply: &Reply) -> Value {
    match &reply.content {
        ReplyContent::Text(text) => json!({"role": "assistant", "content": text}),
        ReplyContent::ToolCall(call) => json!({"role": "assistant", "content": "",
            "tool_calls": [{"function": {"name": call.name,
                                         "arguments": call.arguments_object()}}]}),
    }
}

/// Non-streamed `/api/chat` body: the whole message plus the final statistics.
pub(crate) fn completion(meta: &Meta, reply: &Reply) -> Value {
    let mut obj = object(meta, message(reply), true);
    add_stats(&mut obj, reply.finish, reply.usage);
    Value::Object(obj)
}

/// The reply to a request without messages: Ollama just loads the model.
pub(crate) fn load_only(meta: &Meta) -> Value {
    let mut obj = object(meta, json!({"role": "assistant", "content": ""}), true);
    obj.insert("done_reason".to_owned(), json!("load"));
    Value::Object(obj)
}

fn line(value: &Value) -> Bytes {
    Bytes::from(format!("{value}\n"))
}

/// NDJSON lines: one per word (or one carrying the whole tool call), then the `done: true`
/// line with the statistics as terminator.
pub(crate) fn stream_frames(meta: &Meta, reply: &Reply) -> Frames {
    let body = match &reply.content {
        ReplyContent::Text(text) => word_chunks(text)
            .into_iter()
            .map(|w| {
                let msg = json!({"role": "assistant", "content": w});
                line(&Value::Object(object(meta, msg, false)))
            })
            .collect(),
        ReplyContent::ToolCall(_) => {
            vec![line(&Value::Object(object(meta, message(reply), false)))]
        }
    };
    let mut last = object(meta, json!({"role": "assistant", "content": ""}), true);
    add_stats(&mut last, reply.finish, reply.usage);
    Frames {
        head: Vec::new(),
        body,
        terminator: Some(line(&Value::Object(last))),
        broken: Bytes::from(format!("{BROKEN_BODY}\n")),
        error: line(&mid_error_json()),
    }
}

fn is_embedding(name: &str) -> bool {
    name.contains("embed")
}

/// `GET /api/tags` body.
pub(crate) fn tags() -> Value {
    let models: Vec<Value> = MODELS
        .iter()
        .map(|(name, family, params, quant, size, digest)| {
            json!({"name": name, "model": name, "modified_at": MODIFIED_AT, "size": size,
                "digest": digest,
                "details": {"parent_model": "", "format": "gguf", "family": family,
                    "families": [family], "parameter_size": params,
                    "quantization_level": quant}})
        })
        .collect();
    json!({ "models": models })
}

/// `POST /api/show` body for `model`.
pub(crate) fn show(model: &str) -> Value {
    let (arch, context, capabilities) = if is_embedding(model) {
        ("nomic-bert", 2_048, vec!["embedding"])
    } else {
        ("llama", 131_072, vec!["completion", "tools"])
    };
    let entry = MODELS
        .iter()
        .find(|m| m.0 == model || m.0.strip_suffix(":latest") == Some(model));
    let (family, params, quant) = entry.map_or((arch, "8B", "Q4_K_M"), |m| (m.1, m.2, m.3));
    let mut info = Map::new();
    info.insert("general.architecture".to_owned(), json!(arch));
    info.insert(format!("{arch}.context_length"), json!(context));
    json!({
        "modelfile": format!("# Modelfile generated by crux-mock\nFROM {model}\n"),
        "parameters": "stop \"<|eot_id|>\"",
        "template": "{{ .Prompt }}",
        "details": {"parent_model": "", "format": "gguf", "family": family,
            "families": [family], "parameter_size": params, "quantization_level": quant},
        "model_info": info,
        "capabilities": capabilities,
        "modified_at": MODIFIED_AT,
    })
}
