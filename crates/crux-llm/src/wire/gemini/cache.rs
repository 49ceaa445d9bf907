//! Gemini explicit context caching, the pure part: which prefix of a `generateContent` body the caller's cache
//! breakpoints cover, the key of each candidate prefix, the `cachedContents` body that stores one, and the
//! `generateContent` body that then refers to it.
//!
//! Rule (Anthropic's `cache_control` carried over): the last breakpoint is the *write point* — its prefix is the
//! one to cache. A Gemini cache always holds the system instruction, the tools and the tool config (a request that
//! names a cache may not repeat them), plus `contents[..k]`; at least one content stays in the request, so a
//! breakpoint on the last message caches everything before it. Every shorter prefix is a *read candidate*, longest
//! first, like Anthropic's look-back: a cache written on an earlier turn still serves the later, longer
//! conversation. Keys are SHA-256 over the caller's scope (API key and endpoint), the model and the prefix.

use bytes::Bytes;
use ring::digest::{Context, SHA256};
use serde_json::{Value, json};

use super::request::bare_model;
use super::types::{GenerateContentRequest, WirePart};
use crate::context::tokens::Tokenizer;
use crate::types::{CacheTtl, ChatRequest};

/// Identifies one cached prefix (SHA-256).
pub type CacheKey = [u8; 32];

/// Fields a request that names a cache may not carry (they live in the cache).
const CACHE_ONLY: [&str; 3] = ["systemInstruction", "tools", "toolConfig"];

/// Smallest prefix Gemini caches, in tokens: 1,024 for the 2.5 and 3 Flash models, 4,096 for the rest
/// (2.5 and 3 Pro; older models need more and answer "too small", which falls back to sending uncached).
pub fn min_tokens(model: &str) -> u64 {
    let m = bare_model(model);
    let recent = m.starts_with("gemini-2.5") || m.starts_with("gemini-3");
    if recent && m.contains("flash") {
        1_024
    } else {
        4_096
    }
}

/// A Gemini request whose breakpoints allow a context cache.
#[derive(Debug, Clone)]
pub struct CachePlan {
    body: GenerateContentRequest,
    model: String,
    /// Candidate prefixes, longest (the write point) first: `contents` entries covered, and the key.
    pub candidates: Vec<(usize, CacheKey)>,
    /// Lifetime asked for by the write point's breakpoint.
    pub ttl: CacheTtl,
}

/// The plan for `body` (built from `req`; `bounds[i]` = contents written after message *i*), or `None` when
/// nothing can be cached: no breakpoint, the caller names a cache itself or sets a cache-only field raw, or the
/// prefix is empty.
pub fn plan(
    scope: &[u8],
    req: &ChatRequest,
    body: &GenerateContentRequest,
    bounds: &[usize],
) -> Option<CachePlan> {
    let last = req.cache.iter().max_by_key(|b| b.messages)?;
    if body.extra.contains_key("cachedContent")
        || CACHE_ONLY.iter().any(|k| body.extra.contains_key(*k))
    {
        return None;
    }
    let covered = match last.messages.min(bounds.len()) {
        0 => 0,
        n => bounds[n - 1],
    };
    let write = covered.min(body.contents.len().checked_sub(1)?);
    let fixed = body.system_instruction.is_some() || body.tools.is_some();
    let mut ctx = Context::new(&SHA256);
    for piece in [
        scope,
        req.model.model.as_bytes(),
        &json_bytes(&body.system_instruction),
        &json_bytes(&body.tools),
        &json_bytes(&body.tool_config),
    ] {
        feed(&mut ctx, piece);
    }
    let mut keys = Vec::with_capacity(write + 1);
    keys.push(key(&ctx));
    for c in &body.contents[..write] {
        feed(&mut ctx, &json_bytes(c));
        keys.push(key(&ctx));
    }
    let candidates: Vec<(usize, CacheKey)> = keys
        .into_iter()
        .enumerate()
        .rev()
        .filter(|(k, _)| *k > 0 || fixed)
        .collect();
    (!candidates.is_empty()).then(|| CachePlan {
        body: body.clone(),
        model: bare_model(&req.model.model).to_owned(),
        candidates,
        ttl: last.ttl,
    })
}

fn json_bytes<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// Length-prefixed, so no two different sequences of pieces hash alike.
fn feed(ctx: &mut Context, piece: &[u8]) {
    ctx.update(&(piece.len() as u64).to_le_bytes());
    ctx.update(piece);
}

fn key(ctx: &Context) -> CacheKey {
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.clone().finish().as_ref());
    out
}

impl CachePlan {
    /// The model, without `models/`.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Estimated tokens of the prefix covering `contents[..k]` (system instruction and tools included).
    pub fn prefix_tokens(&self, k: usize) -> u64 {
        let tk = Tokenizer::for_model(&self.model);
        let parts = self
            .body
            .system_instruction
            .iter()
            .chain(&self.body.contents[..k.min(self.body.contents.len())])
            .flat_map(|c| &c.parts);
        let text: u64 = parts.map(|p| part_tokens(tk, p)).sum();
        text + self
            .body
            .tools
            .as_ref()
            .map_or(0, |t| tk.count(&String::from_utf8_lossy(&json_bytes(t))))
    }

    /// The `POST /v1beta/cachedContents` body storing the prefix covering `contents[..k]`.
    pub fn create_body(&self, k: usize) -> Bytes {
        let mut v = json!({
            "model": format!("models/{}", self.model),
            "ttl": format!("{}s", self.ttl.seconds()),
        });
        let contents = &self.body.contents[..k.min(self.body.contents.len())];
        if !contents.is_empty() {
            v["contents"] = json!(contents);
        }
        if let Some(s) = &self.body.system_instruction {
            v["systemInstruction"] = json!(s);
        }
        if let Some(t) = &self.body.tools {
            v["tools"] = json!(t);
        }
        if let Some(t) = &self.body.tool_config {
            v["toolConfig"] = json!(t);
        }
        Bytes::from(v.to_string())
    }

    /// The `generateContent` body that refers to cache `name` (holding `contents[..k]`): the remaining contents,
    /// the generation config and every other field, without what the cache holds.
    pub fn cached_body(&self, k: usize, name: &str) -> Bytes {
        let mut body = self.body.clone();
        body.system_instruction = None;
        body.tools = None;
        body.tool_config = None;
        body.contents = body.contents.split_off(k.min(body.contents.len()));
        body.extra.insert("cachedContent".into(), json!(name));
        Bytes::from(json_bytes(&body))
    }
}

fn part_tokens(tk: Tokenizer, p: &WirePart) -> u64 {
    match &p.text {
        Some(t) => tk.count(t),
        None => tk.count(&String::from_utf8_lossy(&json_bytes(p))),
    }
}

/// The name a `cachedContents` create answer gives the new cache.
pub fn created_name(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("name")?
        .as_str()
        .filter(|n| n.starts_with("cachedContents/"))
        .map(str::to_owned)
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
