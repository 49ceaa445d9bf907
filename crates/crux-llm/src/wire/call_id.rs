//! Carrying a provider's tool-call signature (Gemini's `thoughtSignature`, required back on the next turn) through
//! dialects that have no field for it: the signature rides inside the call id the client echoes verbatim
//! (`<id>__ts_<base64url>`, in the characters every dialect accepts in ids), and is taken back out when the
//! conversation returns. Ids without the marker pass unchanged.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

const MARK: &str = "__ts_";

/// `id` carrying `signature`, when there is one.
pub fn attach(id: &str, signature: Option<&str>) -> String {
    match signature {
        Some(sig) if !sig.is_empty() => {
            // Gemini signatures are standard base64: re-encode so the id stays within `[A-Za-z0-9_-]`.
            let bytes = STANDARD
                .decode(sig)
                .unwrap_or_else(|_| sig.as_bytes().to_vec());
            format!("{id}{MARK}{}", URL_SAFE_NO_PAD.encode(bytes))
        }
        _ => id.to_owned(),
    }
}

/// The plain id and the signature an id carries.
pub fn detach(id: &str) -> (String, Option<String>) {
    match id.rsplit_once(MARK) {
        Some((plain, enc)) => match URL_SAFE_NO_PAD.decode(enc) {
            Ok(bytes) => (plain.to_owned(), Some(STANDARD.encode(bytes))),
            Err(_) => (id.to_owned(), None),
        },
        None => (id.to_owned(), None),
    }
}

/// The id with its signature removed (for a tool result's reference to its call).
pub fn plain(id: &str) -> String {
    detach(id).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_plain_ids() {
        let id = attach("call_1", Some("c2lnbmF0dXJlKys/Lw=="));
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "{id}"
        );
        assert_eq!(
            detach(&id),
            ("call_1".to_owned(), Some("c2lnbmF0dXJlKys/Lw==".to_owned()))
        );
        assert_eq!(detach("toolu_abc"), ("toolu_abc".to_owned(), None));
        assert_eq!(attach("x", None), "x");
        assert_eq!(plain(&id), "call_1");
    }
}
