//! Property tests for the SSE and NDJSON stream decoders: re-chunking invariance and
//! agreement with the `eventsource-stream` crate as an oracle.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;

use bytes::Bytes;
use crux_llm::decode::{DecodeError, NdjsonDecoder, SseDecoder, SseEvent};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use proptest::prelude::*;
use proptest::sample::Index;

/// One generated SSE line (without its terminator).
fn sse_line() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        6 => Just("data".to_owned()),
        2 => Just("event".to_owned()),
        1 => Just("id".to_owned()),
        1 => Just("retry".to_owned()),
        1 => "[a-zA-Z]{1,5}",
    ];
    let value = prop_oneof![
        3 => "[a-z0-9 {}\":,\\[\\]]{0,16}",
        2 => "[^\r\n]{0,8}",
        1 => Just("[DONE]".to_owned()),
        1 => Just(" leading".to_owned()),
    ];
    prop_oneof![
        // field with colon and 0..=2 spaces after it
        6 => (name.clone(), 0..3usize, value.clone())
            .prop_map(|(n, spaces, v)| format!("{n}:{}{v}", " ".repeat(spaces))),
        // field without a colon
        1 => name,
        // comment
        1 => value.prop_map(|v| format!(":{v}")),
        // blank line (dispatch)
        3 => Just(String::new()),
    ]
}

fn terminator() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]
}

/// A whole SSE body: optional BOM, terminated lines, optional unterminated tail.
fn sse_body() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        prop::collection::vec((sse_line(), terminator()), 0..40),
        prop::option::of(sse_line()),
    )
        .prop_map(|(bom, lines, tail)| {
            let mut body = String::new();
            if bom {
                body.push('\u{FEFF}');
            }
            for (line, term) in lines {
                body.push_str(&line);
                body.push_str(term);
            }
            body.push_str(tail.as_deref().unwrap_or(""));
            body.into_bytes()
        })
}

/// Splits `body` at the given (arbitrary, possibly mid-character) offsets.
fn rechunk<'a>(body: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::with_capacity(points.len() + 1);
    let mut start = 0;
    for p in points {
        chunks.push(&body[start..p]);
        start = p;
    }
    chunks.push(&body[start..]);
    chunks
}

fn decode_sse(chunks: &[&[u8]]) -> Result<Vec<SseEvent>, DecodeError> {
    let mut dec = SseDecoder::default();
    let mut out = Vec::new();
    for chunk in chunks {
        dec.push(chunk, &mut out)?;
    }
    dec.finish(&mut out)?;
    Ok(out)
}

/// (event name, data, id) as the oracle reports them.
type OracleEvent = (String, String, String);

/// Runs the oracle over `chunks`. A leading BOM is removed first (keeping the other
/// cut points): the oracle panics on one, as it slices `&string[1..]` off the 3-byte U+FEFF.
fn oracle(chunks: &[&[u8]]) -> Vec<OracleEvent> {
    let starts_with_bom = chunks.concat().starts_with("\u{FEFF}".as_bytes());
    let mut skip = if starts_with_bom { 3 } else { 0 };
    let items: Vec<Result<Bytes, Infallible>> = chunks
        .iter()
        .map(|c| {
            let n = skip.min(c.len());
            skip -= n;
            &c[n..]
        })
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async move {
        futures_util::stream::iter(items)
            .eventsource()
            .map(|ev| {
                let ev = ev.expect("oracle failed on valid UTF-8");
                (ev.event, ev.data, ev.id)
            })
            .collect()
            .await
    })
}

fn as_oracle(events: Vec<SseEvent>) -> Vec<OracleEvent> {
    events
        .into_iter()
        .map(|e| {
            (
                e.event.unwrap_or_else(|| "message".to_owned()),
                e.data,
                e.id.unwrap_or_default(),
            )
        })
        .collect()
}

/// Reference NDJSON splitter.
fn ndjson_reference(body: &str) -> Vec<String> {
    body.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.chars().all(|c| matches!(c, ' ' | '\t' | '\r')))
        .map(str::to_owned)
        .collect()
}

fn ndjson_body() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        4 => "\\{\"[a-z]{1,6}\":\"[^\n\"\\\\]{0,12}\"\\}",
        2 => "[^\n]{0,16}",
        1 => "[ \t\r]{0,3}",
    ];
    (
        prop::collection::vec((line.clone(), prop_oneof![Just("\n"), Just("\r\n")]), 0..30),
        prop::option::of(line),
    )
        .prop_map(|(lines, tail)| {
            let mut body: String = lines.iter().map(|(l, t)| format!("{l}{t}")).collect();
            body.push_str(tail.as_deref().unwrap_or(""));
            body
        })
}

fn decode_ndjson(chunks: &[&[u8]]) -> Result<Vec<String>, DecodeError> {
    let mut dec = NdjsonDecoder::default();
    let mut out = Vec::new();
    for chunk in chunks {
        dec.push(chunk, &mut out)?;
    }
    dec.finish(&mut out)?;
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (1) Any re-chunking of a body yields the same events as one push.
    #[test]
    fn sse_rechunking_invariant(body in sse_body(), cuts in prop::collection::vec(any::<Index>(), 0..16)) {
        let whole = decode_sse(&[&body]).unwrap();
        let chunked = decode_sse(&rechunk(&body, &cuts)).unwrap();
        prop_assert_eq!(&chunked, &whole);
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        prop_assert_eq!(decode_sse(&bytes).unwrap(), whole);
    }

    /// (2) Same events (name, data, last id) as `eventsource-stream`. The body is closed
    /// with a comment and a blank line, because the oracle drops an unterminated final
    /// event (ours dispatches it in `finish`) and defers a CR at the end of the input.
    #[test]
    fn sse_matches_eventsource_stream(body in sse_body(), cuts in prop::collection::vec(any::<Index>(), 0..16)) {
        let mut body = body;
        body.extend_from_slice(b"\n:end\n\n");
        let chunks = rechunk(&body, &cuts);
        let ours = as_oracle(decode_sse(&chunks).unwrap());
        prop_assert_eq!(ours, oracle(&chunks));
    }

    /// (3) NDJSON: any re-chunking yields the reference line split.
    #[test]
    fn ndjson_rechunking_invariant(body in ndjson_body(), cuts in prop::collection::vec(any::<Index>(), 0..16)) {
        let expected = ndjson_reference(&body);
        let bytes = body.as_bytes();
        prop_assert_eq!(decode_ndjson(&[bytes]).unwrap(), expected.clone());
        prop_assert_eq!(decode_ndjson(&rechunk(bytes, &cuts)).unwrap(), expected);
    }
}

/// The oracle comparison really exercises the interesting cases.
#[test]
fn oracle_agrees_on_fixed_examples() {
    let body = "\u{FEFF}: hi\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\nid: 7\rdata:x\rdata\r\r\
                data:  two\n\nevent: lost\n\ndata: é😀\n\n:end\n\n";
    let bytes = body.as_bytes();
    for split in 0..=bytes.len() {
        let chunks = [&bytes[..split], &bytes[split..]];
        let ours = as_oracle(decode_sse(&chunks).unwrap());
        assert_eq!(ours.len(), 4);
        assert_eq!(ours, oracle(&chunks), "split at {split}");
    }
}
