//! Core stream events → the Responses API's typed SSE events (`event: <type>` + `data: <json>`), each with a
//! `sequence_number` counting from 0: `response.created`, `response.in_progress`, one output item at a time
//! (`output_item.added` … deltas … `output_item.done`), then `response.completed` / `response.incomplete`; an
//! in-band failure is an `error` event followed by `response.failed`.

use serde_json::{Value, json};

use super::output::{Meta, message_item, object, reasoning_item, status, text_part, wire_usage};
use super::tools::{call_item, custom_input};
use crate::types::{StreamEvent, Usage};

/// Called once with the final `response` object of a completed (or incomplete) stream.
pub type OnComplete = Box<dyn FnOnce(&Value) + Send>;

/// The output item being streamed.
#[derive(Debug)]
enum Open {
    Message {
        id: String,
        text: String,
    },
    Reasoning {
        id: String,
        text: String,
    },
    Call {
        index: u32,
        id: String,
        call_id: String,
        name: String,
        args: String,
    },
}

/// Encodes core stream events as Responses SSE events.
pub struct EventEncoder {
    meta: Meta,
    seq: u64,
    started: bool,
    output: Vec<Value>,
    open: Option<Open>,
    usage: Usage,
    on_complete: Option<OnComplete>,
}

impl std::fmt::Debug for EventEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventEncoder")
            .field("meta", &self.meta)
            .field("seq", &self.seq)
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl EventEncoder {
    /// An encoder for the response `meta` describes.
    pub fn new(meta: Meta) -> Self {
        Self {
            meta,
            seq: 0,
            started: false,
            output: Vec::new(),
            open: None,
            usage: Usage::default(),
            on_complete: None,
        }
    }

    /// Call `hook` with the final response object when the stream completes.
    #[must_use]
    pub fn on_complete(mut self, hook: OnComplete) -> Self {
        self.on_complete = Some(hook);
        self
    }

    fn emit(&mut self, kind: &str, mut fields: Value, out: &mut Vec<u8>) {
        if let Some(o) = fields.as_object_mut() {
            o.insert("type".into(), json!(kind));
            o.insert("sequence_number".into(), json!(self.seq));
        }
        self.seq += 1;
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        // Serializing a JSON value cannot fail.
        let _ = serde_json::to_writer(&mut *out, &fields);
        out.extend_from_slice(b"\n\n");
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let pending = object(&self.meta, "in_progress", Vec::new(), Value::Null);
        self.emit("response.created", json!({ "response": pending }), out);
        self.emit("response.in_progress", json!({ "response": pending }), out);
    }

    fn index(&self) -> usize {
        self.output.len()
    }

    /// Open `next` (closing what is open) unless it is already open.
    fn open(&mut self, mut next: Open, out: &mut Vec<u8>) {
        let same = match (&self.open, &next) {
            (Some(Open::Message { .. }), Open::Message { .. })
            | (Some(Open::Reasoning { .. }), Open::Reasoning { .. }) => true,
            (Some(Open::Call { index: a, .. }), Open::Call { index: b, .. }) => a == b,
            _ => false,
        };
        if same {
            return;
        }
        self.close(out);
        let i = self.index();
        match &mut next {
            Open::Message { id, .. } => *id = self.meta.item_id("msg", i),
            Open::Reasoning { id, .. } => *id = self.meta.item_id("rs", i),
            Open::Call { id, .. } => *id = self.meta.item_id("fc", i),
        }
        let (item, part) = match &next {
            Open::Message { id, .. } => (
                message_item(id, "in_progress", Vec::new()),
                Some((
                    "response.content_part.added",
                    json!({"item_id": id, "output_index": i,
                    "content_index": 0, "part": text_part("")}),
                )),
            ),
            Open::Reasoning { id, .. } => (
                reasoning_item(id, ""),
                Some((
                    "response.reasoning_summary_part.added",
                    json!({"item_id": id,
                    "output_index": i, "summary_index": 0,
                    "part": {"type": "summary_text", "text": ""}}),
                )),
            ),
            Open::Call {
                id, call_id, name, ..
            } => (
                call_item(&self.meta.tools, id, "in_progress", call_id, name, ""),
                None,
            ),
        };
        self.emit(
            "response.output_item.added",
            json!({"output_index": i, "item": item}),
            out,
        );
        if let Some((kind, fields)) = part {
            self.emit(kind, fields, out);
        }
        self.open = Some(next);
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        let Some(open) = self.open.take() else {
            return;
        };
        let i = self.index();
        let item = match open {
            Open::Message { id, text } => {
                let ids = |extra: Value| {
                    let mut v = json!({"item_id": id, "output_index": i, "content_index": 0});
                    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
                        o.extend(e);
                    }
                    v
                };
                let done = ids(json!({"text": text, "logprobs": []}));
                let part = ids(json!({"part": text_part(&text)}));
                self.emit("response.output_text.done", done, out);
                self.emit("response.content_part.done", part, out);
                message_item(&id, "completed", vec![text_part(&text)])
            }
            Open::Reasoning { id, text } => {
                let ids = json!({"item_id": id, "output_index": i, "summary_index": 0});
                let mut done = ids.clone();
                done["text"] = json!(text);
                let mut part = ids;
                part["part"] = json!({"type": "summary_text", "text": text});
                self.emit("response.reasoning_summary_text.done", done, out);
                self.emit("response.reasoning_summary_part.done", part, out);
                reasoning_item(&id, &text)
            }
            Open::Call {
                id,
                call_id,
                name,
                args,
                ..
            } => {
                if self.meta.tools.is_custom(&name) {
                    // A custom tool's input streams as one piece, once the whole argument object is in.
                    let input = custom_input(&args);
                    let ids = json!({"item_id": id, "output_index": i});
                    let mut delta = ids.clone();
                    delta["delta"] = json!(input);
                    let mut done = ids;
                    done["input"] = json!(input);
                    self.emit("response.custom_tool_call_input.delta", delta, out);
                    self.emit("response.custom_tool_call_input.done", done, out);
                } else {
                    let done = json!({"item_id": id, "output_index": i, "arguments": args});
                    self.emit("response.function_call_arguments.done", done, out);
                }
                call_item(&self.meta.tools, &id, "completed", &call_id, &name, &args)
            }
        };
        self.emit(
            "response.output_item.done",
            json!({"output_index": i, "item": item}),
            out,
        );
        self.output.push(item);
    }

    /// Append the events for one core event.
    pub fn encode(&mut self, ev: &StreamEvent, out: &mut Vec<u8>) {
        self.start(out);
        match ev {
            StreamEvent::Start { .. } => {}
            StreamEvent::TextDelta { text } => {
                let next = Open::Message {
                    id: String::new(),
                    text: String::new(),
                };
                self.open(next, out);
                let i = self.index();
                if let Some(Open::Message { id, text: all }) = &mut self.open {
                    all.push_str(text);
                    let fields = json!({"item_id": id, "output_index": i, "content_index": 0,
                        "delta": text, "logprobs": []});
                    self.emit("response.output_text.delta", fields, out);
                }
            }
            StreamEvent::ReasoningDelta { text, .. } => {
                if text.is_empty() {
                    return;
                }
                let next = Open::Reasoning {
                    id: String::new(),
                    text: String::new(),
                };
                self.open(next, out);
                let i = self.index();
                if let Some(Open::Reasoning { id, text: all }) = &mut self.open {
                    all.push_str(text);
                    let fields = json!({"item_id": id, "output_index": i, "summary_index": 0,
                        "delta": text});
                    self.emit("response.reasoning_summary_text.delta", fields, out);
                }
            }
            StreamEvent::ToolCallDelta {
                index,
                id: call_id,
                name,
                args_fragment,
                signature,
            } => {
                let next = Open::Call {
                    index: *index,
                    id: String::new(),
                    // A Gemini signature rides in the call id, as in the other dialects (`wire/call_id.rs`).
                    call_id: call_id
                        .as_deref()
                        .map(|c| crate::wire::call_id::attach(c, signature.as_deref()))
                        .unwrap_or_default(),
                    name: name.clone().unwrap_or_default(),
                    args: String::new(),
                };
                self.open(next, out);
                let i = self.index();
                if let Some(Open::Call { id, args, name, .. }) = &mut self.open
                    && !args_fragment.is_empty()
                {
                    args.push_str(args_fragment);
                    if !self.meta.tools.is_custom(name) {
                        let fields =
                            json!({"item_id": id, "output_index": i, "delta": args_fragment});
                        self.emit("response.function_call_arguments.delta", fields, out);
                    }
                }
            }
            StreamEvent::Usage(u) => self.usage = *u,
            StreamEvent::Finish { reason, .. } => {
                self.close(out);
                let (status, details) = status(reason);
                let output = std::mem::take(&mut self.output);
                let mut done = object(&self.meta, status, output, wire_usage(&self.usage));
                done["incomplete_details"] = details;
                if let Some(hook) = self.on_complete.take() {
                    hook(&done);
                }
                let kind = if status == "completed" {
                    "response.completed"
                } else {
                    "response.incomplete"
                };
                self.emit(kind, json!({ "response": done }), out);
            }
        }
    }

    /// Append an in-band failure: an `error` event, then `response.failed`; the stream then ends.
    pub fn error(&mut self, message: &str, code: &str, out: &mut Vec<u8>) {
        self.start(out);
        self.emit(
            "error",
            json!({"code": code, "message": message, "param": null}),
            out,
        );
        let output = std::mem::take(&mut self.output);
        let mut failed = object(&self.meta, "failed", output, wire_usage(&self.usage));
        failed["error"] = json!({"code": code, "message": message});
        self.emit("response.failed", json!({ "response": failed }), out);
    }
}

/// The JSON payloads of an encoded event stream, each checked to be named by its own `type` (for tests).
#[cfg(test)]
pub(crate) fn decode_events(out: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(out).unwrap_or_default();
    text.split("\n\n")
        .filter(|b| !b.is_empty())
        .filter_map(|b| {
            let (ev, data) = b.split_once('\n')?;
            let v: Value = serde_json::from_str(data.strip_prefix("data: ")?).ok()?;
            assert_eq!(ev.strip_prefix("event: "), v["type"].as_str());
            Some(v)
        })
        .collect()
}
