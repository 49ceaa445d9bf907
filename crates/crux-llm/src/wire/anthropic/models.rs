//! Anthropic model listing (`GET /v1/models`, paginated with `after_id` / `has_more`).

use serde::Deserialize;

use crate::error::Result;
use crate::providers::ProviderId;
use crate::types::ModelInfo;
use crate::wire::parse_json;

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    data: Vec<Entry>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    last_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
}

/// Path of one page.
pub fn path(after_id: Option<&str>) -> String {
    match after_id {
        Some(id) => format!("/v1/models?limit=1000&after_id={}", encode_query(id)),
        None => "/v1/models?limit=1000".to_owned(),
    }
}

/// Percent-encode a query value (unreserved characters kept).
pub(crate) fn encode_query(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Decode one page: models and the next page's `after_id`.
pub fn decode(provider: ProviderId, body: &[u8]) -> Result<(Vec<ModelInfo>, Option<String>)> {
    let page: Page = parse_json(provider, body)?;
    let next = if page.has_more {
        page.last_id
            .or_else(|| page.data.last().map(|m| m.id.clone()))
    } else {
        None
    };
    let models = page
        .data
        .into_iter()
        .map(|m| ModelInfo {
            provider: provider.as_str().to_owned(),
            id: m.id,
            owned_by: m.display_name,
            context_length: None,
        })
        .collect();
    Ok((models, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination() {
        let (models, next) = decode(
            ProviderId::Anthropic,
            br#"{"data":[{"type":"model","id":"claude-a","display_name":"A"},{"id":"claude-b"}],"has_more":true,"first_id":"claude-a","last_id":"claude-b"}"#,
        )
        .unwrap();
        assert_eq!(models.len(), 2);
        assert_eq!(next.as_deref(), Some("claude-b"));
        assert_eq!(path(Some("a b")), "/v1/models?limit=1000&after_id=a%20b");
    }
}
