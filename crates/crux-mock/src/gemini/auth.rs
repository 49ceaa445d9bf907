//! Gemini-style key authentication (`x-goog-api-key` or `?key=`) and query parameters.

use axum::http::{HeaderMap, Uri};

use crate::errors::{ErrorKind, MockError};
use crate::http::{BAD_KEY, header, percent_decode};

/// The first value of query parameter `name`, percent-decoded.
pub(crate) fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

pub(crate) fn gemini_error(status: u16, kind: ErrorKind, message: &str) -> MockError {
    MockError {
        status,
        kind,
        message: message.to_owned(),
        param: None,
        code: None,
        headers: Vec::new(),
    }
}

/// Requires an API key in `x-goog-api-key` (or the `key` query parameter, which the real API
/// also accepts): none → 403 (401 for a bare OAuth bearer), `bad-key` → 400 `API_KEY_INVALID`.
pub(crate) fn check_auth(headers: &HeaderMap, uri: &Uri) -> Result<(), MockError> {
    let key = header(headers, "x-goog-api-key")
        .map(str::trim)
        .map(str::to_owned)
        .filter(|k| !k.is_empty())
        .or_else(|| query_param(uri, "key").filter(|k| !k.is_empty()));
    match key.as_deref() {
        None if header(headers, "authorization").is_some() => Err(gemini_error(
            401,
            ErrorKind::Authentication,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login \
             cookie or other valid authentication credential. See \
             https://developers.google.com/identity/sign-in/web/devconsole-project.",
        )),
        None => Err(gemini_error(
            403,
            ErrorKind::Permission,
            "Method doesn't allow unregistered callers (callers without established identity). \
             Please use API Key or other form of API consumer identity to call this API.",
        )),
        Some(BAD_KEY) => Err(gemini_error(
            400,
            ErrorKind::Authentication,
            "API key not valid. Please pass a valid API key.",
        )),
        Some(_) => Ok(()),
    }
}
