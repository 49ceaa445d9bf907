//! Bedrock helpers for the integration tests: a SigV4 signer written from the AWS specification
//! (with `ring`, like a client would), signed `POST`s to the mock, and an AWS event-stream frame
//! decoder that checks both CRCs of every frame.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crux_mock::{AWS_SECRET_ACCESS_KEY, MockServer};
use ring::{digest, hmac};
use serde_json::{Value, json};

use super::{LIMIT, client, send};

/// The model of the Bedrock tests, as it travels in the path (percent-encoded once).
pub const MODEL_PATH: &str = "anthropic.claude-3-5-haiku-20241022-v1%3A0";

/// Region the tests sign for.
pub const REGION: &str = "us-east-1";

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The current time as `YYYYMMDDTHHMMSSZ`.
pub fn amz_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let days = i64::try_from(secs / 86_400).unwrap();
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let rem = secs % 86_400;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// What one signature covers.
pub struct Signing<'a> {
    /// Path as sent (percent-encoded once).
    pub path: &'a str,
    /// Headers to sign (lowercase names), besides `host` and `x-amz-date`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body the signature is computed over.
    pub body: &'a [u8],
    /// Secret access key.
    pub secret: &'a str,
    /// Access key id.
    pub access_key: &'a str,
    /// Service of the credential scope.
    pub service: &'a str,
    /// `x-amz-date`.
    pub amz_date: &'a str,
    /// `host`.
    pub host: &'a str,
}

/// The `Authorization` header value for `s` (method `POST`, no query).
pub fn authorization(s: &Signing<'_>) -> String {
    let mut headers: Vec<(String, String)> = s
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_lowercase(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    headers.push(("host".to_owned(), s.host.to_owned()));
    headers.push(("x-amz-date".to_owned(), s.amz_date.to_owned()));
    headers.sort();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let signed = signed.join(";");
    let mut uri = String::new();
    for b in s.path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(char::from(b));
        } else {
            let _ = write!(uri, "%{b:02X}");
        }
    }
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let body_hash = hex(digest::digest(&digest::SHA256, s.body).as_ref());
    let canonical = format!("POST\n{uri}\n\n{canonical_headers}\n{signed}\n{body_hash}");
    let date = &s.amz_date[..8];
    let scope = format!("{date}/{REGION}/{}/aws4_request", s.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        s.amz_date,
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let mut key = hmac::Key::new(hmac::HMAC_SHA256, format!("AWS4{}", s.secret).as_bytes());
    for part in [date, REGION, s.service, "aws4_request"] {
        key = hmac::Key::new(
            hmac::HMAC_SHA256,
            hmac::sign(&key, part.as_bytes()).as_ref(),
        );
    }
    let signature = hex(hmac::sign(&key, to_sign.as_bytes()).as_ref());
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        s.access_key
    )
}

/// POSTs raw `body` to `path` with exactly `headers` (plus content type).
pub async fn post_raw(
    server: &MockServer,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client()
        .post(format!("{}{path}", server.url()))
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req).await
}

/// POSTs `body` to `/model/{MODEL_PATH}/{action}` signed with the mock's secret, signing the
/// `extra` headers too (as AWS signers sign every header they send).
pub async fn bedrock_action(
    server: &MockServer,
    model: &str,
    action: &str,
    body: &Value,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let path = format!("/model/{model}/{action}");
    let raw = body.to_string().into_bytes();
    let host = server.addr().to_string();
    let date = amz_now();
    let mut signed = vec![("content-type", "application/json")];
    signed.extend_from_slice(extra);
    let auth = authorization(&Signing {
        path: &path,
        headers: &signed,
        body: &raw,
        secret: AWS_SECRET_ACCESS_KEY,
        access_key: "AKIDMOCK",
        service: "bedrock",
        amz_date: &date,
        host: &host,
    });
    let mut headers = vec![("x-amz-date", date.as_str()), ("authorization", &auth)];
    headers.extend_from_slice(extra);
    post_raw(server, &path, raw, &headers).await
}

/// A signed `/converse` call for the test model.
pub async fn converse(
    server: &MockServer,
    body: &Value,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    bedrock_action(server, MODEL_PATH, "converse", body, extra).await
}

/// A signed `/converse-stream` call for the test model.
pub async fn converse_stream(
    server: &MockServer,
    body: &Value,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    bedrock_action(server, MODEL_PATH, "converse-stream", body, extra).await
}

/// A Converse body with one user text turn.
pub fn converse_user(text: &str) -> Value {
    json!({"messages": [{"role": "user", "content": [{"text": text}]}]})
}

/// The `x-amzn-ErrorType` name (before the `:namespace`).
pub fn error_type(resp: &reqwest::Response) -> String {
    let v = resp.headers()["x-amzn-errortype"].to_str().unwrap();
    let (name, namespace) = v.split_once(':').unwrap();
    assert!(
        namespace.starts_with("http://internal.amazon.com/coral/"),
        "{v}"
    );
    name.to_owned()
}

/// One decoded event-stream message.
#[derive(Debug)]
pub struct Frame {
    /// String headers in order.
    pub headers: Vec<(String, String)>,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Frame {
    /// Value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `:event-type` (or `:exception-type`).
    pub fn kind(&self) -> &str {
        self.header(":event-type")
            .or_else(|| self.header(":exception-type"))
            .unwrap()
    }

    /// The payload as JSON (panics when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.payload).unwrap()
    }
}

/// Decodes every complete frame of `bytes`, asserting lengths, both CRCs and string headers; a
/// trailing partial frame (a cut stream) is ignored.
pub fn decode_frames(mut bytes: &[u8]) -> Vec<Frame> {
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let mut frames = Vec::new();
    while bytes.len() >= 16 {
        let total = be32(&bytes[0..4]);
        if bytes.len() < total {
            break;
        }
        let headers_len = be32(&bytes[4..8]);
        assert_eq!(
            be32(&bytes[8..12]) as u32,
            crc32fast::hash(&bytes[..8]),
            "prelude CRC"
        );
        assert_eq!(
            be32(&bytes[total - 4..total]) as u32,
            crc32fast::hash(&bytes[..total - 4]),
            "message CRC"
        );
        let mut h = &bytes[12..12 + headers_len];
        let mut headers = Vec::new();
        while !h.is_empty() {
            let n = usize::from(h[0]);
            let name = String::from_utf8(h[1..=n].to_vec()).unwrap();
            assert_eq!(h[n + 1], 7, "string header");
            let len = usize::from(u16::from_be_bytes([h[n + 2], h[n + 3]]));
            headers.push((
                name,
                String::from_utf8(h[n + 4..n + 4 + len].to_vec()).unwrap(),
            ));
            h = &h[n + 4 + len..];
        }
        frames.push(Frame {
            headers,
            payload: bytes[12 + headers_len..total - 4].to_vec(),
        });
        bytes = &bytes[total..];
    }
    frames
}

/// Reads a whole event-stream body (within the test limit) and decodes it; also whether it ended
/// with a transport error.
pub async fn read_frames(resp: reqwest::Response) -> (Vec<Frame>, bool) {
    let raw = super::read_raw_within(resp, LIMIT).await;
    (decode_frames(&raw.bytes), raw.error)
}
