//! Gemini embeddings: `POST /v1beta/models/{model}:batchEmbedContents` request and response.

use super::request::bare_model;
use super::types::{BatchEmbedRequest, BatchEmbedResponse, Content, EmbedContentRequest, WirePart};
use crate::error::Result;
use crate::providers::ProviderId;
use crate::types::{EmbedRequest, EmbedResponse, Usage};
use crate::wire::parse_json;

/// Path of a batch embeddings call.
pub fn path(model: &str) -> String {
    format!("/v1beta/models/{}:batchEmbedContents", bare_model(model))
}

/// Build the body: one request per input, each naming the model as `models/{model}`.
pub fn build(req: &EmbedRequest) -> BatchEmbedRequest {
    let model = format!("models/{}", bare_model(&req.model.model));
    BatchEmbedRequest {
        requests: req
            .input
            .iter()
            .map(|text| EmbedContentRequest {
                model: model.clone(),
                content: Content {
                    role: None,
                    parts: vec![WirePart::text(text.clone())],
                },
                output_dimensionality: req.dimensions,
            })
            .collect(),
    }
}

/// Decode the vectors (input order). Gemini names neither the model nor token counts in this response, so `model`
/// is empty and usage unset.
pub fn decode(p: ProviderId, body: &[u8]) -> Result<EmbedResponse> {
    let parsed: BatchEmbedResponse = parse_json(p, body)?;
    Ok(EmbedResponse {
        model: String::new(),
        vectors: parsed.embeddings.into_iter().map(|e| e.values).collect(),
        usage: Usage::default(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::Error;

    #[test]
    fn body_names_the_model_per_request() {
        let req = EmbedRequest {
            model: "gemini/gemini-embedding-001".parse().unwrap(),
            input: vec!["a".into(), " b\n".into()],
            dimensions: Some(768),
        };
        assert_eq!(
            path(&req.model.model),
            "/v1beta/models/gemini-embedding-001:batchEmbedContents"
        );
        let body = serde_json::to_value(build(&req)).unwrap();
        assert_eq!(
            body,
            json!({"requests": [
                {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "a"}]}, "outputDimensionality": 768},
                {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": " b\n"}]}, "outputDimensionality": 768}
            ]})
        );
    }

    #[test]
    fn decodes_vectors_in_order() {
        let r = decode(
            ProviderId::Gemini,
            br#"{"embeddings":[{"values":[0.1,0.2]},{"values":[0.3]}]}"#,
        )
        .unwrap();
        assert_eq!(r.vectors, vec![vec![0.1, 0.2], vec![0.3]]);
        assert!(r.usage.is_empty());
        assert!(matches!(
            decode(ProviderId::Gemini, b"[1]"),
            Err(Error::Decode { .. })
        ));
    }
}
