//! Ollama embeddings: `POST /api/embed` request and response.

use super::types::{EmbedBody, EmbedResult};
use crate::error::Result;
use crate::providers::ProviderId;
use crate::types::{EmbedRequest, EmbedResponse, Usage};
use crate::wire::parse_json;

/// Build the `/api/embed` body (model, input array, optional dimensions).
pub fn build(req: &EmbedRequest) -> EmbedBody {
    EmbedBody {
        model: req.model.model.clone(),
        input: req.input.clone(),
        dimensions: req.dimensions,
    }
}

/// Decode the vectors (input order) and the prompt token count.
pub fn decode(p: ProviderId, body: &[u8]) -> Result<EmbedResponse> {
    let parsed: EmbedResult = parse_json(p, body)?;
    Ok(EmbedResponse {
        model: parsed.model,
        vectors: parsed.embeddings,
        usage: Usage {
            prompt: parsed.prompt_eval_count,
            total: parsed.prompt_eval_count,
            ..Usage::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn body_and_decode() {
        let req = EmbedRequest {
            model: "ollama/all-minilm".parse().unwrap(),
            input: vec!["hi".into()],
            dimensions: None,
        };
        assert_eq!(
            serde_json::to_value(build(&req)).unwrap(),
            json!({"model": "all-minilm", "input": ["hi"]})
        );
        let r = decode(
            ProviderId::Ollama,
            br#"{"model":"all-minilm","embeddings":[[0.5,-0.25]],"total_duration":14143917,"prompt_eval_count":8}"#,
        )
        .unwrap();
        assert_eq!(r.vectors, vec![vec![0.5, -0.25]]);
        assert_eq!(r.usage.prompt, Some(8));
        assert_eq!(r.usage.total, Some(8));
    }
}
