//! Observed capabilities on the request path: recording a provider's rejection of a capability the request used (in
//! the registry at once, and through the router's observer for persistence), and adapting later requests to what a
//! target was *observed* not to support. Catalog values never block a request; only observations do.
//!
//! Rules, per capability observed `false` for the target:
//! - `tools`, `vision` (images): cannot be emulated — the target is skipped with a 400-class error naming the
//!   capability, so the next target of the route is tried, and a route with no other target answers that error
//!   without calling upstream;
//! - `json_schema` (any `response_format`): dropped, and a system instruction asks for one JSON object (matching the
//!   schema when there is one);
//! - `system_role`: system and developer messages are folded, in order, into the start of the first user message;
//! - `stream_usage`: a streamed request does not ask for usage (`stream_options`); usage is then counted locally.
//!
//! When a rejection of an emulated capability is first seen, the same target is tried once more, adapted; a rejection
//! of `tools` or images falls back to the next target.

use std::borrow::Cow;

use super::Router;
use crate::catalog::Capability;
use crate::error::Error;
use crate::model_id::ModelId;
use crate::registry::{Observation, Registry, rejection};
use crate::types::{ChatRequest, Message, Part, ResponseFormat, Role};

/// Receives each new observation (the gateway persists it); called on the request path, so it must not block.
pub type Observer = Box<dyn Fn(&Observation) + Send + Sync>;

/// Whether a later attempt on the same target can succeed once `cap` is emulated.
pub(super) fn emulated(cap: Capability) -> bool {
    matches!(
        cap,
        Capability::JsonSchema | Capability::SystemRole | Capability::StreamUsage
    )
}

fn is_system(m: &Message) -> bool {
    matches!(m.role, Role::System | Role::Developer)
}

/// The capabilities `req` relies on (a streamed request asks for its usage unless told not to).
pub(super) fn uses(req: &ChatRequest, stream: bool, cap: Capability) -> bool {
    match cap {
        Capability::Tools => !req.tools.is_empty(),
        Capability::JsonSchema => req.response_format != ResponseFormat::Text,
        Capability::Vision => req
            .messages
            .iter()
            .any(|m| m.content.iter().any(|p| matches!(p, Part::Image { .. }))),
        Capability::SystemRole => req.messages.iter().any(is_system),
        Capability::StreamUsage => stream && !req.omit_stream_usage,
        Capability::Streaming => stream,
        Capability::Reasoning => req.reasoning_effort.is_some(),
        Capability::Embeddings => false,
    }
}

fn refuse(target: &ModelId, what: &str, hint: &str) -> Error {
    Error::Unsupported(format!(
        "{target} does not support `{what}` (the provider rejected it earlier; `crux models forget {target}` \
         clears that): {hint}"
    ))
}

/// The instruction that replaces a dropped `response_format`.
fn json_instruction(format: &ResponseFormat) -> String {
    let base = "Answer with one valid JSON object and nothing else: no prose, no code fences.";
    match format {
        ResponseFormat::JsonSchema { schema, .. } => {
            format!("{base} It must match this JSON schema: {schema}")
        }
        _ => base.to_owned(),
    }
}

/// Move every system/developer message's text, in order, to the start of the first user message.
fn fold_system(messages: &mut Vec<Message>) {
    let texts: Vec<String> = messages
        .iter()
        .filter(|m| is_system(m))
        .map(Message::text_content)
        .filter(|t| !t.is_empty())
        .collect();
    messages.retain(|m| !is_system(m));
    if texts.is_empty() {
        return;
    }
    let preface = format!("{}\n\n", texts.join("\n\n"));
    match messages.iter_mut().find(|m| m.role == Role::User) {
        Some(user) => user.content.insert(0, Part::Text { text: preface }),
        None => messages.insert(0, Message::user(preface.trim_end())),
    }
}

/// Adapt `req` to what `target` was observed not to support; `Ok(true)` when it changed (it is then no longer the
/// caller's body), an error when the request needs a capability that cannot be emulated.
pub(super) fn adapt(
    registry: &Registry,
    target: &ModelId,
    req: &mut Cow<'_, ChatRequest>,
    stream: bool,
) -> Result<bool, Error> {
    let lacks = |cap| uses(req, stream, cap) && registry.observed(target, cap) == Some(false);
    if lacks(Capability::Tools) {
        return Err(refuse(
            target,
            "tools",
            "send the request without tools or use a model that supports them",
        ));
    }
    if lacks(Capability::Vision) {
        return Err(refuse(
            target,
            "images",
            "send text only or use a model that accepts images",
        ));
    }
    let json = lacks(Capability::JsonSchema);
    let system = lacks(Capability::SystemRole);
    let usage = lacks(Capability::StreamUsage);
    if !(json || system || usage) {
        return Ok(false);
    }
    let r = req.to_mut();
    if json {
        let instruction = json_instruction(&r.response_format);
        r.response_format = ResponseFormat::Text;
        let at = r.messages.iter().take_while(|m| is_system(m)).count();
        r.messages.insert(at, Message::system(instruction));
    }
    if system {
        fold_system(&mut r.messages);
    }
    if usage {
        r.omit_stream_usage = true;
    }
    Ok(true)
}

