//! Incremental stream decoders (SSE, NDJSON, AWS event-stream) for provider response bodies.
//!
//! Both decoders are push-based: feed every network read to `push` as it
//! arrives and call `finish` once the body ends. They work on raw bytes, split
//! lines with block-wise slice scans (bytes already scanned are never scanned
//! again when a line spans reads), validate UTF-8 once per complete line (CR and
//! LF never occur inside a multi-byte UTF-8 sequence, so a character split
//! across reads is simply carried in the pending-line buffer), and reuse their
//! internal buffers between events.
//!
//! Memory is bounded: a pending line (plus, for SSE, the data of the event
//! being assembled) larger than the configured limit fails with
//! [`DecodeError::EventTooLarge`] as soon as the bytes arrive.

pub mod eventstream;
pub mod ndjson;
pub mod sse;

pub use ndjson::NdjsonDecoder;
pub use sse::{SseDecoder, SseEvent};

/// Default cap for one SSE event / NDJSON line: 16 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// Errors produced while decoding a stream body.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// One event (SSE) or line (NDJSON) grew beyond the configured byte limit.
    #[error("stream event exceeds the {limit}-byte limit")]
    EventTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The body contains bytes that are not valid UTF-8 (including a
    /// multi-byte character truncated by the end of the body).
    #[error("stream is not valid UTF-8")]
    InvalidUtf8,
    /// A binary event-stream message is malformed (bad length or checksum).
    #[error("malformed event-stream message: {0}")]
    Frame(String),
}

/// Block size for the line-end scan. Checking a whole block without an early
/// exit lets the compiler vectorise the comparison.
const SCAN_BLOCK: usize = 32;

/// Index of the first byte in `hay` for which `is_end` holds.
#[inline(always)]
fn find_byte(hay: &[u8], is_end: impl Fn(u8) -> bool + Copy) -> Option<usize> {
    let mut blocks = hay.chunks_exact(SCAN_BLOCK);
    let mut base = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |hit, &b| hit | is_end(b)) {
            return block.iter().position(|&b| is_end(b)).map(|p| base + p);
        }
        base += SCAN_BLOCK;
    }
    blocks
        .remainder()
        .iter()
        .position(|&b| is_end(b))
        .map(|p| base + p)
}

/// Index of the first `\r` or `\n` in `hay`.
#[inline]
pub(crate) fn find_cr_or_lf(hay: &[u8]) -> Option<usize> {
    find_byte(hay, |b| (b == b'\n') | (b == b'\r'))
}

/// Index of the first `\n` in `hay`.
#[inline]
pub(crate) fn find_lf(hay: &[u8]) -> Option<usize> {
    find_byte(hay, |b| b == b'\n')
}

#[cfg(test)]
mod scan_tests {
    use super::{find_cr_or_lf, find_lf};

    #[test]
    fn finds_first_line_end_at_every_offset() {
        for len in 0..100 {
            let mut hay = vec![b'x'; len];
            assert_eq!(find_cr_or_lf(&hay), None);
            assert_eq!(find_lf(&hay), None);
            for pos in 0..len {
                hay[pos] = b'\r';
                assert_eq!(find_cr_or_lf(&hay), Some(pos));
                assert_eq!(find_lf(&hay), None);
                hay[pos] = b'\n';
                assert_eq!(find_cr_or_lf(&hay), Some(pos));
                assert_eq!(find_lf(&hay), Some(pos));
                hay[pos] = b'x';
            }
        }
    }
}
