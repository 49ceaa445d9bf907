//! Bedrock authentication, checked before anything else like the real service: AWS Signature
//! Version 4 (`Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` plus
//! `x-amz-date`), verified for real with `ring` against the secret [`crate::AWS_SECRET_ACCESS_KEY`]
//! (any access key id but `bad-key`), or a Bedrock API key (`Authorization: Bearer …`). Failures
//! answer 403 with the AWS front end's exception names and wording.

use ring::hmac;

use super::canonical::{
    ALGORITHM, Request, TERMINATOR, canonical_request, sha256_hex, signing_key, string_to_sign,
    unhex,
};
use super::render::exception;
use crate::AWS_SECRET_ACCESS_KEY;
use crate::clock;
use crate::errors::MockError;
use crate::http::{BAD_KEY, header, unix_now};

/// Service name the credential scope must carry.
const SERVICE: &str = "bedrock";
/// Largest accepted distance between `x-amz-date` and the server clock, in seconds.
const MAX_SKEW_SECS: u64 = 300;

/// The signature-mismatch sentence of the AWS front end.
const MISMATCH: &str = "The request signature we calculated does not match the signature you \
                        provided. Check your AWS Secret Access Key and signing method. Consult \
                        the service documentation for details.";

/// A 403 named `name`.
fn forbidden(name: &'static str, message: impl Into<String>) -> MockError {
    exception(403, name, message)
}

/// 403 `InvalidSignatureException`.
fn invalid_signature(message: impl Into<String>) -> MockError {
    forbidden("InvalidSignatureException", message)
}

/// 403 `IncompleteSignatureException` (a malformed or incomplete authorization header).
fn incomplete(message: impl Into<String>) -> MockError {
    forbidden("IncompleteSignatureException", message)
}

/// 403 `UnrecognizedClientException` (unknown access key or API key).
fn unrecognized(message: &str) -> MockError {
    forbidden("UnrecognizedClientException", message)
}

/// The fields of an `AWS4-HMAC-SHA256` authorization header.
struct Authorization<'a> {
    /// `Credential=`: `AKID/date/region/service/aws4_request`.
    credential: &'a str,
    /// `SignedHeaders=`, split on `;`.
    signed_headers: Vec<&'a str>,
    /// `Signature=` (hex).
    signature: &'a str,
}

/// Splits the parameters of a SigV4 authorization header, naming every missing one the way AWS
/// does.
fn parse_authorization<'a>(
    params: &'a str,
    has_date: bool,
) -> Result<Authorization<'a>, MockError> {
    let get = |key: &str| {
        params
            .split(',')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.trim())
    };
    let (credential, signed, signature) =
        (get("Credential"), get("SignedHeaders"), get("Signature"));
    let mut missing = Vec::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed),
    ] {
        if value.is_none_or(str::is_empty) {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    if !has_date {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .to_owned(),
        );
    }
    match (credential, signed, signature) {
        (Some(credential), Some(signed), Some(signature)) if missing.is_empty() => {
            Ok(Authorization {
                credential,
                signed_headers: signed.split(';').collect(),
                signature,
            })
        }
        _ => Err(incomplete(missing.join(" "))),
    }
}

/// A Bedrock API key: any token but `bad-key` (or an empty one).
fn check_bearer(token: &str) -> Result<(), MockError> {
    match token.trim() {
        "" | BAD_KEY => Err(unrecognized(
            "Invalid API Key format: Must start with pre-defined prefix",
        )),
        _ => Ok(()),
    }
}

/// Rejects an `x-amz-date` more than five minutes away from the server clock.
fn check_skew(amz_date: &str, signed_at: u64) -> Result<(), MockError> {
    let now = unix_now();
    if signed_at + MAX_SKEW_SECS < now {
        return Err(invalid_signature(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 5 min.)",
            clock::amz_date(now - MAX_SKEW_SECS),
            clock::amz_date(now)
        )));
    }
    if signed_at > now + MAX_SKEW_SECS {
        return Err(invalid_signature(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 5 min.)",
            clock::amz_date(now + MAX_SKEW_SECS),
            clock::amz_date(now)
        )));
    }
    Ok(())
}

