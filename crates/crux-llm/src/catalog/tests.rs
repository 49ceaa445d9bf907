//! Unit tests of the catalog's constructors, IDE keys and id rules (data-wide checks live in `tests/catalog.rs`).

use super::rows::{EMBED, MULTI, REASON, caps};
use super::*;

#[test]
fn table_is_indexed_by_provider() {
    for p in ProviderId::BUILTIN {
        assert_eq!(provider(p).provider, p);
    }
    assert_eq!(all().len(), ProviderId::BUILTIN.len());
}

#[test]
fn capability_bits_map_to_fields() {
    let c = caps(MULTI | REASON);
    assert!(c.streaming && c.tools && c.vision && c.json_schema && c.reasoning);
    assert!(!c.embeddings);
    assert_eq!(caps(EMBED).supported(), vec![Capability::Embeddings]);
    for cap in Capability::ALL {
        assert_eq!(cap.as_str().parse::<Capability>(), Ok(cap));
        assert_eq!(
            serde_json::to_value(cap).unwrap_or_default(),
            serde_json::json!(cap.as_str())
        );
    }
    assert!("telepathy".parse::<Capability>().is_err());
}

#[test]
fn ide_keys_follow_provider_and_model() {
    let openai = provider(ProviderId::OpenAi);
    let mini = openai.model("gpt-4o-mini").map(|m| m.ide(openai));
    assert_eq!(
        mini,
        Some(IdeProfile {
            tool_format: ToolFormat::OpenAi,
            system_message: SystemMessage::DeveloperRole,
            fim: false,
            tools_supported: true,
            max_tool_calls_per_turn: MAX_TOOL_CALLS_PER_TURN,
        })
    );
    let o1_mini = openai.model("o1-mini").map(|m| m.ide(openai));
    assert_eq!(o1_mini.map(|i| i.system_message), Some(SystemMessage::None));
    assert_eq!(o1_mini.map(|i| i.tool_format), Some(ToolFormat::None));
    let embed = openai
        .model("text-embedding-3-small")
        .map(|m| m.ide(openai));
    assert_eq!(
        embed.map(|i| (i.tools_supported, i.max_tool_calls_per_turn)),
        Some((false, 0))
    );
    let mistral = provider(ProviderId::Mistral);
    assert_eq!(mistral.model("codestral-latest").map(|m| m.fim), Some(true));
    let anthropic = provider(ProviderId::Anthropic);
    let haiku = anthropic
        .model("claude-3-5-haiku-latest")
        .map(|m| m.ide(anthropic));
    assert_eq!(haiku.map(|i| i.tool_format), Some(ToolFormat::Anthropic));
    assert_eq!(
        haiku.map(|i| i.system_message),
        Some(SystemMessage::Separated)
    );
}

#[test]
fn ide_keys_serialize_with_the_original_names() {
    let v = serde_json::to_value(provider(ProviderId::Groq).ide_default()).unwrap_or_default();
    assert_eq!(
        v,
        serde_json::json!({"tool_format": "openai", "system_message": "system-role", "fim": false,
            "tools_supported": true, "max_tool_calls_per_turn": 8})
    );
}

#[test]
fn aliases_and_ollama_latest_resolve() {
    let haiku = find(&ModelId::new(
        ProviderId::Anthropic,
        "claude-3-5-haiku-latest",
    ));
    assert_eq!(haiku.map(|m| m.id), Some("claude-3-5-haiku-20241022"));
    assert_eq!(
        canonical_id(ProviderId::Ollama, "llama3.2:latest"),
        "llama3.2"
    );
    assert_eq!(canonical_id(ProviderId::OpenAi, "x:latest"), "x:latest");
    assert!(find(&ModelId::new(ProviderId::Ollama, "llama3.2:latest")).is_some());
    assert!(find(&ModelId::new(ProviderId::Ollama, "llama3.2:1b")).is_none());
}

#[test]
fn bare_names_find_their_provider() {
    assert_eq!(providers_offering("gpt-4o"), vec![ProviderId::OpenAi]);
    assert_eq!(
        providers_offering("claude-3-5-sonnet-latest"),
        vec![ProviderId::Anthropic]
    );
    assert!(providers_offering("no-such-model").is_empty());
}