impl Router {
    /// Set the observer told about each new observation (once; later calls are ignored).
    pub fn set_observer(&self, observer: Observer) {
        let _ = self.observer.0.set(observer);
    }

    /// If `error` is `target` rejecting a capability `req` used, record it (registry now, observer for the store)
    /// and return it.
    pub(super) fn observe_rejection(
        &self,
        target: &ModelId,
        req: &ChatRequest,
        stream: bool,
        error: &Error,
    ) -> Option<Capability> {
        let cap = rejection::rejected_capability(error, crate::wire::wire_for(target))?;
        if !uses(req, stream, cap) {
            return None;
        }
        let obs = Observation {
            provider: target.provider,
            model: target.model.clone(),
            capability: cap,
            value: false,
        };
        if let Ok(mut r) = self.registry.write() {
            r.observe(obs.clone());
        }
        if let Some(f) = self.observer.0.get() {
            f(&obs);
        }
        Some(cap)
    }
}

/// The router's observer slot.
#[derive(Default)]
pub(super) struct ObserverSlot(pub(super) std::sync::OnceLock<Observer>);

impl std::fmt::Debug for ObserverSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "ObserverSlot(set)"
        } else {
            "ObserverSlot(unset)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(cap: Capability) -> (Registry, ModelId) {
        let target: ModelId = "openai/mock-x".parse().unwrap_or_else(|_| unreachable!());
        let mut r = Registry::new();
        r.observe(Observation {
            provider: target.provider,
            model: target.model.clone(),
            capability: cap,
            value: false,
        });
        (r, target)
    }

    fn request(target: &ModelId) -> ChatRequest {
        let mut req = ChatRequest::new(
            target.clone(),
            vec![
                Message::system("be brief"),
                Message::user("hi"),
                Message::assistant("hello"),
                Message::user("again"),
            ],
        );
        req.response_format = ResponseFormat::JsonObject;
        req
    }

    #[test]
    fn json_mode_is_emulated_by_an_instruction() {
        let (r, target) = observed(Capability::JsonSchema);
        let req = request(&target);
        let mut cow = Cow::Borrowed(&req);
        assert_eq!(adapt(&r, &target, &mut cow, false).ok(), Some(true));
        assert_eq!(cow.response_format, ResponseFormat::Text);
        assert_eq!(cow.messages[0].text_content(), "be brief");
        assert!(cow.messages[1].text_content().contains("valid JSON object"));
        assert_eq!(cow.messages.len(), 5);
    }

    #[test]
    fn system_role_is_folded_into_the_first_user_turn() {
        let (r, target) = observed(Capability::SystemRole);
        let req = request(&target);
        let mut cow = Cow::Borrowed(&req);
        assert_eq!(adapt(&r, &target, &mut cow, false).ok(), Some(true));
        assert!(cow.messages.iter().all(|m| m.role != Role::System));
        assert_eq!(cow.messages[0].text_content(), "be brief\n\nhi");
        assert_eq!(cow.messages.len(), 3);
    }

    #[test]
    fn tools_and_stream_usage() {
        let (r, target) = observed(Capability::Tools);
        let mut req = request(&target);
        let mut cow = Cow::Borrowed(&req);
        assert_eq!(
            adapt(&r, &target, &mut cow, true).ok(),
            Some(false),
            "no tools asked"
        );
        req.tools.push(crate::types::Tool {
            name: "f".into(),
            description: None,
            parameters: serde_json::json!({"type": "object"}),
            strict: None,
        });
        let mut cow = Cow::Borrowed(&req);
        let err = adapt(&r, &target, &mut cow, false)
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("`tools`")));
        let (r, target) = observed(Capability::StreamUsage);
        let req = request(&target);
        let mut cow = Cow::Borrowed(&req);
        assert_eq!(
            adapt(&r, &target, &mut cow, false).ok(),
            Some(false),
            "not streamed"
        );
        assert_eq!(adapt(&r, &target, &mut cow, true).ok(), Some(true));
        assert!(cow.omit_stream_usage);
        // The catalog alone never changes a request.
        let (r, _) = observed(Capability::Tools);
        let gpt: ModelId = "openai/gpt-4o-mini"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let mut cow = Cow::Borrowed(&req);
        assert_eq!(adapt(&r, &gpt, &mut cow, true).ok(), Some(false));
    }
}
