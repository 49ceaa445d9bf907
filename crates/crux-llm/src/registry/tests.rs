//! Unit tests of the registry's merge, lookup, observation and validation rules (no network).

use super::*;
use crate::error::Error;

fn id(p: ProviderId, m: &str) -> ModelId {
    ModelId::new(p, m)
}

fn info(p: ProviderId, m: &str, ctx: Option<u64>) -> ModelInfo {
    ModelInfo {
        provider: p.as_str().to_owned(),
        id: m.to_owned(),
        owned_by: None,
        context_length: ctx,
    }
}

fn snapshot(p: ProviderId, models: Vec<ModelInfo>) -> Snapshot {
    Snapshot {
        provider: p,
        models,
        fetched_at: 1,
        source: SOURCE_API.into(),
    }
}

#[test]
fn catalog_only_registry() {
    let r = Registry::new();
    for p in ProviderId::all() {
        assert_eq!(r.models(p).len(), catalog::provider(p).models.len());
        assert!(
            r.models(p)
                .iter()
                .all(|e| e.in_catalog && e.listed.is_none())
        );
        assert!(r.snapshot(p).is_none());
    }
}

#[test]
fn limits_use_exact_then_longest_prefix() {
    let r = Registry::new();
    let o = ProviderId::OpenAi;
    assert_eq!(r.context_limit(&id(o, "gpt-4o-2024-08-06")), Some(128_000));
    assert_eq!(
        r.candidates(&id(o, "gpt-4o-mini-2024-07-18"))[0].id,
        "gpt-4o-mini"
    );
    assert_eq!(r.context_limit(&id(o, "gpt-4-0613")), Some(8_192));
    assert_eq!(
        r.context_limit(&id(o, "gpt-4.5-preview")),
        None,
        "'.' is not a separator"
    );
    assert_eq!(r.context_limit(&id(o, "gpt-4")), Some(8_192));
    assert_eq!(
        r.context_limit(&id(ProviderId::Ollama, "qwen2.5-coder:7b")),
        Some(32_768)
    );
    assert_eq!(
        r.max_output(&id(ProviderId::Anthropic, "claude-3-5-haiku-latest")),
        Some(8_192)
    );
    assert!(r.prices(&id(o, "unknown-model")).is_none());
}

#[test]
fn snapshot_merge_keeps_catalog_metadata_and_adds_unknown_models() {
    let mut r = Registry::new();
    let o = ProviderId::OpenAi;
    r.set_snapshot(snapshot(
        o,
        vec![
            info(o, "gpt-4o", Some(999)),
            info(o, "ft:gpt-4o:acme", Some(64_000)),
            info(o, "gpt-4o-2024-11-20", None),
        ],
    ));
    let gpt4o = r.get(&id(o, "gpt-4o")).unwrap();
    assert_eq!(
        (gpt4o.context_window, gpt4o.listed),
        (Some(128_000), Some(true))
    );
    assert_eq!(r.get(&id(o, "gpt-4.1")).unwrap().listed, Some(false));
    let ft = r.get(&id(o, "ft:gpt-4o:acme")).unwrap();
    assert!(!ft.in_catalog && ft.prices.is_none() && ft.capabilities.is_empty());
    assert_eq!(ft.context_window, Some(64_000));
    let dated = r.get(&id(o, "gpt-4o-2024-11-20")).unwrap();
    assert_eq!(dated.context_window, None);
    assert_eq!(r.context_limit(&id(o, "gpt-4o-2024-11-20")), Some(128_000));
    assert_eq!(r.models(o).len(), catalog::provider(o).models.len() + 2);
}

#[test]
fn ollama_latest_tag_matches_the_catalog_id() {
    let mut r = Registry::new();
    let p = ProviderId::Ollama;
    r.set_snapshot(snapshot(
        p,
        vec![
            info(p, "llama3.2:latest", None),
            info(p, "phi3:latest", None),
        ],
    ));
    assert_eq!(r.get(&id(p, "llama3.2")).unwrap().listed, Some(true));
    assert_eq!(r.get(&id(p, "phi3")).unwrap().id, "phi3");
    assert!(r.get(&id(p, "phi3:latest")).is_some());
}

#[test]
fn observed_false_wins_over_catalog_true() {
    let mut r = Registry::new();
    let m = id(ProviderId::Groq, "llama-3.1-8b-instant");
    assert_eq!(r.capability(&m, Capability::Tools), Some(true));
    r.observe(Observation {
        provider: m.provider,
        model: m.model.clone(),
        capability: Capability::Tools,
        value: false,
    });
    assert_eq!(r.capability(&m, Capability::Tools), Some(false));
    assert!(!r.should_attempt(&m, Capability::Tools));
    let e = r.get(&m).unwrap();
    assert_eq!(
        e.observed.get(&Capability::Tools),
        Some(&ObservedValue {
            value: false,
            catalog: Some(true)
        })
    );
    assert_eq!(e.observed.len(), 1);
    assert!(!e.ide.tools_supported);
    assert_eq!(e.ide.max_tool_calls_per_turn, 0);
    assert_eq!(e.ide.tool_format, catalog::ToolFormat::None);
    assert_eq!(r.observations().len(), 1);
    // An observation for an id nobody lists still answers for that id.
    let odd = id(ProviderId::Groq, "brand-new");
    assert!(r.should_attempt(&odd, Capability::Vision));
    r.observe(Observation {
        provider: odd.provider,
        model: odd.model.clone(),
        capability: Capability::Vision,
        value: false,
    });
    assert!(!r.should_attempt(&odd, Capability::Vision));
}

