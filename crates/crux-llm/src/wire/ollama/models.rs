//! Ollama model listing: `GET /api/tags` (local models; no context length in this endpoint).

use super::types::TagList;
use crate::error::Result;
use crate::providers::ProviderId;
use crate::types::ModelInfo;
use crate::wire::parse_json;

/// Decode `/api/tags`.
pub fn decode(p: ProviderId, body: &[u8]) -> Result<Vec<ModelInfo>> {
    let parsed: TagList = parse_json(p, body)?;
    Ok(parsed
        .models
        .into_iter()
        .map(|m| ModelInfo {
            provider: p.as_str().to_owned(),
            id: if m.name.is_empty() { m.model } else { m.name },
            owned_by: None,
            context_length: None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_names() {
        let models = decode(
            ProviderId::Ollama,
            br#"{"models":[{"name":"llama3.2:latest","size":1},{"model":"qwen3:8b"}]}"#,
        )
        .unwrap();
        let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["llama3.2:latest", "qwen3:8b"]);
        assert!(
            models
                .iter()
                .all(|m| m.context_length.is_none() && m.provider == "ollama")
        );
    }
}
