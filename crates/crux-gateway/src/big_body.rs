//! Work on a request body that grows with its size — JSON parsing, the text a chat log keeps — kept from starving
//! the async workers and from copying a 30 MB prompt into every log row.

/// Bodies at least this large are parsed with [`tokio::task::block_in_place`], so `/health` and other requests on
/// the same worker keep being served while a huge prompt is parsed.
const BLOCKING_PARSE_BYTES: usize = 1 << 20;

/// Most bytes of request text a chat log keeps; the rest is replaced by a note of how much was left out.
pub const LOGGED_TEXT_BYTES: usize = 64 * 1024;

/// Parse a JSON body, off the async worker when it is large (and the runtime has other workers to take over).
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if body.len() >= BLOCKING_PARSE_BYTES && multi {
        tokio::task::block_in_place(|| serde_json::from_slice(body))
    } else {
        serde_json::from_slice(body)
    }
}

/// `text` cut to at most [`LOGGED_TEXT_BYTES`] (on a character boundary) for a chat log.
pub(crate) fn logged(mut text: String) -> String {
    if text.len() <= LOGGED_TEXT_BYTES {
        return text;
    }
    let mut end = LOGGED_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let left_out = text.len() - end;
    text.truncate(end);
    text.push_str(&format!(" … [{left_out} more bytes not logged]"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_text_is_bounded_on_a_char_boundary() {
        assert_eq!(logged("short".into()), "short");
        let long = "é".repeat(LOGGED_TEXT_BYTES);
        let cut = logged(long);
        assert!(cut.len() < LOGGED_TEXT_BYTES + 64, "{}", cut.len());
        assert!(cut.ends_with("more bytes not logged]"));
        let parsed: serde_json::Value = from_json(b"{\"a\":1}").unwrap();
        assert_eq!(parsed["a"], 1);
    }
}
