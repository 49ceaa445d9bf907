//! OpenAI Responses wire: rendering neutral replies as `response` objects and the named,
//! sequence-numbered `response.*` SSE events.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::embed;
use crate::http::named_frame;
use crate::reply::{Finish, Reply, ReplyContent, fragments, word_chunks};
use crate::responses::parse::REASONING_TOKENS;
use crate::stream::Frames;

/// Body sent for `invalid_json` on a non-streamed request.
const BROKEN_BODY: &str = r#"{"id": "resp_broken", "object": "response", "output": [{"#;

/// Identity of one response.
#[derive(Clone, Debug)]
pub(crate) struct Meta {
    /// Response number N (ids `resp_mock_N`, `msg_mock_N`, ...).
    pub n: u64,
    /// Unix seconds.
    pub created_at: u64,
    /// Echoed model.
    pub model: String,
    /// Request fields echoed in the response object.
    pub echo: Map<String, Value>,
}

impl Meta {
    fn id(&self, prefix: &str) -> String {
        format!("{prefix}_mock_{}", self.n)
    }
}

/// Everything rendered for one reply.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    /// The neutral reply.
    pub reply: Reply,
    /// Emit a reasoning item (and reasoning tokens).
    pub reasoning: bool,
    /// Add `encrypted_content` to the reasoning item.
    pub encrypted_reasoning: bool,
    /// Prompt tokens reported as cached (`cache_read=N` fault).
    pub cache_read: u64,
}

impl Answer {
    fn reasoning_tokens(&self) -> u64 {
        if self.reasoning { REASONING_TOKENS } else { 0 }
    }

    fn usage(&self) -> Value {
        let u = self.reply.usage;
        let output = u.completion + self.reasoning_tokens();
        json!({
            "input_tokens": u.prompt,
            "input_tokens_details": {"cached_tokens": self.cache_read.min(u.prompt)},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens()},
            "total_tokens": u.prompt + output,
        })
    }

    fn incomplete(&self) -> bool {
        self.reply.finish == Finish::Length
    }
}

fn reasoning_item(meta: &Meta, answer: &Answer) -> Value {
    let mut item = json!({"type": "reasoning", "id": meta.id("rs"), "summary": []});
    if answer.encrypted_reasoning
        && let Some(obj) = item.as_object_mut()
    {
        let blob = embed::base64(format!("crux-mock-reasoning:{}", meta.n).as_bytes());
        obj.insert("encrypted_content".to_owned(), json!(blob));
    }
    item
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": []})
}

/// The main output item, finished (`done`) or as first announced.
fn main_item(meta: &Meta, answer: &Answer, done: bool) -> Value {
    match &answer.reply.content {
        ReplyContent::Text(text) => {
            let status = match (done, answer.incomplete()) {
                (false, _) => "in_progress",
                (true, true) => "incomplete",
                (true, false) => "completed",
            };
            let content = if done { vec![text_part(text)] } else { vec![] };
            json!({"type": "message", "id": meta.id("msg"), "role": "assistant",
                   "status": status, "content": content})
        }
        ReplyContent::ToolCall(call) => json!({
            "type": "function_call", "id": meta.id("fc"), "call_id": call.id,
            "name": call.name, "arguments": if done { call.arguments.as_str() } else { "" },
            "status": if done { "completed" } else { "in_progress" },
        }),
    }
}

fn output(meta: &Meta, answer: &Answer) -> Vec<Value> {
    let mut out = Vec::new();
    if answer.reasoning {
        out.push(reasoning_item(meta, answer));
    }
    out.push(main_item(meta, answer, true));
    out
}

/// A response object with the given status, output, usage and error.
fn response_object(meta: &Meta, status: &str, output: Vec<Value>, usage: Value) -> Value {
    let mut obj = Map::new();
    obj.insert("id".to_owned(), json!(meta.id("resp")));
    obj.insert("object".to_owned(), json!("response"));
    obj.insert("created_at".to_owned(), json!(meta.created_at));
    obj.insert("status".to_owned(), json!(status));
    obj.insert("error".to_owned(), Value::Null);
    obj.insert("incomplete_details".to_owned(), Value::Null);
    obj.insert("model".to_owned(), json!(meta.model));
    obj.insert("output".to_owned(), Value::Array(output));
    obj.insert("usage".to_owned(), usage);
    obj.extend(meta.echo.clone());
    Value::Object(obj)
}