#[test]
fn failed_refresh_keeps_the_last_snapshot_and_says_why() {
    let mut r = Registry::new();
    let p = ProviderId::Mistral;
    assert_eq!(
        r.apply_refresh(
            p,
            Ok(snapshot(p, vec![info(p, "mistral-small-latest", None)]))
        ),
        Ok(1)
    );
    let failure = r
        .apply_refresh(p, Err(Error::Config("no API key for mistral".into())))
        .unwrap_err();
    assert_eq!(failure.code, ErrorCode::Validation);
    assert!(failure.message.contains("no API key"));
    assert_eq!(r.snapshot(p).map(|s| s.models.len()), Some(1));
    assert_eq!(r.last_failure(p), Some(&failure));
    assert_eq!(r.apply_refresh(p, Ok(snapshot(p, Vec::new()))), Ok(0));
    assert!(r.last_failure(p).is_none());
}

#[test]
fn validate_defaults_reports_errors_and_warnings() {
    let mut r = Registry::new();
    let defaults = vec![
        (ProviderId::OpenAi, "gpt-4o-mini".to_owned()),
        (ProviderId::Anthropic, "claude-4.1-sonnet".to_owned()),
        (ProviderId::Gemini, "gemini-2.0-flash-001".to_owned()),
    ];
    let routes = vec![
        (
            "smart".to_owned(),
            vec!["openai/gpt-4o".to_owned(), "nope/x".to_owned()],
        ),
        ("empty".to_owned(), Vec::new()),
    ];
    let problems = r.validate_defaults(&defaults, &routes);
    let summary: Vec<(&str, Severity)> = problems
        .iter()
        .map(|p| (p.subject.as_str(), p.severity))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("providers.anthropic.default_model", Severity::Error),
            ("providers.gemini.default_model", Severity::Warning),
            ("routes.smart.targets[1]", Severity::Error),
            ("routes.empty.targets", Severity::Error),
        ]
    );
    assert!(
        problems[0]
            .to_string()
            .starts_with("error: providers.anthropic")
    );
    let o = ProviderId::OpenAi;
    r.set_snapshot(snapshot(o, vec![info(o, "gpt-4o", None)]));
    let p = r.validate_defaults(&defaults[..1], &[]);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].severity, Severity::Warning);
    assert!(p[0].message.contains("last refresh"));
}

#[test]
fn bare_names_resolve_through_merged_lists() {
    let mut r = Registry::new();
    assert_eq!(
        r.providers_offering("deepseek-chat"),
        vec![ProviderId::DeepSeek]
    );
    let p = ProviderId::Groq;
    r.set_snapshot(snapshot(p, vec![info(p, "deepseek-chat", None)]));
    assert_eq!(
        r.providers_offering("deepseek-chat"),
        vec![ProviderId::DeepSeek, ProviderId::Groq]
    );
}

#[test]
fn observed_only_models_are_listed_and_forgotten() {
    let mut r = Registry::new();
    let m = id(ProviderId::OpenAi, "mock-no-tools");
    assert!(r.get(&m).is_none());
    r.observe(Observation {
        provider: m.provider,
        model: m.model.clone(),
        capability: Capability::Tools,
        value: false,
    });
    let e = r.get(&m).unwrap();
    assert!(!e.in_catalog);
    assert_eq!(e.listed, None);
    assert_eq!(
        e.observed[&Capability::Tools],
        ObservedValue {
            value: false,
            catalog: None
        }
    );
    assert_eq!(r.forget(&m), 1);
    assert!(
        r.get(&m).is_none(),
        "the entry existed only for its observation"
    );
    assert_eq!(r.capability(&m, Capability::Tools), None);
    // A catalog model goes back to its catalog value.
    let groq = id(ProviderId::Groq, "llama-3.1-8b-instant");
    r.observe(Observation {
        provider: groq.provider,
        model: groq.model.clone(),
        capability: Capability::Tools,
        value: false,
    });
    assert_eq!(r.forget(&groq), 1);
    assert_eq!(r.capability(&groq, Capability::Tools), Some(true));
    assert!(r.get(&groq).unwrap().observed.is_empty());
    assert_eq!(r.forget(&groq), 0);
}
