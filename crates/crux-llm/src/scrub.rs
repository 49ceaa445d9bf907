//! Removes secrets (the caller's key and API-key-like tokens) from text that may reach logs or clients.

/// Key prefixes used by the providers Crux talks to.
const KEY_PREFIXES: [&str; 6] = ["sk-", "sk_", "gsk_", "xai-", "AIza", "pk-"];

/// Shortest token treated as a key when it carries a known prefix.
const MIN_PREFIXED_LEN: usize = 16;

/// Shortest opaque token (letters and digits mixed, no prefix) treated as a key.
const MIN_OPAQUE_LEN: usize = 32;

/// Replace every occurrence of `known` secrets and every API-key-like token in `text` with `[REDACTED]`.
pub fn scrub(text: &str, known: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in known.iter().filter(|s| s.len() >= 4) {
        if out.contains(secret) {
            out = out.replace(secret, "[REDACTED]");
        }
    }
    scrub_tokens(&out)
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn looks_like_key(token: &str) -> bool {
    if KEY_PREFIXES.iter().any(|p| token.starts_with(p)) && token.len() >= MIN_PREFIXED_LEN {
        return true;
    }
    token.len() >= MIN_OPAQUE_LEN
        && token.chars().any(|c| c.is_ascii_digit())
        && token.chars().any(|c| c.is_ascii_alphabetic())
}

fn scrub_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut after_bearer = false;
    while !rest.is_empty() {
        let start = rest.find(is_token_char).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let token = &rest[..end];
        if token.is_empty() {
            break;
        }
        if looks_like_key(token) || (after_bearer && token.len() >= 8) {
            out.push_str("[REDACTED]");
        } else {
            out.push_str(token);
        }
        after_bearer = token.eq_ignore_ascii_case("bearer");
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_known_key_and_key_like_tokens() {
        let s = scrub(
            "Incorrect API key provided: sk-proj-abcdefghijklmnop1234. Header: Bearer abcdefgh12345",
            &["mysecret-value"],
        );
        assert!(!s.contains("sk-proj"), "{s}");
        assert!(!s.contains("abcdefgh12345"), "{s}");
        assert!(s.contains("Incorrect API key provided"));
        let s = scrub("key mysecret-value leaked", &["mysecret-value"]);
        assert_eq!(s, "key [REDACTED] leaked");
    }

    #[test]
    fn keeps_ordinary_text() {
        let text = "The model `gpt-4o-mini` does not exist or you do not have access to it.";
        assert_eq!(scrub(text, &[]), text);
        let gemini = "API key not valid. Please pass a valid API key. AIzaSyA1234567890abcdefghij";
        assert!(!scrub(gemini, &[]).contains("AIzaSy"));
    }
}