/// The finished (`completed` / `incomplete`) response object.
pub(crate) fn response(meta: &Meta, answer: &Answer) -> Value {
    let status = if answer.incomplete() {
        "incomplete"
    } else {
        "completed"
    };
    let mut v = response_object(meta, status, output(meta, answer), answer.usage());
    if answer.incomplete() {
        v["incomplete_details"] = json!({"reason": "max_output_tokens"});
    }
    v
}

/// The `failed` response object used by `mid_error`.
fn failed(meta: &Meta) -> Value {
    let mut v = response_object(meta, "failed", Vec::new(), Value::Null);
    v["error"] = json!({"code": "server_error", "message": "mock mid-stream failure"});
    v
}

/// The non-streamed body for `mid_error`.
pub(crate) fn mid_error_body(meta: &Meta) -> Bytes {
    Bytes::from(failed(meta).to_string())
}

/// The non-streamed body for `invalid_json`.
pub(crate) fn broken_body() -> Bytes {
    Bytes::from_static(BROKEN_BODY.as_bytes())
}

/// Collects events and numbers them in order.
struct Events(Vec<Value>);

impl Events {
    fn push(&mut self, kind: &str, mut fields: Value) {
        if let Some(obj) = fields.as_object_mut() {
            obj.insert("type".to_owned(), json!(kind));
        }
        self.0.push(fields);
    }
}

fn frame(seq: usize, mut event: Value) -> Bytes {
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message")
        .to_owned();
    if let Some(obj) = event.as_object_mut() {
        obj.insert("sequence_number".to_owned(), json!(seq));
    }
    named_frame(&kind, &event)
}

fn item_events(ev: &mut Events, meta: &Meta, answer: &Answer, index: usize) {
    ev.push(
        "response.output_item.added",
        json!({"output_index": index, "item": main_item(meta, answer, false)}),
    );
    let done_item = main_item(meta, answer, true);
    match &answer.reply.content {
        ReplyContent::Text(text) => {
            let ids = json!({"item_id": meta.id("msg"), "output_index": index,
                             "content_index": 0});
            let with = |extra: Value| {
                let mut v = ids.clone();
                if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
                    o.extend(e);
                }
                v
            };
            ev.push(
                "response.content_part.added",
                with(json!({"part": text_part("")})),
            );
            for word in word_chunks(text) {
                ev.push(
                    "response.output_text.delta",
                    with(json!({"delta": word, "logprobs": []})),
                );
            }
            ev.push(
                "response.output_text.done",
                with(json!({"text": text, "logprobs": []})),
            );
            ev.push(
                "response.content_part.done",
                with(json!({"part": text_part(text)})),
            );
        }
        ReplyContent::ToolCall(call) => {
            let item_id = meta.id("fc");
            for part in fragments(&call.arguments) {
                ev.push(
                    "response.function_call_arguments.delta",
                    json!({"item_id": item_id, "output_index": index, "delta": part}),
                );
            }
            ev.push(
                "response.function_call_arguments.done",
                json!({"item_id": item_id, "output_index": index, "arguments": call.arguments}),
            );
        }
    }
    ev.push(
        "response.output_item.done",
        json!({"output_index": index, "item": done_item}),
    );
}

/// SSE frames of a streamed reply: `response.created` and `response.in_progress` (head);
/// output item events (body); `response.completed` or `response.incomplete` (terminator).
pub(crate) fn stream_frames(meta: &Meta, answer: &Answer) -> Frames {
    let pending = response_object(meta, "in_progress", Vec::new(), Value::Null);
    let mut ev = Events(Vec::new());
    ev.push("response.created", json!({"response": pending}));
    ev.push("response.in_progress", json!({"response": pending}));
    let mut index = 0;
    if answer.reasoning {
        let item = reasoning_item(meta, answer);
        ev.push(
            "response.output_item.added",
            json!({"output_index": 0, "item": item}),
        );
        ev.push(
            "response.output_item.done",
            json!({"output_index": 0, "item": item}),
        );
        index = 1;
    }
    item_events(&mut ev, meta, answer, index);
    let done = response(meta, answer);
    let terminal = if answer.incomplete() {
        "response.incomplete"
    } else {
        "response.completed"
    };
    ev.push(terminal, json!({"response": done}));
    let mut frames: Vec<Bytes> =
        ev.0.into_iter()
            .enumerate()
            .map(|(i, e)| frame(i, e))
            .collect();
    let terminator = frames.pop();
    let body = frames.split_off(2);
    Frames {
        head: frames,
        body,
        terminator,
        broken: Bytes::from(
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\
             \"sequence_number\":\n\n",
        ),
        // `mid_error` follows the first body frame (sequence number 2).
        error: frame(
            3,
            json!({"type": "response.failed", "response": failed(meta)}),
        ),
    }
}
