//! Unit tests of budgets, `fits`, request pruning and the input guard.

use super::*;
use crate::error::ErrorCode;
use crate::providers::ProviderId;
use crate::types::Tool;

fn req(model: &str, text: &str, max_tokens: Option<u32>) -> ChatRequest {
    let mut r = ChatRequest::new(
        model.parse().unwrap_or_else(|_| unreachable!()),
        vec![Message::system("sys"), Message::user(text)],
    );
    r.max_tokens = max_tokens;
    r
}

#[test]
fn budget_reserves_max_tokens() {
    let reg = Registry::new();
    // gpt-4 has an 8192-token window.
    let small = req("openai/gpt-4-0613", "hello", Some(100));
    let b = budget(&small, &reg);
    assert_eq!(b.context_limit, Some(8_192));
    assert_eq!(b.reserved_output, 100);
    assert!(b.fits() && fits(&small, &reg));
    let greedy = req("openai/gpt-4-0613", "hello", Some(8_190));
    assert!(!fits(&greedy, &reg));
    let unknown = req("openai/totally-new-model", "hello", Some(u32::MAX));
    assert!(
        fits(&unknown, &reg),
        "an unknown limit is not held against a request"
    );
}

#[test]
fn tools_and_schema_count_as_input() {
    let mut r = req("anthropic/claude-3-5-haiku-latest", "hi", None);
    let base = count_request(&r);
    r.tools = vec![Tool {
        name: "lookup".into(),
        description: Some("Look something up in a large index".into()),
        parameters: serde_json::json!({"type": "object", "properties": {"q": {"type": "string"}}}),
        strict: None,
    }];
    assert!(count_request(&r) > base + 10);
    assert_eq!(
        count_request(&r),
        count_tokens(&r.model, &r.messages) + overhead_tokens(&r)
    );
}

#[test]
fn guard_rejects_with_too_large() {
    let reg = Registry::new();
    let big = req("openai/gpt-4", &"word ".repeat(9_000), None);
    let err = check_input(&big, &reg, &GuardConfig::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(!err.is_retryable());
    assert!(
        matches!(err, Error::TooLarge { limit: 8_192, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("openai/gpt-4"));
}

#[test]
fn guard_is_configurable_per_provider_and_model() {
    let reg = Registry::new();
    let r = req("mistral/mistral-small-latest", &"word ".repeat(200), None);
    let mut guard = GuardConfig {
        default: GuardRule {
            enabled: None,
            max_input_tokens: Some(50),
            ..GuardRule::default()
        },
        ..GuardConfig::default()
    };
    let err = check_input(&r, &reg, &guard).unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 50, .. }), "{err:?}");
    guard.providers.insert(
        ProviderId::Mistral,
        GuardRule {
            enabled: None,
            max_input_tokens: Some(10_000),
            ..GuardRule::default()
        },
    );
    assert!(check_input(&r, &reg, &guard).is_ok());
    guard.models.insert(
        "mistral/mistral-small-latest".into(),
        GuardRule {
            enabled: Some(false),
            max_input_tokens: Some(1),
            ..GuardRule::default()
        },
    );
    assert!(
        check_input(&r, &reg, &guard).is_ok(),
        "disabled for this model"
    );
    let rule = guard.rule_for(&r.model);
    assert_eq!(
        (rule.enabled, rule.max_input_tokens),
        (Some(false), Some(1))
    );
    let other = req("mistral/codestral-latest", "x", None);
    assert_eq!(guard.rule_for(&other.model).max_input_tokens, Some(10_000));
}

#[test]
fn prune_request_makes_room_for_the_answer() {
    let reg = Registry::new();
    let mut r = req("openai/gpt-4", "final question", Some(4_000));
    let filler = "lorem ipsum dolor sit amet ".repeat(800);
    r.messages.splice(
        1..1,
        [Message::user(filler.clone()), Message::assistant(filler)],
    );
    assert!(!fits(&r, &reg));
    let p = prune_request(&r, &reg, PruneStrategy::OldestFirst).unwrap_or_else(|| unreachable!());
    assert!(p.fits);
    assert_eq!(p.dropped, 2);
    r.messages = p.messages;
    assert!(fits(&r, &reg));
    assert!(check_input(&r, &reg, &GuardConfig::default()).is_ok());
    let unknown = req("openai/brand-new", "x", None);
    assert!(prune_request(&unknown, &reg, PruneStrategy::OldestFirst).is_none());
}
