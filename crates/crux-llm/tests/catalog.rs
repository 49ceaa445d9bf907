//! The built-in catalog's data rules: every provider's default model is in its catalog, ids are unique, every
//! price and limit is positive (zero only where it is the truth: local Ollama prices, embedding-model output).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;

use crux_llm::catalog::{self, Capability};
use crux_llm::registry::Registry;
use crux_llm::{ModelId, ProviderId};

#[test]
fn every_provider_has_its_default_model_in_the_catalog() {
    for p in ProviderId::all() {
        let cat = catalog::provider(p);
        assert_eq!(cat.provider, p);
        let default = cat.default_model;
        let model = cat
            .model(default)
            .unwrap_or_else(|| panic!("{p}: default model '{default}' is not in the catalog"));
        assert!(
            !model.capabilities.embeddings,
            "{p}: the default must be a chat model"
        );
        assert!(model.capabilities.streaming, "{p}: the default must stream");
        assert!(Registry::new().get(&ModelId::new(p, default)).is_some());
    }
}

#[test]
fn defaults_match_the_documented_interface() {
    let expected = [
        (ProviderId::OpenAi, "gpt-4o-mini"),
        (ProviderId::Anthropic, "claude-3-5-haiku-latest"),
        (ProviderId::Gemini, "gemini-2.0-flash"),
        (ProviderId::Ollama, "llama3.2"),
        (ProviderId::OpenRouter, "meta-llama/llama-3.1-8b-instruct"),
        (ProviderId::DeepSeek, "deepseek-chat"),
        (ProviderId::Xai, "grok-3-mini"),
        (ProviderId::Groq, "llama-3.3-70b-versatile"),
        (ProviderId::Mistral, "mistral-small-latest"),
    ];
    for (p, id) in expected {
        assert_eq!(catalog::default_model(p), id);
    }
}

#[test]
fn ids_and_aliases_are_unique_per_provider() {
    for cat in catalog::all() {
        let mut seen = HashSet::new();
        for m in cat.models {
            for id in std::iter::once(&m.id).chain(m.aliases) {
                assert!(seen.insert(*id), "{}: '{id}' appears twice", cat.provider);
                assert!(!id.is_empty() && id.trim() == *id);
            }
            assert!(
                !m.name.is_empty() && !m.family.is_empty(),
                "{}/{}",
                cat.provider,
                m.id
            );
        }
    }
}

#[test]
fn every_price_and_limit_is_positive() {
    for cat in catalog::all() {
        let local = cat.provider == ProviderId::Ollama;
        for m in cat.models {
            let at = format!("{}/{}", cat.provider, m.id);
            let p = m
                .prices
                .unwrap_or_else(|| panic!("{at}: every built-in model has prices"));
            let embeddings = m.capabilities.embeddings;
            assert!(m.context_window > 0, "{at}: context window");
            if embeddings {
                assert_eq!(
                    (m.max_output_tokens, p.output),
                    (0, 0.0),
                    "{at}: embeddings have no output"
                );
            } else {
                assert!(m.max_output_tokens > 0, "{at}: max output");
                assert!(
                    m.max_output_tokens <= m.context_window,
                    "{at}: output cap above window"
                );
            }
            if local {
                assert_eq!(
                    (p.input, p.output, p.cached_input),
                    (0.0, 0.0, None),
                    "{at}: local is free"
                );
                continue;
            }
            assert!(p.input > 0.0 && p.input.is_finite(), "{at}: input price");
            assert!(embeddings || p.output > 0.0, "{at}: output price");
            if let Some(cached) = p.cached_input {
                assert!(cached > 0.0 && cached <= p.input, "{at}: cached price");
            }
        }
    }
}

#[test]
fn every_provider_has_models_and_the_expected_embeddings() {
    for cat in catalog::all() {
        assert!(cat.models.len() >= 2, "{}", cat.provider);
        let has_embeddings = cat
            .models
            .iter()
            .any(|m| m.capabilities.get(Capability::Embeddings));
        let expects = matches!(
            cat.provider,
            ProviderId::OpenAi | ProviderId::Gemini | ProviderId::Mistral | ProviderId::Ollama
        );
        assert_eq!(has_embeddings, expects, "{}", cat.provider);
    }
}

#[test]
fn ide_keys_are_consistent_with_capabilities() {
    for cat in catalog::all() {
        for m in cat.models {
            let ide = m.ide(cat);
            assert_eq!(
                ide.tools_supported, m.capabilities.tools,
                "{}/{}",
                cat.provider, m.id
            );
            assert_eq!(ide.max_tool_calls_per_turn > 0, m.capabilities.tools);
            let v = serde_json::to_value(ide).unwrap();
            for key in [
                "tool_format",
                "system_message",
                "fim",
                "tools_supported",
                "max_tool_calls_per_turn",
            ] {
                assert!(v.get(key).is_some(), "missing IDE key {key}");
            }
        }
    }
}

#[test]
fn dated_snapshots_resolve_to_the_right_family() {
    let reg = Registry::new();
    let limit = |p, m: &str| reg.context_limit(&ModelId::new(p, m));
    // The original resolved this to gpt-4's 8192 (first substring match).
    assert_eq!(
        limit(ProviderId::OpenAi, "gpt-4o-2024-08-06"),
        Some(128_000)
    );
    assert_eq!(limit(ProviderId::OpenAi, "gpt-4-0613"), Some(8_192));
    assert_eq!(
        limit(ProviderId::Gemini, "gemini-2.0-flash-001"),
        Some(1_048_576)
    );
    assert_eq!(
        limit(ProviderId::Anthropic, "claude-3-5-haiku-latest"),
        Some(200_000)
    );
}
