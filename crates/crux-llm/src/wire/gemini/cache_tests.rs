//! Unit tests for the Gemini context-cache plan: prefixes, keys, and the two bodies.

use serde_json::{Value, json};

use super::*;
use crate::types::{CacheBreakpoint, Message, Tool};
use crate::wire::gemini::request::build_with_bounds;

fn request(messages: Vec<Message>, cache: &[(usize, CacheTtl)]) -> ChatRequest {
    let mut req = ChatRequest::new("gemini/gemini-2.5-flash".parse().unwrap(), messages);
    req.cache = cache
        .iter()
        .map(|&(messages, ttl)| CacheBreakpoint { messages, ttl })
        .collect();
    req
}

fn plan_of(scope: &str, req: &ChatRequest) -> Option<CachePlan> {
    let (body, bounds) = build_with_bounds(req.model.provider.spec(), req).unwrap();
    plan(scope.as_bytes(), req, &body, &bounds)
}

fn json_of(b: &Bytes) -> Value {
    serde_json::from_slice(b).unwrap()
}

fn conversation() -> Vec<Message> {
    vec![
        Message::system("You are a very long system prompt."),
        Message::user("first question"),
        Message::assistant("first answer"),
        Message::user("second question"),
    ]
}

#[test]
fn no_breakpoint_no_plan() {
    assert!(plan_of("k", &request(conversation(), &[])).is_none());
}

#[test]
fn a_breakpoint_on_the_last_message_caches_everything_before_it() {
    let req = request(
        conversation(),
        &[(1, CacheTtl::FiveMinutes), (4, CacheTtl::FiveMinutes)],
    );
    let p = plan_of("k", &req).unwrap();
    // contents: user, model, user — the last stays in the request; candidates 2, 1, 0 (system alone).
    let ks: Vec<usize> = p.candidates.iter().map(|c| c.0).collect();
    assert_eq!(ks, vec![2, 1, 0]);
    let create = json_of(&p.create_body(2));
    assert_eq!(create["model"], "models/gemini-2.5-flash");
    assert_eq!(create["ttl"], "300s");
    assert_eq!(
        create["systemInstruction"]["parts"][0]["text"],
        "You are a very long system prompt."
    );
    assert_eq!(create["contents"].as_array().unwrap().len(), 2);
    assert_eq!(create["contents"][1]["role"], "model");
    let rest = json_of(&p.cached_body(2, "cachedContents/abc"));
    assert_eq!(rest["cachedContent"], "cachedContents/abc");
    assert!(rest.get("systemInstruction").is_none());
    assert_eq!(
        rest["contents"],
        json!([{"role": "user", "parts": [{"text": "second question"}]}])
    );
}

#[test]
fn one_hour_ttl_and_tools_live_in_the_cache() {
    let mut req = request(conversation(), &[(0, CacheTtl::OneHour)]);
    req.tools = vec![Tool {
        name: "lookup".into(),
        description: Some("find things".into()),
        parameters: json!({"type": "object", "properties": {"q": {"type": "string"}}}),
        strict: None,
    }];
    req.tool_choice = Some(crate::types::ToolChoice::Auto);
    let p = plan_of("k", &req).unwrap();
    assert_eq!(p.candidates.len(), 1);
    let create = json_of(&p.create_body(0));
    assert_eq!(create["ttl"], "3600s");
    assert_eq!(
        create["tools"][0]["functionDeclarations"][0]["name"],
        "lookup"
    );
    assert_eq!(
        create["toolConfig"]["functionCallingConfig"]["mode"],
        "AUTO"
    );
    assert!(create.get("contents").is_none());
    let rest = json_of(&p.cached_body(0, "cachedContents/t"));
    assert!(rest.get("tools").is_none() && rest.get("toolConfig").is_none());
    assert_eq!(rest["contents"].as_array().unwrap().len(), 3);
}

#[test]
fn keys_depend_on_scope_model_and_prefix_and_a_longer_conversation_finds_the_earlier_prefix() {
    let turn1 = request(conversation(), &[(4, CacheTtl::FiveMinutes)]);
    let a = plan_of("key-a", &turn1).unwrap();
    assert_eq!(a.candidates, plan_of("key-a", &turn1).unwrap().candidates);
    let other_key = plan_of("key-b", &turn1).unwrap();
    assert_ne!(a.candidates[0].1, other_key.candidates[0].1);
    let mut other_model = turn1.clone();
    other_model.model = "gemini/gemini-2.5-pro".parse().unwrap();
    assert_ne!(
        a.candidates[0].1,
        plan_of("key-a", &other_model).unwrap().candidates[0].1
    );
    // The next turn: its candidates include the prefix written on this one.
    let mut messages = conversation();
    messages.push(Message::assistant("second answer"));
    messages.push(Message::user("third question"));
    let turn2 = request(messages, &[(6, CacheTtl::FiveMinutes)]);
    let b = plan_of("key-a", &turn2).unwrap();
    assert_eq!(b.candidates[0].0, 4);
    assert!(b.candidates.contains(&a.candidates[0]));
    // A different system prompt changes every key.
    let mut changed = conversation();
    changed[0] = Message::system("another prompt");
    let c = plan_of("key-a", &request(changed, &[(4, CacheTtl::FiveMinutes)])).unwrap();
    assert!(!c.candidates.iter().any(|x| a.candidates.contains(x)));
}

#[test]
fn nothing_to_cache_without_system_tools_or_earlier_turns() {
    let req = request(vec![Message::user("only")], &[(1, CacheTtl::FiveMinutes)]);
    assert!(plan_of("k", &req).is_none());
}

#[test]
fn a_caller_naming_its_own_cache_is_left_alone() {
    let mut req = request(conversation(), &[(4, CacheTtl::FiveMinutes)]);
    req.extra
        .insert("cachedContent".into(), json!("cachedContents/mine"));
    assert!(plan_of("k", &req).is_none());
}

#[test]
fn minimum_sizes_by_model_and_prefix_estimate() {
    assert_eq!(min_tokens("gemini-2.5-flash"), 1_024);
    assert_eq!(min_tokens("models/gemini-3-flash-preview"), 1_024);
    assert_eq!(min_tokens("gemini-2.5-pro"), 4_096);
    assert_eq!(min_tokens("gemini-2.0-flash"), 4_096);
    let mut messages = conversation();
    messages[0] = Message::system("word ".repeat(2_000));
    let p = plan_of("k", &request(messages, &[(4, CacheTtl::FiveMinutes)])).unwrap();
    assert!(p.prefix_tokens(0) >= 2_000, "{}", p.prefix_tokens(0));
    assert!(p.prefix_tokens(2) > p.prefix_tokens(0));
}

#[test]
fn created_names_are_read_from_the_answer() {
    let answer = br#"{"name":"cachedContents/x1","model":"models/gemini-2.5-flash","expireTime":"2026-01-01T00:00:00Z"}"#;
    assert_eq!(created_name(answer).as_deref(), Some("cachedContents/x1"));
    assert_eq!(created_name(br#"{"error":{"code":400}}"#), None);
}
