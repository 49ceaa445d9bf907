//! Token counting: tiktoken's BPE for OpenAI-family models (loaded once, lazily), a documented estimate for others.
//!
//! OpenAI-family ids (matched on the last `/` segment, so `openrouter/openai/gpt-4o` and `groq/openai/gpt-oss-20b`
//! count too): `gpt-4o`, `chatgpt-4o`, `gpt-4.1`, `gpt-4.5`, `gpt-5`, `o1`, `o3`, `o4`, `gpt-oss` and `codex-` use
//! `o200k_base`; older `gpt-4`, `gpt-3.5` and the `text-embedding-*` models use `cl100k_base`.
//!
//! **Estimate** for every other model (their tokenizers are not public or not shipped): one token per 4 bytes of
//! UTF-8, rounded up. That is close for English prose and code and deliberately generous for non-Latin scripts
//! (a 3-byte CJK character counts ¾ token where real tokenizers use about 1), so treat guard limits as approximate.
//!
//! Message framing follows OpenAI's published accounting and is applied to every model: 3 tokens per message plus
//! 1 for the role, 1 more plus the name's tokens when a name is set, 3 to prime the reply; each tool call adds its
//! name, arguments and 3 tokens; an image counts 85 tokens at `detail: low` and 765 otherwise (a 1024×1024
//! high-detail image).

use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

use crate::types::{Message, Part};

/// Tokens that frame every message (`<|start|>`, role, `<|end|>` and the role name).
pub const MESSAGE_OVERHEAD: u64 = 4;
/// Tokens that prime the assistant's reply, once per request.
pub const REPLY_PRIMING: u64 = 3;
/// Extra tokens per tool call (framing around name and arguments).
pub const TOOL_CALL_OVERHEAD: u64 = 3;
/// An image at `detail: low`.
pub const IMAGE_LOW_DETAIL: u64 = 85;
/// An image at any other detail (a 1024×1024 image in high detail: 4 tiles × 170 + 85).
pub const IMAGE_HIGH_DETAIL: u64 = 765;

/// How text is turned into tokens for a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokenizer {
    /// tiktoken `o200k_base` (gpt-4o, gpt-4.1, gpt-5, o-series, gpt-oss).
    O200kBase,
    /// tiktoken `cl100k_base` (gpt-4, gpt-3.5, text-embedding-*).
    Cl100kBase,
    /// ⌈UTF-8 bytes ÷ 4⌉ (every other model).
    Estimate,
}

const O200K_FAMILIES: &[&str] = &[
    "gpt-4o",
    "chatgpt-4o",
    "gpt-4.1",
    "gpt-4.5",
    "gpt-5",
    "o1",
    "o3",
    "o4",
    "gpt-oss",
    "codex-",
];
const CL100K_FAMILIES: &[&str] = &["gpt-4", "gpt-3.5", "gpt-35", "text-embedding-"];

/// The longest ordinary token of `o200k_base`, in bytes (checked against the table by a test).
const O200K_MAX_TOKEN_BYTES: usize = 128;
/// The longest ordinary token of `cl100k_base`, in bytes (checked against the table by a test).
const CL100K_MAX_TOKEN_BYTES: usize = 128;

static O200K: OnceLock<Option<CoreBPE>> = OnceLock::new();
static CL100K: OnceLock<Option<CoreBPE>> = OnceLock::new();

/// Whether `id` is `family` or starts with it followed by a separator (so `o1` matches `o1-mini`, not `o10`).
fn in_family(id: &str, family: &str) -> bool {
    id.strip_prefix(family).is_some_and(|rest| {
        rest.is_empty() || family.ends_with('-') || rest.starts_with(['-', '.', ':', '_', '@'])
    })
}

impl Tokenizer {
    /// The tokenizer for a provider's model id.
    pub fn for_model(model: &str) -> Tokenizer {
        let id = model.rsplit('/').next().unwrap_or(model);
        if O200K_FAMILIES.iter().any(|f| in_family(id, f)) {
            Tokenizer::O200kBase
        } else if CL100K_FAMILIES.iter().any(|f| in_family(id, f)) {
            Tokenizer::Cl100kBase
        } else {
            Tokenizer::Estimate
        }
    }

