//! What is fixed per provider for a client's whole life: the request headers (content type, accept, the auth value,
//! the configuration's own headers, the wire's and the attribution headers) and the parsed base URL, built once when
//! the client is built rather than on every request; and the HTTP client itself.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Url;
use secrecy::ExposeSecret;

use super::ProviderConfig;
use crate::error::{Error, Result as CruxResult};
use crate::providers::{AuthStyle, ProviderId, ProviderSpec};
use crate::wire;

/// The headers every request to `spec` carries with `cfg`, or why they cannot be built (said when the provider is
/// used, never at build time: a bad header on an unused provider must not stop the others).
pub(super) fn headers(spec: &ProviderSpec, cfg: &ProviderConfig) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::new();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        http::header::ACCEPT,
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    if let Some(key) = cfg
        .api_key
        .as_ref()
        .filter(|k| !k.expose_secret().trim().is_empty())
    {
        let key = key.expose_secret();
        let (name, value) = match spec.auth {
            AuthStyle::Bearer | AuthStyle::None => {
                (http::header::AUTHORIZATION, format!("Bearer {key}"))
            }
            AuthStyle::XApiKey => (HeaderName::from_static("x-api-key"), key.to_owned()),
            AuthStyle::GoogApiKey => (HeaderName::from_static("x-goog-api-key"), key.to_owned()),
            AuthStyle::ApiKey => (HeaderName::from_static("api-key"), key.to_owned()),
            // Signed per request over its body (`client::sigv4`), never a fixed header.
            AuthStyle::SigV4 => return extra_headers(spec, cfg, h),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            format!(
                "the API key for {} contains characters not allowed in an HTTP header",
                spec.id
            )
        })?;
        value.set_sensitive(true);
        h.insert(name, value);
    }
    extra_headers(spec, cfg, h)
}

/// `h` plus the configuration's own headers, the wire's and the attribution headers.
fn extra_headers(
    spec: &ProviderSpec,
    cfg: &ProviderConfig,
    mut h: HeaderMap,
) -> Result<HeaderMap, String> {
    let has = |name: &str| {
        cfg.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    let mut extra: Vec<(&str, &str)> = cfg
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    extra.extend(
        wire::wire_headers(spec.wire)
            .iter()
            .filter(|(k, _)| !has(k))
            .map(|(k, v)| (*k, *v)),
    );
    if spec.quirks.attribution_headers && !has("x-title") {
        extra.push(("HTTP-Referer", "https://github.com/crux-llm/crux"));
        extra.push(("X-Title", "Crux"));
    }
    for (k, v) in extra {
        insert(&mut h, k, v)?;
    }
    Ok(h)
}

/// Insert one header given as text (a later value for the same name replaces the earlier one).
pub(super) fn insert(h: &mut HeaderMap, name: &str, value: &str) -> Result<(), String> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("invalid header name '{name}'"))?;
    let v =
        HeaderValue::from_str(value).map_err(|_| format!("invalid value for header '{name}'"))?;
    h.insert(n, v);
    Ok(())
}

/// Per provider, the headers of every request (see [`headers`]).
pub(super) fn all_headers(providers: &[ProviderConfig]) -> Vec<Result<HeaderMap, String>> {
    ProviderId::all()
        .iter()
        .zip(providers)
        .map(|(id, cfg)| headers(id.spec(), cfg))
        .collect()
}

/// An HTTP client with the gateway's settings: keep-alive pool, `TCP_NODELAY`, the connect timeout.
pub(super) fn http_client(connect: Duration) -> CruxResult<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("crux/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
}

/// A provider's base URL parsed once (its host checked and normalized once, not per request); `None` when it has a
/// query or fragment or does not parse, so that [`url`] falls back to parsing the whole text.
pub(super) fn base((id, cfg): (&ProviderId, &ProviderConfig)) -> Option<Url> {
    let text = cfg
        .base_url
        .as_deref()
        .unwrap_or(id.spec().default_base_url);
    let url = Url::parse(text).ok()?;
    (url.query().is_none() && url.fragment().is_none() && !url.cannot_be_a_base()).then_some(url)
}

/// The URL of `path` (which may end in a query) under the base URL `text`, parsed as `base` once when given.
pub(super) fn url(base: Option<&Option<Url>>, text: &str, path: &str) -> Result<Url, String> {
    let Some(base) = base.and_then(Option::as_ref) else {
        return Url::parse(&format!("{}{path}", text.trim_end_matches('/')))
            .map_err(|e| e.to_string());
    };
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let mut url = base.clone();
    url.set_path(&format!("{}{path}", base.path().trim_end_matches('/')));
    url.set_query(query);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The URL built on the parsed base is the one parsing the whole text gives.
    #[test]
    fn urls_on_a_parsed_base_match_parsing_the_whole_text() {
        let bases = [
            "https://api.openai.com/v1",
            "https://api.openai.com/v1/",
            "http://127.0.0.1:9801/json/v1",
            "https://generativelanguage.googleapis.com",
            "https://bedrock-runtime.us-east-1.amazonaws.com",
            "http://[::1]:8080/prefix//",
            "https://xn--bcher-kva.example/v1",
            "https://BÜCHER.example/v1",
        ];
        let paths = [
            "",
            "/chat/completions",
            "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
            "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream",
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx/converse",
            "/openai/deployments/gpt%204o/chat/completions?api-version=2024-10-21",
            "/models?pageToken=a%2Fb&pageSize=1000",
        ];
        for text in bases {
            let base = Url::parse(text).unwrap();
            for path in paths {
                let whole = url(None, text, path).unwrap();
                let base = Some(base.clone());
                assert_eq!(
                    url(Some(&base), text, path).unwrap(),
                    whole,
                    "{text} + {path}"
                );
            }
        }
    }

    #[test]
    fn a_base_with_a_query_is_parsed_per_request() {
        let cfg = ProviderConfig {
            base_url: Some("https://h.example/v1?tenant=a".into()),
            ..ProviderConfig::default()
        };
        assert!(base((&ProviderId::OpenAi, &cfg)).is_none());
        assert!(base((&ProviderId::OpenAi, &ProviderConfig::default())).is_some());
    }
}
