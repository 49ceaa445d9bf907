//! Hostile input for the SSE and NDJSON decoders: arbitrary bytes, arbitrarily chunked, under small and large
//! size limits. Property: never panics; every failure is a typed `DecodeError`; a decoder that failed stays usable
//! or keeps failing, never panics. `PROPTEST_CASES` sets the count (`scripts/fuzz.sh` runs each for minutes).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod fuzz_support;

use crux_llm::decode::{DecodeError, NdjsonDecoder, SseDecoder};
use fuzz_support::{chunks, mutated};
use proptest::prelude::*;

const SSE_SEEDS: &[&str] = &[
    "data: {\"a\":1}\n\n",
    "event: message_start\r\ndata: {}\r\n\r\ndata: [DONE]\n\n",
    ": comment\nid: 7\nretry: 10\ndata: x\ndata: y\n\n",
    "\u{feff}data: bom\r\r\n\n",
    "data:no-space\nevent\n\n",
];

const NDJSON_SEEDS: &[&str] = &[
    "{\"a\":1}\n{\"b\":2}\n",
    "{\"done\":true}\r\n\n\n{}",
    "\u{feff}{}\n",
    "x\ny",
];

fn typed(e: &DecodeError) {
    // The error is a value with a message, not a panic or a poisoned state.
    assert!(!e.to_string().is_empty());
}

fn sse_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        mutated(SSE_SEEDS)
    ]
}

fn ndjson_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        mutated(NDJSON_SEEDS)
    ]
}

proptest! {
    #[test]
    fn sse_decoder_never_panics(
        body in sse_input(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        limit in prop_oneof![1usize..64, Just(1usize << 20)],
    ) {
        let mut d = SseDecoder::new(limit);
        let mut out = Vec::new();
        for chunk in chunks(&body, &cuts) {
            if let Err(e) = d.push(&chunk, &mut out) {
                typed(&e);
            }
        }
        if let Err(e) = d.finish(&mut out) {
            typed(&e);
        }
        for ev in &out {
            prop_assert!(ev.data.len() <= body.len());
        }
    }

    #[test]
    fn ndjson_decoder_never_panics(
        body in ndjson_input(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        limit in prop_oneof![1usize..64, Just(1usize << 20)],
    ) {
        let mut d = NdjsonDecoder::new(limit);
        let mut out = Vec::new();
        for chunk in chunks(&body, &cuts) {
            if let Err(e) = d.push(&chunk, &mut out) {
                typed(&e);
            }
        }
        if let Err(e) = d.finish(&mut out) {
            typed(&e);
        }
        for line in &out {
            prop_assert!(line.len() <= body.len());
            prop_assert!(!line.contains('\n'));
        }
    }
}
