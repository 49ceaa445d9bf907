//! Wire formats: one module of pure functions per provider dialect, dispatched by `match` on `Wire`.
//!
//! Every wire module offers the same shape: `request::build` (core → body), `request::path`, `response::decode`
//! (body → [`Decoded`]) and a stream state fed one frame at a time that reports [`Flow`]. This file holds the shared
//! types and the only `match`es that choose a wire.

pub mod anthropic;
pub mod bedrock;
pub(crate) mod borrowed;
pub mod call_id;
pub mod gemini;
pub mod native;
pub mod ollama;
pub mod openai;
pub mod passthrough;
pub mod responses;
mod text_or_list;

use bytes::Bytes;

use crate::decode::SseEvent;
use crate::decode::eventstream::EventMessage;
use crate::error::{Error, Result};
use crate::model_id::ModelId;
use crate::providers::{ProviderId, ProviderSpec, Wire};
use crate::types::{
    ChatRequest, EmbedRequest, EmbedResponse, FinishReason, Message, ModelInfo, StreamEvent, Usage,
};

/// What a stream decoder wants next.
#[derive(Debug, Clone, PartialEq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// The wire terminator arrived; the stream is complete with this reason.
    Done(FinishReason),
}

/// The normalized pieces of a non-streamed chat response.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Response id.
    pub id: String,
    /// Model that answered.
    pub model: String,
    /// Assistant message.
    pub message: Message,
    /// Finish reason.
    pub finish: FinishReason,
    /// Usage.
    pub usage: Usage,
}

/// How a streamed body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-sent events.
    Sse,
    /// Newline-delimited JSON.
    Ndjson,
    /// AWS binary event-stream messages (Bedrock).
    EventStream,
}

/// One framed unit of a streamed body.
#[derive(Debug, Clone, Copy)]
pub enum Frame<'a> {
    /// An SSE event.
    Sse(&'a SseEvent),
    /// One NDJSON line.
    Line(&'a str),
    /// One AWS event-stream message.
    Event(&'a EventMessage),
}

/// Model id prefixes served by the OpenAI Responses API instead of Chat Completions (reasoning families).
pub const RESPONSES_MODEL_PREFIXES: &[&str] = &["o1", "o3", "o4", "gpt-5", "gpt-6", "codex-"];

/// The wire a request to `model` is sent on: the provider's wire, except OpenAI reasoning families.
pub fn wire_for(model: &ModelId) -> Wire {
    let spec = model.provider.spec();
    if spec.provider == ProviderId::OpenAi && is_responses_model(&model.model) {
        return Wire::Responses;
    }
    spec.wire
}

/// Whether an OpenAI model id belongs to a reasoning family (table above, matched on the id's first segment).
pub fn is_responses_model(model: &str) -> bool {
    RESPONSES_MODEL_PREFIXES.iter().any(|p| {
        model.strip_prefix(p).is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(['-', '.', ':']) || p.ends_with('-')
        })
    })
}

/// A prepared chat call: where to send it, the encoded body, and how the answer streams.
#[derive(Debug, Clone)]
pub struct ChatCall {
    /// Path appended to the provider's base URL (may carry a query).
    pub path: String,
    /// JSON body.
    pub body: Bytes,
    /// Stream framing.
    pub framing: Framing,
}

fn encode<T: serde::Serialize>(provider: ProviderId, body: &T) -> Result<Bytes> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| Error::Unsupported(format!("{provider}: cannot encode the request: {e}")))
}

/// Parse a JSON body leniently (leading whitespace allowed, as DeepSeek sends while queued).
pub fn parse_json<T: serde::de::DeserializeOwned>(provider: ProviderId, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes.trim_ascii_start()).map_err(|e| Error::Decode {
        provider,
        message: format!("response body is not the expected JSON ({e})"),
    })
}

/// Build the upstream call for `req`.
pub fn chat_call(spec: &ProviderSpec, req: &ChatRequest, stream: bool) -> Result<ChatCall> {
    let p = spec.provider;
    let (path, body, framing) = match wire_for(&req.model) {
        Wire::OpenAi => (
            spec.openai_path("chat/completions", &req.model.model),
            encode(p, &openai::request::build(spec, req, stream))?,
            Framing::Sse,
        ),
        Wire::Responses => (
            "/responses".to_owned(),
            encode(p, &responses::request::build(spec, req, stream)?)?,
            Framing::Sse,
        ),
        Wire::Anthropic => (
            "/v1/messages".to_owned(),
            encode(p, &anthropic::request::build(spec, req, stream)?)?,
            Framing::Sse,
        ),
        Wire::Gemini => (
            gemini::request::path(&req.model.model, stream),
            encode(p, &gemini::request::build(spec, req)?)?,
            Framing::Sse,
        ),
        Wire::Ollama => (
            "/api/chat".to_owned(),
            encode(p, &ollama::request::build(spec, req, stream)?)?,
            Framing::Ndjson,
        ),
        Wire::Bedrock => (
            bedrock::path(&req.model.model, stream),
            encode(p, &bedrock::request::build(spec, req)?)?,
            Framing::EventStream,
        ),
    };
    Ok(ChatCall {
        path,
        body,
        framing,
    })
}