    /// The BPE, loaded on first use (falls back to the estimate if the embedded data could not be read).
    fn bpe(self) -> Option<&'static CoreBPE> {
        match self {
            Tokenizer::O200kBase => O200K.get_or_init(|| tiktoken_rs::o200k_base().ok()),
            Tokenizer::Cl100kBase => CL100K.get_or_init(|| tiktoken_rs::cl100k_base().ok()),
            Tokenizer::Estimate => return None,
        }
        .as_ref()
    }

    /// Bytes of the longest token this tokenizer produces for ordinary text (4 for the estimate).
    pub fn max_token_bytes(self) -> usize {
        match self {
            Tokenizer::O200kBase => O200K_MAX_TOKEN_BYTES,
            Tokenizer::Cl100kBase => CL100K_MAX_TOKEN_BYTES,
            Tokenizer::Estimate => 4,
        }
    }

    /// The fewest tokens `bytes` of text can be (each token at most [`Tokenizer::max_token_bytes`] long), without
    /// looking at the text: exact for the estimate, a floor for the BPEs.
    pub fn min_tokens(self, bytes: usize) -> u64 {
        bytes.div_ceil(self.max_token_bytes()) as u64
    }

    /// Tokens in `text`.
    pub fn count(self, text: &str) -> u64 {
        self.count_capped(text, u64::MAX)
    }

    /// Tokens in `text`, counted in pieces of at most [`CHUNK_BYTES`] (split before white space, where BPE words
    /// begin, so memory stays bounded for huge inputs) and stopping once the count passes `cap`.
    pub fn count_capped(self, text: &str, cap: u64) -> u64 {
        if text.is_empty() {
            return 0;
        }
        let Some(bpe) = self.bpe() else {
            return text.len().div_ceil(4) as u64;
        };
        let mut n = 0u64;
        let mut rest = text;
        while !rest.is_empty() && n <= cap {
            let (piece, tail) = rest.split_at(chunk_end(rest));
            n += bpe.encode_ordinary(piece).len() as u64;
            rest = tail;
        }
        n
    }
}

/// Largest piece of text handed to the BPE encoder at once.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Where the first piece of `text` ends: the whole text when short, else just before the last white space within
/// [`CHUNK_BYTES`] (or at a character boundary when there is none).
fn chunk_end(text: &str) -> usize {
    if text.len() <= CHUNK_BYTES {
        return text.len();
    }
    let mut end = CHUNK_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match text[..end].rfind(char::is_whitespace) {
        Some(ws) if ws > 0 => ws,
        _ => end,
    }
}

/// Whether counting for `model` is ready without loading a BPE table (the estimate, or a table already loaded).
pub fn is_loaded(model: &str) -> bool {
    match Tokenizer::for_model(model) {
        Tokenizer::Estimate => true,
        Tokenizer::O200kBase => O200K.get().is_some(),
        Tokenizer::Cl100kBase => CL100K.get().is_some(),
    }
}

/// Load the BPE table `model` needs (blocking; call it on a blocking thread).
pub fn preload(model: &str) {
    Tokenizer::for_model(model).bpe();
}

/// Load both BPE tables now (≈0.1–0.5 s), e.g. at startup on a blocking thread, so no request pays for it.
pub fn warm_up() {
    Tokenizer::O200kBase.bpe();
    Tokenizer::Cl100kBase.bpe();
}

/// Tokens of one message, framing included.
pub fn message_tokens(tk: Tokenizer, m: &Message) -> u64 {
    message_tokens_capped(tk, m, u64::MAX)
}

