//! Strings read from a stream frame without a copy where they need no unescaping (for the decoders' own read types).

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};

/// An optional string, borrowed when it has no escapes (serde's `Cow` alone always copies inside an `Option`). Use it
/// as `#[serde(default, borrow, deserialize_with = "crate::wire::borrowed::opt_text")]`.
pub(crate) fn opt_text<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Text<'a>>::deserialize(d)?.map(|t| t.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T<'a> {
        #[serde(default, borrow, deserialize_with = "opt_text")]
        s: Option<Cow<'a, str>>,
    }

    #[test]
    fn plain_text_is_borrowed_and_escaped_text_is_unescaped() {
        let plain: T<'_> = serde_json::from_str(r#"{"s":"abc"}"#).unwrap();
        assert!(matches!(plain.s, Some(Cow::Borrowed("abc"))));
        let escaped: T<'_> = serde_json::from_str(r#"{"s":"a\"b\n"}"#).unwrap();
        assert_eq!(escaped.s.as_deref(), Some("a\"b\n"));
        let null: T<'_> = serde_json::from_str(r#"{"s":null}"#).unwrap();
        assert!(null.s.is_none());
        let missing: T<'_> = serde_json::from_str("{}").unwrap();
        assert!(missing.s.is_none());
    }
}
