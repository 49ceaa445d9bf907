//! Same-wire calls: the caller's own body (model edited, see [`crate::wire::passthrough`]) sent with the headers
//! that carry meaning, and the upstream's answer handed back as received — the body of a non-streamed call, or the
//! SSE frames of a stream (data bytes untouched) — while the usual decoders tap it for usage, text and the finish.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;

use super::{Client, RetryLog, Target};
use crate::decode::SseEvent;
use crate::error::{Error, Result};
use crate::model_id::ModelId;
use crate::providers::Wire;
use crate::types::{ChatResponse, FinishReason, Message, Role, Usage};
use crate::wire::{self, passthrough};

/// A caller's request on the target's own wire.
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// The caller's wire.
    pub wire: Wire,
    /// The caller's JSON body as received.
    pub body: Bytes,
    /// Headers to forward (see [`passthrough::FORWARDED_HEADERS`]); never the caller's auth.
    pub headers: Vec<(String, String)>,
}

/// SSE frames of a passed-through stream, shared between the stream driver and its consumer.
#[derive(Debug, Clone, Default)]
pub struct RawFrames {
    /// The frames captured and not yet taken, as they will be sent.
    queue: Arc<Mutex<Vec<u8>>>,
    /// Drop the usage-only Chat Completions chunk the gateway asked for on the caller's behalf.
    drop_usage_only: bool,
}

impl RawFrames {
    /// Keep one decoded frame, re-framed as `event:`/`data:` lines with its data bytes unchanged.
    pub(crate) fn capture(&self, ev: &SseEvent) {
        if self.drop_usage_only
            && ev.data.contains("\"usage\"")
            && ev.data.contains("\"choices\":[]")
        {
            return;
        }
        let Ok(mut out) = self.queue.lock() else {
            return;
        };
        if let Some(name) = &ev.event {
            out.extend_from_slice(b"event: ");
            out.extend_from_slice(name.as_bytes());
            out.push(b'\n');
        }
        for line in ev.data.split('\n') {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
    }

    /// Appends everything captured since the last call to `out` (one copy, straight into the caller's frame).
    pub fn take_into(&self, out: &mut Vec<u8>) {
        if let Ok(mut q) = self.queue.lock() {
            out.extend_from_slice(&q);
            q.clear();
        }
    }
}

impl Client {
    /// The upstream chat call for `raw` to `target`: path, edited body and forwarded headers.
    pub(crate) fn raw_target(&self, target: &ModelId, raw: &RawRequest) -> Result<(Target, Bytes)> {
        let path = passthrough::chat_path(raw.wire).ok_or_else(|| {
            Error::Unsupported(format!("{:?} cannot be passed through", raw.wire))
        })?;
        let spec = target.provider.spec();
        if raw.wire == Wire::OpenAi && spec.api_version.is_some() {
            let azure = spec.openai_path("chat/completions", &target.model);
            return self.raw_target_at(target, &azure, raw);
        }
        self.raw_target_at(target, path, raw)
    }

    fn raw_target_at(
        &self,
        target: &ModelId,
        path: &str,
        raw: &RawRequest,
    ) -> Result<(Target, Bytes)> {
        let body = passthrough::edit_body(&raw.body, &target.model, raw.wire).ok_or_else(|| {
            Error::Config("the request body is not a JSON object with a model".into())
        })?;
        let mut t = self.target(target.provider, path)?;
        for (k, v) in &raw.headers {
            super::fixed::insert(&mut t.headers, k, v).map_err(Error::Config)?;
        }
        Ok((t, body))
    }

    /// POST `raw` (model edited, headers forwarded) to `path` on `target`'s provider; the 2xx body as received.
    pub async fn forward_raw(
        &self,
        target: &ModelId,
        path: &str,
        raw: &RawRequest,
    ) -> Result<Bytes> {
        let t0 = Instant::now();
        let (t, body) = self.raw_target_at(target, path, raw)?;
        self.post_for_body(&t, body, t0 + t.timeouts.total, &RetryLog::default())
            .await
    }

    /// Send `raw` to `target` and return the upstream's body as received, with its decoding for the log.
    pub async fn chat_raw(
        &self,
        target: &ModelId,
        raw: &RawRequest,
        retries: &RetryLog,
    ) -> Result<(Bytes, ChatResponse)> {
        let t0 = Instant::now();
        let (t, body) = self.raw_target(target, raw)?;
        let bytes = self
            .post_for_body(&t, body, t0 + t.timeouts.total, retries)
            .await?;
        let response = match wire::decode_chat(target, &bytes) {
            Ok(d) => ChatResponse {
                id: d.id,
                model: d.model,
                provider: target.provider.as_str().to_owned(),
                message: d.message,
                finish: d.finish,
                usage: d.usage,
                latency: t0.elapsed(),
            },
            // A 2xx error envelope, a failed response object (the Responses API's `status: "failed"`), or a body
            // that is not JSON at all, is an upstream failure; JSON in a shape we do not know is still the caller's
            // answer (fields we have never heard of are theirs to read).
            Err(e @ (Error::Upstream(_) | Error::InBand { .. })) => return Err(e),
            Err(e) if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() => {
                return Err(e);
            }
            Err(_) => ChatResponse {
                id: String::new(),
                model: target.model.clone(),
                provider: target.provider.as_str().to_owned(),
                message: Message {
                    role: Role::Assistant,
                    content: Vec::new(),
                    tool_calls: Vec::new(),
                    tool_call_id: None,
                    name: None,
                },
                finish: FinishReason::Other("unparsed".into()),
                usage: Usage::default(),
                latency: t0.elapsed(),
            },
        };
        Ok((bytes, response))
    }

    /// Stream `raw` from `target`: the stream yields decoded events (for the log and the peek) while `frames`
    /// collects the upstream's frames to forward. `drop_usage_only` removes the usage chunk the caller did not ask for.
    pub fn chat_stream_raw(
        &self,
        target: &ModelId,
        raw: &RawRequest,
        retries: RetryLog,
        drop_usage_only: bool,
    ) -> (super::ChatStream, RawFrames) {
        let frames = RawFrames {
            queue: Arc::default(),
            drop_usage_only,
        };
        let stream =
            super::ChatStream::start_raw(self.clone(), target, raw, retries, frames.clone());
        (stream, frames)
    }
}