/// Authenticates a Bedrock request: a Bedrock API key, or a SigV4 signature over `req` verified
/// with [`AWS_SECRET_ACCESS_KEY`] for credential scope `…/bedrock/aws4_request`.
pub(crate) fn check(req: &Request<'_>) -> Result<(), MockError> {
    let Some(value) = header(req.headers, "authorization").map(str::trim) else {
        return Err(forbidden(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    if let Some((scheme, token)) = value.split_once(' ')
        && scheme.eq_ignore_ascii_case("bearer")
    {
        return check_bearer(token);
    }
    let amz_date = header(req.headers, "x-amz-date").map(str::trim);
    let params = match value.split_once(' ') {
        Some((ALGORITHM, params)) => params,
        _ => "",
    };
    let auth = parse_authorization(params, amz_date.is_some())?;
    let amz_date = amz_date.unwrap_or_default();
    let scope: Vec<&str> = auth.credential.split('/').collect();
    let [access_key, date, region, service, terminator] = scope[..] else {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{}'",
            auth.credential
        )));
    };
    if access_key == BAD_KEY || access_key.is_empty() {
        return Err(unrecognized(
            "The security token included in the request is invalid.",
        ));
    }
    if region.is_empty() {
        return Err(invalid_signature(
            "Credential should be scoped to a valid region.",
        ));
    }
    if service != SERVICE {
        return Err(invalid_signature(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    if terminator != TERMINATOR {
        return Err(invalid_signature(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not \
             '{terminator}'."
        )));
    }
    let Some(signed_at) = clock::parse_amz_date(amz_date) else {
        return Err(incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See \
             http://en.wikipedia.org/wiki/ISO_8601"
        )));
    };
    if !amz_date.starts_with(date) || date.len() != 8 {
        return Err(invalid_signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '{date}' != '{}', from '{amz_date}'.",
            &amz_date[..8]
        )));
    }
    check_skew(amz_date, signed_at)?;
    let signed_lower: Vec<String> = auth
        .signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for (name, shown) in [
        ("host", "'Host' or ':authority'"),
        ("x-amz-security-token", "'X-Amz-Security-Token'"),
    ] {
        let required = name == "host" || req.headers.contains_key(name);
        if required && !signed_lower.iter().any(|h| h == name) {
            return Err(invalid_signature(format!(
                "{shown} must be a 'SignedHeader' in the AWS Authorization."
            )));
        }
    }
    let body_hash = sha256_hex(req.body);
    let payload_hash = match header(req.headers, "x-amz-content-sha256") {
        Some(claimed) if claimed != body_hash => {
            return Err(invalid_signature(
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ));
        }
        _ => body_hash,
    };
    let canonical = canonical_request(req, &auth.signed_headers, &payload_hash);
    let to_sign = string_to_sign(amz_date, &scope[1..].join("/"), &canonical);
    let key = signing_key(AWS_SECRET_ACCESS_KEY, date, region, service);
    let valid = unhex(auth.signature)
        .is_some_and(|sig| hmac::verify(&key, to_sign.as_bytes(), &sig).is_ok());
    if valid {
        Ok(())
    } else {
        Err(invalid_signature(format!(
            "{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n\
             The String-to-Sign should have been\n'{to_sign}'\n"
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use axum::http::{HeaderMap, Uri};

    use super::super::canonical::signature;
    use super::super::canonical::tests::headers;
    use super::*;

    /// A Bedrock request signed now with `secret`.
    fn bedrock(secret: &str, body: &[u8]) -> (Uri, HeaderMap) {
        let uri: Uri = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
            .parse()
            .unwrap();
        let date = clock::amz_date(unix_now());
        let mut map = headers(&[
            ("host", "127.0.0.1:1"),
            ("content-type", "application/json"),
            ("x-amz-date", &date),
        ]);
        let signed = ["content-type", "host", "x-amz-date"];
        let req = Request {
            method: "POST",
            uri: &uri,
            headers: &map,
            body,
        };
        let canonical = canonical_request(&req, &signed, &sha256_hex(body));
        let scope = format!("{}/us-east-1/bedrock/aws4_request", &date[..8]);
        let key = signing_key(secret, &date[..8], "us-east-1", "bedrock");
        let sig = signature(&key, &string_to_sign(&date, &scope, &canonical));
        let auth = format!(
            "{ALGORITHM} Credential=AKID/{scope}, SignedHeaders={}, Signature={sig}",
            signed.join(";")
        );
        map.insert("authorization", auth.parse().unwrap());
        (uri, map)
    }

    fn verify(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<(), MockError> {
        check(&Request {
            method: "POST",
            uri,
            headers,
            body,
        })
    }

    fn code(result: Result<(), MockError>) -> &'static str {
        result.unwrap_err().code.unwrap()
    }

    #[test]
    fn accepts_signed_and_rejects_tampering() {
        let body = br#"{"messages":[]}"#;
        let (uri, headers) = bedrock(AWS_SECRET_ACCESS_KEY, body);
        verify(&uri, &headers, body).unwrap();
        assert_eq!(
            code(verify(&uri, &headers, br#"{"messages":[1]}"#)),
            "InvalidSignatureException"
        );
        let (uri, wrong) = bedrock("other-secret", body);
        let err = verify(&uri, &wrong, body).unwrap_err();
        assert_eq!(err.status, 403);
        assert!(err.message.starts_with(MISMATCH), "{}", err.message);
        let mut missing = headers.clone();
        missing.remove("content-type");
        assert_eq!(
            code(verify(&uri, &missing, body)),
            "InvalidSignatureException"
        );
        let mut no_date = headers.clone();
        no_date.remove("x-amz-date");
        assert_eq!(
            code(verify(&uri, &no_date, body)),
            "IncompleteSignatureException"
        );
        assert_eq!(
            code(verify(&uri, &HeaderMap::new(), body)),
            "MissingAuthenticationTokenException"
        );
    }

    #[test]
    fn scope_date_and_keys() {
        let body = b"{}";
        let (uri, headers) = bedrock(AWS_SECRET_ACCESS_KEY, body);
        let auth = header(&headers, "authorization").unwrap().to_owned();
        let with = |auth: &str| {
            let mut h = headers.clone();
            h.insert("authorization", auth.parse().unwrap());
            verify(&uri, &h, body)
        };
        assert_eq!(
            code(with(&auth.replace("AKID/", "bad-key/"))),
            "UnrecognizedClientException"
        );
        let err = with(&auth.replace("/bedrock/", "/s3/")).unwrap_err();
        assert!(
            err.message.contains("correct service: 'bedrock'"),
            "{}",
            err.message
        );
        assert_eq!(
            code(with(&auth.replace("Credential=AKID/", "Credential="))),
            "IncompleteSignatureException"
        );
        let mut old = headers.clone();
        old.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let stale = auth.replace(
            &format!("AKID/{}", &clock::amz_date(unix_now())[..8]),
            "AKID/20150830",
        );
        old.insert("authorization", stale.parse().unwrap());
        let err = verify(&uri, &old, body).unwrap_err();
        assert!(
            err.message
                .starts_with("Signature expired: 20150830T123600Z is now earlier than"),
            "{}",
            err.message
        );
        let bearer = |token: &str| {
            let mut h = HeaderMap::new();
            h.insert("authorization", format!("Bearer {token}").parse().unwrap());
            verify(&uri, &h, body)
        };
        bearer("ABSKbW9jaw==").unwrap();
        assert_eq!(code(bearer(BAD_KEY)), "UnrecognizedClientException");
        let mut unsigned_token = headers.clone();
        unsigned_token.insert("x-amz-security-token", "tok".parse().unwrap());
        assert!(
            verify(&uri, &unsigned_token, body)
                .unwrap_err()
                .message
                .contains("X-Amz-Security-Token")
        );
    }
}
