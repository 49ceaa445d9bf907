//! What is fixed per provider for a client's whole life: the request headers (content type, accept, the auth value,
//! the configuration's own headers, the wire's and the attribution headers), built once when the client is built
//! rather than on every request.

use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;

use super::ProviderConfig;
use crate::providers::{AuthStyle, ProviderSpec};
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