/// Decode a non-streamed chat response body.
pub fn decode_chat(model: &ModelId, body: &[u8]) -> Result<Decoded> {
    let p = model.provider;
    if let Some(e) = envelope_error(p, body) {
        return Err(e);
    }
    match wire_for(model) {
        Wire::OpenAi => Ok(openai::response::decode(parse_json(p, body)?)),
        Wire::Responses => responses::response::decode(p, body),
        Wire::Anthropic => anthropic::response::decode(p, body),
        Wire::Gemini => gemini::response::decode(p, body),
        Wire::Ollama => ollama::response::decode(p, body),
        Wire::Bedrock => bedrock::response::decode(model, body),
    }
}

/// A 2xx body that is an error envelope — `{"error":{…}}` (OpenAI shape; OpenRouter and other proxies answer
/// errors with status 200) or Anthropic's `{"type":"error","error":{…}}` — is an upstream error, classified from the
/// envelope's own code like a non-2xx answer, so it is retried, falls back and counts against the breaker.
fn envelope_error(provider: ProviderId, body: &[u8]) -> Option<Error> {
    // Success bodies never start with an `error` member: look at the head before parsing anything.
    let head = &body[..body.len().min(96)];
    if !head.windows(7).any(|w| w == b"\"error\"") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let err = v.get("error").filter(|e| e.is_object() || e.is_string())?;
    if ["choices", "content", "candidates", "output", "message"]
        .iter()
        .any(|k| v.get(k).is_some())
    {
        return None;
    }
    let text = String::from_utf8_lossy(body).into_owned();
    let parsed = crate::error::ErrorBody::parse(&text);
    let status = err
        .get("code")
        .and_then(serde_json::Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..600).contains(c))
        .unwrap_or(502);
    let (code, retryable) = parsed.classify(status);
    Some(Error::Upstream(Box::new(crate::error::UpstreamError {
        provider,
        status: 200,
        code,
        message: parsed
            .message
            .unwrap_or_else(|| "the provider answered 200 with an error body".to_owned()),
        body: Some(text),
        retry_after: None,
        retryable,
    })))
}

/// Extra headers a wire always sends (e.g. `anthropic-version`).
pub fn wire_headers(wire: Wire) -> &'static [(&'static str, &'static str)] {
    match wire {
        Wire::Anthropic => anthropic::request::HEADERS,
        Wire::OpenAi | Wire::Responses | Wire::Gemini | Wire::Ollama | Wire::Bedrock => &[],
    }
}

/// Per-wire stream decoding state.
#[derive(Debug)]
pub enum StreamState {
    /// OpenAI Chat Completions (and compatible vendors).
    OpenAi(openai::stream::StreamState),
    /// OpenAI Responses.
    Responses(responses::stream::StreamState),
    /// Anthropic Messages.
    Anthropic(anthropic::stream::StreamState),
    /// Gemini.
    Gemini(gemini::stream::StreamState),
    /// Ollama NDJSON.
    Ollama(ollama::stream::StreamState),
    /// Bedrock ConverseStream.
    Bedrock(bedrock::stream::StreamState),
}

impl StreamState {
    /// A fresh decoder for a stream of `model`.
    pub fn new(model: &ModelId) -> Self {
        let p = model.provider;
        match wire_for(model) {
            Wire::OpenAi => StreamState::OpenAi(openai::stream::StreamState::new(p)),
            Wire::Responses => StreamState::Responses(responses::stream::StreamState::new(p)),
            Wire::Anthropic => StreamState::Anthropic(anthropic::stream::StreamState::new(p)),
            Wire::Gemini => StreamState::Gemini(gemini::stream::StreamState::new(p)),
            Wire::Ollama => StreamState::Ollama(ollama::stream::StreamState::new(p)),
            Wire::Bedrock => StreamState::Bedrock(bedrock::stream::StreamState::new(model)),
        }
    }

    /// Feed one frame.
    pub fn on_frame(&mut self, frame: Frame<'_>, out: &mut Vec<StreamEvent>) -> Result<Flow> {
        match (self, frame) {
            (StreamState::OpenAi(s), Frame::Sse(ev)) => s.on_data(&ev.data, out),
            (StreamState::Responses(s), Frame::Sse(ev)) => s.on_event(ev, out),
            (StreamState::Anthropic(s), Frame::Sse(ev)) => s.on_event(ev, out),
            (StreamState::Gemini(s), Frame::Sse(ev)) => s.on_event(ev, out),
            (StreamState::Ollama(s), Frame::Line(line)) => s.on_line(line, out),
            (StreamState::Bedrock(s), Frame::Event(m)) => s.on_message(m, out),
            (_, _) => Err(Error::Unsupported(
                "stream framing does not match the wire".into(),
            )),
        }
    }

