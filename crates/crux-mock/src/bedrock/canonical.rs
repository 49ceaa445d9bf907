//! SigV4 arithmetic, independent of any AWS crate: the canonical request (method, the path
//! percent-encoded a second time as every service but S3 expects, the sorted canonical query,
//! the signed headers' trimmed values, the payload hash), the string to sign, and the HMAC-SHA256
//! signing-key chain, with `ring`.

use std::fmt::Write as _;

use axum::http::{HeaderMap, Uri};
use ring::{digest, hmac};

use crate::http::percent_decode;

/// The only signing algorithm accepted.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Last element of the credential scope.
pub(crate) const TERMINATOR: &str = "aws4_request";

/// The parts of an HTTP request that SigV4 covers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request<'a> {
    /// HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The URI as received (path still percent-encoded once).
    pub uri: &'a Uri,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The request body.
    pub body: &'a [u8],
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Decodes lowercase or uppercase hex; `None` if `s` is not hex.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

/// SigV4 URI encoding: every byte but `A-Za-z0-9-._~` (and `/` when `keep_slash`) as `%XX`.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The canonical query string: each name and value decoded, then URI-encoded, sorted.
fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A header's canonical value: every value of the header trimmed, inner runs of spaces
/// collapsed, joined with commas (empty when the header is absent).
fn canonical_header_value(headers: &HeaderMap, name: &str) -> String {
    headers
        .get_all(name)
        .iter()
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The canonical request of `req` for the (lowercase) `signed` headers and `payload_hash`. The
/// canonical URI is the received path percent-encoded again, as every service but S3 expects.
pub(crate) fn canonical_request(req: &Request<'_>, signed: &[&str], payload_hash: &str) -> String {
    let path = match req.uri.path() {
        "" => "/",
        p => p,
    };
    let mut out = format!(
        "{}\n{}\n{}\n",
        req.method,
        uri_encode(path, true),
        canonical_query(req.uri.query())
    );
    for name in signed {
        let _ = writeln!(out, "{name}:{}", canonical_header_value(req.headers, name));
    }
    let _ = write!(out, "\n{}\n{payload_hash}", signed.join(";"));
    out
}

/// The string to sign for `canonical` under credential `scope` (`date/region/service/aws4_request`).
pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    )
}

/// The signing key: the HMAC-SHA256 chain `"AWS4"+secret` → date → region → service →
/// `aws4_request`.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    [date, region, service, TERMINATOR].iter().fold(
        hmac::Key::new(hmac::HMAC_SHA256, format!("AWS4{secret}").as_bytes()),
        |key, part| {
            hmac::Key::new(
                hmac::HMAC_SHA256,
                hmac::sign(&key, part.as_bytes()).as_ref(),
            )
        },
    )
}

