//! AWS Signature Version 4 for Bedrock: every attempt is signed over its method, URL, headers and body (the
//! `aws-sigv4` crate), at the time it is sent. The provider's key is `ACCESS_KEY_ID:SECRET_ACCESS_KEY`, with
//! `:SESSION_TOKEN` appended for temporary credentials.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SigningSettings, sign as sign_request,
};
use aws_sigv4::sign::v4;
use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;

use super::Target;
use crate::error::{Error, Result};

/// The service name Bedrock Runtime signs for.
const SERVICE: &str = "bedrock";

/// `headers` plus the signature headers (`x-amz-date`, `authorization`, `x-amz-security-token`) for a call to
/// `target` with `body` (`None`: a GET).
pub(crate) fn sign(target: &Target, headers: &HeaderMap, body: Option<&[u8]>) -> Result<HeaderMap> {
    let spec = target.spec;
    let key = target
        .key
        .as_ref()
        .map(|k| k.expose_secret())
        .unwrap_or_default();
    let mut parts = key.trim().splitn(3, ':');
    let (Some(id), Some(secret)) = (parts.next(), parts.next()) else {
        return Err(Error::Config(format!(
            "the AWS credentials for {} must be ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN] \
             (or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
            spec.id
        )));
    };
    let token = parts.next().filter(|t| !t.is_empty()).map(str::to_owned);
    let identity = Credentials::new(id, secret, token, None, "crux").into();
    let region = spec.region.unwrap_or(crate::custom::DEFAULT_AWS_REGION);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| Error::Config(format!("{}: cannot sign the request: {e}", spec.id)))?
        .into();
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    let method = if body.is_some() { "POST" } else { "GET" };
    let failed = |e: &dyn std::fmt::Display| {
        Error::Config(format!("{}: cannot sign the request: {e}", spec.id))
    };
    let signable = SignableRequest::new(
        method,
        target.url.as_str(),
        pairs.into_iter(),
        SignableBody::Bytes(body.unwrap_or_default()),
    )
    .map_err(|e| failed(&e))?;
    let (instructions, _) = sign_request(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts();
    let mut out = headers.clone();
    for (name, value) in instructions.headers() {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| failed(&e))?;
        let mut value = HeaderValue::from_str(value).map_err(|e| failed(&e))?;
        value.set_sensitive(true);
        out.insert(name, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{AuthStyle, ProviderId, ProviderSpec, Wire};

    fn target(key: &str) -> Target {
        let spec: &'static ProviderSpec = Box::leak(Box::new(ProviderSpec {
            wire: Wire::Bedrock,
            auth: AuthStyle::SigV4,
            region: Some("eu-west-3"),
            ..*ProviderId::OpenAi.spec()
        }));
        Target {
            spec,
            url: "https://bedrock-runtime.eu-west-3.amazonaws.com/model/a.b-v1%3A0/converse"
                .parse()
                .unwrap(),
            key: Some(key.to_owned().into()),
            headers: HeaderMap::new(),
            timeouts: crate::client::Timeouts::default(),
        }
    }

    #[test]
    fn a_signed_request_names_its_scope_and_token() {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        let out =
            sign(&target("AKIDX:secret:tok"), &h, Some(b"{}")).unwrap_or_else(|e| panic!("{e}"));
        let auth = out["authorization"].to_str().unwrap_or_default();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDX/"),
            "{auth}"
        );
        assert!(auth.contains("/eu-west-3/bedrock/aws4_request"), "{auth}");
        assert!(
            auth.contains("content-type;host;x-amz-date;x-amz-security-token"),
            "{auth}"
        );
        assert_eq!(out["x-amz-security-token"], "tok");
        assert!(out["authorization"].is_sensitive());
        assert!(out.contains_key("x-amz-date"));
    }

    #[test]
    fn a_key_without_a_secret_says_what_is_expected() {
        let err = sign(&target("only-an-id"), &HeaderMap::new(), None).unwrap_err();
        assert!(
            err.to_string().contains("ACCESS_KEY_ID:SECRET_ACCESS_KEY"),
            "{err}"
        );
        assert!(!err.to_string().contains("only-an-id"));
    }
}