/// [`message_tokens`], stopping once the count passes `cap` (the input guard needs no more than that).
pub fn message_tokens_capped(tk: Tokenizer, m: &Message, cap: u64) -> u64 {
    let mut n = MESSAGE_OVERHEAD;
    for part in &m.content {
        if n > cap {
            return n;
        }
        n += match part {
            Part::Text { text } | Part::Refusal { text } | Part::Reasoning { text, .. } => {
                tk.count_capped(text, cap - n)
            }
            Part::Image { detail, .. } => {
                if detail.as_deref() == Some("low") {
                    IMAGE_LOW_DETAIL
                } else {
                    IMAGE_HIGH_DETAIL
                }
            }
        };
    }
    for call in &m.tool_calls {
        n += TOOL_CALL_OVERHEAD + tk.count(&call.name) + tk.count_capped(&call.arguments, cap);
    }
    if let Some(id) = &m.tool_call_id {
        n += tk.count(id);
    }
    if let Some(name) = &m.name {
        n += 1 + tk.count(name);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_counting_matches_whole_and_stops_at_the_cap() {
        let text = "The quick brown fox jumps over the lazy dog. ".repeat(4000);
        assert!(text.len() > 2 * CHUNK_BYTES);
        let bpe = Tokenizer::O200kBase.bpe().unwrap();
        let whole = bpe.encode_ordinary(&text).len() as u64;
        assert_eq!(Tokenizer::O200kBase.count(&text), whole);
        let capped = Tokenizer::O200kBase.count_capped(&text, 10);
        assert!(capped > 10 && capped < whole, "{capped} vs {whole}");
        let no_space = "é".repeat(CHUNK_BYTES);
        assert!(
            chunk_end(&no_space) <= CHUNK_BYTES && no_space.is_char_boundary(chunk_end(&no_space))
        );
    }

    #[test]
    fn the_longest_token_bounds_the_count_from_below() {
        for tk in [Tokenizer::O200kBase, Tokenizer::Cl100kBase] {
            let bpe = tk.bpe().unwrap();
            let longest = (0..300_000)
                .filter_map(|rank| bpe.decode_bytes(&[rank]).ok())
                .map(|bytes| bytes.len())
                .max()
                .unwrap();
            assert_eq!(longest, tk.max_token_bytes(), "{tk:?}");
            for text in [
                " ".repeat(100_000),
                "=".repeat(100_000),
                "lorem ipsum dolor sit amet ".repeat(4000),
                "\n".repeat(50_000),
            ] {
                assert!(tk.count(&text) >= tk.min_tokens(text.len()), "{tk:?}");
            }
        }
        assert_eq!(
            Tokenizer::Estimate.min_tokens(9),
            Tokenizer::Estimate.count("123456789")
        );
    }

    #[test]
    fn families_pick_their_encoding() {
        for m in [
            "gpt-4o",
            "gpt-4o-mini-2024-07-18",
            "o1",
            "o3-mini",
            "gpt-5",
            "gpt-4.1-nano",
            "openai/gpt-oss-20b",
            "gpt-oss:20b",
        ] {
            assert_eq!(Tokenizer::for_model(m), Tokenizer::O200kBase, "{m}");
        }
        for m in [
            "gpt-4",
            "gpt-4-turbo",
            "gpt-3.5-turbo",
            "text-embedding-3-small",
        ] {
            assert_eq!(Tokenizer::for_model(m), Tokenizer::Cl100kBase, "{m}");
        }
        for m in [
            "claude-3-5-haiku-latest",
            "llama3.2",
            "o10x",
            "gemini-2.0-flash",
            "omni",
        ] {
            assert_eq!(Tokenizer::for_model(m), Tokenizer::Estimate, "{m}");
        }
    }

    #[test]
    fn tiktoken_counts_match_known_values() {
        assert_eq!(Tokenizer::O200kBase.count("hello world"), 2);
        assert_eq!(Tokenizer::Cl100kBase.count("hello world"), 2);
        assert_eq!(Tokenizer::Cl100kBase.count("tiktoken is great!"), 6);
        assert_eq!(Tokenizer::O200kBase.count(""), 0);
    }

    #[test]
    fn estimate_is_bytes_over_four_rounded_up() {
        assert_eq!(Tokenizer::Estimate.count("abcd"), 1);
        assert_eq!(Tokenizer::Estimate.count("abcde"), 2);
        assert_eq!(Tokenizer::Estimate.count("日本"), 2);
    }

    #[test]
    fn message_framing_counts_calls_images_and_names() {
        let tk = Tokenizer::Estimate;
        assert_eq!(
            message_tokens(tk, &Message::user("abcd")),
            MESSAGE_OVERHEAD + 1
        );
        let mut m = Message::assistant("");
        m.tool_calls = vec![crate::types::ToolCall::new("c1", "abcd", "{}")];
        m.name = Some("bob".into());
        assert_eq!(
            message_tokens(tk, &m),
            MESSAGE_OVERHEAD + TOOL_CALL_OVERHEAD + 1 + 1 + 1 + 1
        );
        let img = Message {
            content: vec![Part::Image {
                source: crate::types::ImageSource::Url {
                    url: "https://x/y.png".into(),
                },
                detail: Some("low".into()),
            }],
            ..Message::user("")
        };
        assert_eq!(
            message_tokens(tk, &img),
            MESSAGE_OVERHEAD + IMAGE_LOW_DETAIL
        );
    }
}
