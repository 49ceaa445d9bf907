//! Unit tests of name resolution.

use super::*;

fn router(routes: &[(&str, &[&str])]) -> Router {
    let mut config = RouterConfig::default();
    for (alias, targets) in routes {
        config.routes.insert(
            (*alias).into(),
            targets.iter().map(|t| t.parse().unwrap()).collect(),
        );
    }
    Router::new(Client::builder().build().unwrap(), config)
}

#[test]
fn resolution_order() {
    let r = router(&[(
        "smart",
        &["openai/gpt-4o", "anthropic/claude-3-5-sonnet-latest"],
    )]);
    let smart = r.resolve("smart", Some(ProviderId::OpenAi)).unwrap();
    assert!(smart.alias);
    assert_eq!(smart.targets.len(), 2);
    let groq = r.resolve("groq/llama-3.3-70b-versatile", Some(ProviderId::Anthropic));
    assert_eq!(groq.unwrap().targets[0].provider, ProviderId::Groq);
    let or = r
        .resolve("openrouter/meta-llama/llama-3.1-8b-instruct", None)
        .unwrap();
    assert_eq!(or.targets[0].model, "meta-llama/llama-3.1-8b-instruct");
    let bare = r.resolve("claude-sonnet-4-5", Some(ProviderId::Anthropic));
    assert_eq!(bare.unwrap().targets[0].provider, ProviderId::Anthropic);
    let bare = r.resolve("gpt-4o-mini", Some(ProviderId::OpenAi)).unwrap();
    assert_eq!(bare.targets[0].provider, ProviderId::OpenAi);
    let e = r.resolve("nope/model", None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
    let msg = e.to_string();
    assert!(msg.contains("mistral") && msg.contains("smart"), "{msg}");
    assert_eq!(r.resolve("  ", None).unwrap_err(), ResolveError::Empty);
    assert!(matches!(
        r.resolve("some-unknown-model", None),
        Err(ResolveError::NeedsProvider(_))
    ));
}

#[test]
fn route_failure_lists_every_attempt() {
    let f = RouteFailure {
        attempts: vec![
            Attempt {
                target: "openai/a".parse().unwrap(),
                error: Error::Cancelled,
            },
            Attempt {
                target: "anthropic/b".parse().unwrap(),
                error: Error::Config("no key".into()),
            },
        ],
        retries: Vec::new(),
    };
    assert_eq!(f.fallbacks(), 1);
    assert_eq!(f.target().to_string(), "anthropic/b");
    let text = f.to_string();
    assert!(
        text.contains("openai/a (cancelled)") && text.contains("anthropic/b"),
        "{text}"
    );
}
