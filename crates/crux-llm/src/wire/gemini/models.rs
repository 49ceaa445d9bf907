//! Gemini model listing: `GET /v1beta/models` pages (`models/` prefix stripped, `nextPageToken` followed).

use super::types::ModelList;
use crate::error::Result;
use crate::providers::ProviderId;
use crate::types::ModelInfo;
use crate::wire::parse_json;

/// Path of one page of the model list; `page` is the previous page's `nextPageToken`.
pub fn path(page: Option<&str>) -> String {
    match page {
        Some(token) => format!(
            "/v1beta/models?pageSize=1000&pageToken={}",
            percent_encode(token)
        ),
        None => "/v1beta/models?pageSize=1000".to_owned(),
    }
}

/// Decode one page: the models and the next page's token (`None` on the last page).
pub fn decode(p: ProviderId, body: &[u8]) -> Result<(Vec<ModelInfo>, Option<String>)> {
    let parsed: ModelList = parse_json(p, body)?;
    let models = parsed
        .models
        .into_iter()
        .map(|m| ModelInfo {
            provider: p.as_str().to_owned(),
            id: m.name.strip_prefix("models/").unwrap_or(&m.name).to_owned(),
            owned_by: m.display_name,
            context_length: m.input_token_limit,
        })
        .collect();
    Ok((models, parsed.next_page_token.filter(|t| !t.is_empty())))
}

/// Percent-encode everything but RFC 3986 unreserved characters (page tokens hold `+`, `/` and `=`).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_token_is_url_encoded() {
        assert_eq!(path(None), "/v1beta/models?pageSize=1000");
        assert_eq!(
            path(Some("Cg+a/b=")),
            "/v1beta/models?pageSize=1000&pageToken=Cg%2Ba%2Fb%3D"
        );
    }

    #[test]
    fn strips_prefix_and_reads_limits() {
        let (models, next) = decode(
            ProviderId::Gemini,
            br#"{"models":[{"name":"models/gemini-2.5-flash","displayName":"Gemini 2.5 Flash","inputTokenLimit":1048576,
            "supportedGenerationMethods":["generateContent"],"thinking":true}],"nextPageToken":""}"#,
        )
        .unwrap();
        assert_eq!(models[0].id, "gemini-2.5-flash");
        assert_eq!(models[0].provider, "gemini");
        assert_eq!(models[0].context_length, Some(1_048_576));
        assert_eq!(next, None);
    }
}