    /// The body ended; wires whose terminator is the connection close (Gemini) finish here.
    pub fn on_eof(&mut self, out: &mut Vec<StreamEvent>) -> Result<Flow> {
        match self {
            StreamState::Gemini(s) => s.on_eof(out),
            _ => Ok(Flow::Continue),
        }
    }
}

/// An embeddings call: path and body.
pub fn embed_call(spec: &ProviderSpec, req: &EmbedRequest) -> Result<(String, Bytes)> {
    let p = spec.provider;
    match spec.wire {
        Wire::OpenAi | Wire::Responses => Ok((
            spec.openai_path("embeddings", &req.model.model),
            encode(p, &openai::request::build_embeddings(req))?,
        )),
        Wire::Gemini => Ok((
            gemini::embed::path(&req.model.model),
            encode(p, &gemini::embed::build(req))?,
        )),
        Wire::Ollama => Ok((
            "/api/embed".to_owned(),
            encode(p, &ollama::embed::build(req))?,
        )),
        Wire::Anthropic | Wire::Bedrock => Err(Error::Unsupported(format!(
            "{p} does not offer an embeddings API"
        ))),
    }
}

/// Decode an embeddings response.
pub fn decode_embed(spec: &ProviderSpec, body: &[u8]) -> Result<EmbedResponse> {
    let p = spec.provider;
    match spec.wire {
        Wire::OpenAi | Wire::Responses => openai::response::decode_embeddings(p, body),
        Wire::Gemini => gemini::embed::decode(p, body),
        Wire::Ollama => ollama::embed::decode(p, body),
        Wire::Anthropic | Wire::Bedrock => Err(Error::Unsupported(format!(
            "{p} does not offer an embeddings API"
        ))),
    }
}

/// Path of one page of the provider's model list (`page` is the continuation token of the previous page).
pub fn models_path(spec: &ProviderSpec, page: Option<&str>) -> String {
    match spec.wire {
        Wire::OpenAi | Wire::Responses => "/models".to_owned(),
        Wire::Anthropic => anthropic::models::path(page),
        Wire::Gemini => gemini::models::path(page),
        Wire::Ollama => "/api/tags".to_owned(),
        // Bedrock lists models on its control-plane host (`bedrock.{region}`), not the runtime one: never called.
        Wire::Bedrock => "/foundation-models".to_owned(),
    }
}

/// Decode one page of the model list: the models and the next page's token, if any.
pub fn decode_models(spec: &ProviderSpec, body: &[u8]) -> Result<(Vec<ModelInfo>, Option<String>)> {
    let p = spec.provider;
    match spec.wire {
        Wire::OpenAi | Wire::Responses => Ok((openai::response::decode_models(p, body)?, None)),
        Wire::Anthropic => anthropic::models::decode(p, body),
        Wire::Gemini => gemini::models::decode(p, body),
        Wire::Ollama => Ok((ollama::models::decode(p, body)?, None)),
        Wire::Bedrock => Err(bedrock_models(spec)),
    }
}

/// Why a Bedrock provider's models are not listed from its endpoint.
pub fn bedrock_models(spec: &ProviderSpec) -> Error {
    Error::Unsupported(format!(
        "{}: Bedrock lists its models on the control-plane API, not the runtime endpoint; list them in the \
         config ([providers.{}] models = [...])",
        spec.id, spec.id
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2xx_error_envelope_is_an_upstream_error() {
        let m = ModelId::new(ProviderId::OpenRouter, "x/y");
        let e = decode_chat(
            &m,
            br#"{"error":{"message":"Rate limit exceeded","code":429}}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.code(), e.is_retryable()),
            (crate::ErrorCode::RateLimit, true)
        );
        let a = ModelId::new(ProviderId::Anthropic, "claude");
        let body =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            decode_chat(&a, body).unwrap_err().code(),
            crate::ErrorCode::Overloaded
        );
        let plain = ModelId::new(ProviderId::OpenAi, "gpt-4o");
        let e = decode_chat(&plain, br#"{"error":"bad thing"}"#).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::Transient);
    }

    #[test]
    fn reasoning_families_use_responses() {
        for m in [
            "o1",
            "o3-mini",
            "o4-mini-2025-04-16",
            "gpt-5",
            "gpt-5.1",
            "gpt-5-mini",
            "codex-mini-latest",
        ] {
            assert!(is_responses_model(m), "{m}");
        }
        for m in ["gpt-4o", "gpt-4o-mini", "o10x", "gpt-50", "omni"] {
            assert!(!is_responses_model(m), "{m}");
        }
        let id: ModelId = "openrouter/o3-mini"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(wire_for(&id), Wire::OpenAi);
    }
}