/// Hex signature of `string_to_sign` under `key` (what a client sends).
#[cfg(test)]
pub(crate) fn signature(key: &hmac::Key, string_to_sign: &str) -> String {
    hex(hmac::sign(key, string_to_sign.as_bytes()).as_ref())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use super::*;

    /// AWS SigV4 test suite credentials (`aws-sig-v4-test-suite`).
    const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_DATE: &str = "20150830T123600Z";
    const SUITE_SCOPE: &str = "20150830/us-east-1/service/aws4_request";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// A header map with `pairs` appended in order.
    pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    /// Signs like the test suite does (service `service`, region `us-east-1`).
    fn suite_signature(
        method: &str,
        uri: &str,
        extra: &[(&str, &str)],
        signed: &[&str],
    ) -> (String, String) {
        let uri: Uri = uri.parse().unwrap();
        let mut pairs = vec![
            ("host", "example.amazonaws.com"),
            ("x-amz-date", SUITE_DATE),
        ];
        pairs.extend_from_slice(extra);
        let headers = headers(&pairs);
        let req = Request {
            method,
            uri: &uri,
            headers: &headers,
            body: b"",
        };
        let canonical = canonical_request(&req, signed, EMPTY_SHA256);
        let to_sign = string_to_sign(SUITE_DATE, SUITE_SCOPE, &canonical);
        let key = signing_key(SUITE_SECRET, "20150830", "us-east-1", "service");
        (canonical, signature(&key, &to_sign))
    }

    #[test]
    fn aws_test_suite_vectors() {
        // get-vanilla
        let (canonical, sig) = suite_signature("GET", "/", &[], &["host", "x-amz-date"]);
        assert_eq!(
            canonical,
            format!(
                "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:{SUITE_DATE}\n\nhost;x-amz-date\n{EMPTY_SHA256}"
            )
        );
        assert_eq!(
            string_to_sign(SUITE_DATE, SUITE_SCOPE, &canonical),
            format!(
                "AWS4-HMAC-SHA256\n{SUITE_DATE}\n{SUITE_SCOPE}\n\
                 bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
            )
        );
        assert_eq!(
            sig,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        // get-vanilla-query-order-encoded
        let (canonical, sig) = suite_signature(
            "GET",
            "/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
            &[],
            &["host", "x-amz-date"],
        );
        assert!(canonical.contains("\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\n"));
        assert_eq!(
            sig,
            "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"
        );
        // get-header-value-trim
        let (_, sig) = suite_signature(
            "GET",
            "/",
            &[("my-header1", " value1"), ("my-header2", "\"a   b   c\"")],
            &["host", "my-header1", "my-header2", "x-amz-date"],
        );
        assert_eq!(
            sig,
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
        );
        // get-header-key-duplicate
        let (_, sig) = suite_signature(
            "GET",
            "/",
            &[
                ("my-header1", "value2"),
                ("my-header1", "value2"),
                ("my-header1", "value1"),
            ],
            &["host", "my-header1", "x-amz-date"],
        );
        assert_eq!(
            sig,
            "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"
        );
        // get-vanilla-with-session-token
        let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
        let (_, sig) = suite_signature(
            "GET",
            "/",
            &[("x-amz-security-token", token)],
            &["host", "x-amz-date", "x-amz-security-token"],
        );
        assert_eq!(
            sig,
            "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
        );
        // post-vanilla-query
        let (_, sig) = suite_signature("POST", "/?Param1=value1", &[], &["host", "x-amz-date"]);
        assert_eq!(
            sig,
            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"
        );
    }

    #[test]
    fn path_is_encoded_twice() {
        // double-url-encode (canonical request of the suite).
        let (canonical, _) = suite_signature(
            "POST",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-west-2%3A892717189312%3Afunction%3Amy-rusty-fun/invocations",
            &[],
            &["host", "x-amz-date"],
        );
        assert!(canonical.starts_with(
            "POST\n/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-west-2%253A892717189312%253Afunction%253Amy-rusty-fun/invocations\n\n"
        ));
        assert_eq!(
            uri_encode(
                "/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse",
                true
            ),
            "/model/us.anthropic.claude-3-5-haiku-20241022-v1%253A0/converse"
        );
    }

    /// Signatures produced by `aws-sigv4` 1.6.6 (default settings: double path encoding) for two
    /// Bedrock requests at `20250101T000000Z` with the mock's secret, one with a session token.
    #[test]
    fn matches_aws_sigv4_for_bedrock_requests() {
        let body = br#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#;
        let date = "20250101T000000Z";
        let scope = "20250101/us-east-1/bedrock/aws4_request";
        let key = signing_key(
            crate::AWS_SECRET_ACCESS_KEY,
            "20250101",
            "us-east-1",
            "bedrock",
        );
        let cases = [
            (
                "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse",
                None,
                "9d59b9ac16e8fb4fac8549f4f8eb09b83b032840b9958a7024308d496fd50a8b",
            ),
            (
                "/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream",
                Some("session-token-xyz"),
                "8bda94267880691bbe9cb37a73d7a6a5a988a01f450ad60bb49130b90f6319f1",
            ),
        ];
        for (path, token, expected) in cases {
            let uri: Uri = path.parse().unwrap();
            let mut pairs = vec![
                ("content-type", "application/json"),
                ("host", "127.0.0.1:4000"),
                ("x-amz-date", date),
            ];
            pairs.extend(token.map(|t| ("x-amz-security-token", t)));
            let headers = headers(&pairs);
            let signed: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
            let req = Request {
                method: "POST",
                uri: &uri,
                headers: &headers,
                body,
            };
            let canonical = canonical_request(&req, &signed, &sha256_hex(body));
            let sig = signature(&key, &string_to_sign(date, scope, &canonical));
            assert_eq!(sig, expected, "{path}");
        }
    }
}
