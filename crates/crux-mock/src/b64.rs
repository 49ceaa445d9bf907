//! Wire-neutral validation of base64 payloads in requests (inline images and files), so a client
//! that sends a `data:` URL where raw base64 is expected fails like it would upstream.

/// Which base64 alphabet a wire decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Alphabet {
    /// Standard alphabet (`+`, `/`) with `=` padding, as Go's `encoding/json` decodes `[]byte`.
    Standard,
    /// Standard or URL-safe (`-`, `_`), padding optional, as protobuf JSON decodes `bytes`.
    Lenient,
}

/// Index of the first byte that makes `data` invalid base64 under `alphabet`, or `None` if it
/// decodes.
pub(crate) fn invalid_at(data: &str, alphabet: Alphabet) -> Option<usize> {
    let bytes = data.as_bytes();
    let body_len = bytes.iter().rposition(|b| *b != b'=').map_or(0, |i| i + 1);
    for (i, b) in bytes[..body_len].iter().enumerate() {
        let ok = b.is_ascii_alphanumeric()
            || match alphabet {
                Alphabet::Standard => matches!(b, b'+' | b'/'),
                Alphabet::Lenient => matches!(b, b'+' | b'/' | b'-' | b'_'),
            };
        if !ok {
            return Some(i);
        }
    }
    let padding = bytes.len() - body_len;
    let valid_len = match alphabet {
        Alphabet::Standard => bytes.len().is_multiple_of(4) && padding <= 2,
        Alphabet::Lenient => body_len % 4 != 1 && padding <= 2,
    };
    if valid_len { None } else { Some(body_len) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_and_locates_invalid() {
        assert_eq!(invalid_at("", Alphabet::Standard), None);
        assert_eq!(invalid_at("Zm9vYg==", Alphabet::Standard), None);
        assert_eq!(invalid_at("Zm9vYg", Alphabet::Standard), Some(6));
        assert_eq!(invalid_at("Zm9vYg", Alphabet::Lenient), None);
        assert_eq!(invalid_at("a-_b", Alphabet::Standard), Some(1));
        assert_eq!(invalid_at("a-_b", Alphabet::Lenient), None);
        assert_eq!(
            invalid_at("data:image/png;base64,AAAA", Alphabet::Standard),
            Some(4)
        );
    }
}
