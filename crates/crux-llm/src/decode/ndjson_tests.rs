//! Unit tests for the NDJSON decoder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn decode_chunks(chunks: &[&[u8]]) -> Vec<String> {
    let mut dec = NdjsonDecoder::default();
    let mut out = Vec::new();
    for chunk in chunks {
        dec.push(chunk, &mut out).unwrap();
    }
    dec.finish(&mut out).unwrap();
    out
}

/// Decodes `body` whole, byte by byte and split at every offset; all must agree.
fn decode_all_ways(body: &[u8]) -> Vec<String> {
    let whole = decode_chunks(&[body]);
    let bytes: Vec<&[u8]> = body.chunks(1).collect();
    assert_eq!(decode_chunks(&bytes), whole, "byte-by-byte");
    for split in 0..=body.len() {
        let (a, b) = body.split_at(split);
        assert_eq!(decode_chunks(&[a, b]), whole, "split at {split}");
    }
    whole
}

#[test]
fn partial_lines_across_reads() {
    let mut dec = NdjsonDecoder::default();
    let mut out = Vec::new();
    dec.push(b"{\"a\":", &mut out).unwrap();
    assert!(out.is_empty());
    dec.push(b"1}\n{\"b\"", &mut out).unwrap();
    assert_eq!(out, ["{\"a\":1}"]);
    dec.push(b":2}\n", &mut out).unwrap();
    dec.finish(&mut out).unwrap();
    assert_eq!(out, ["{\"a\":1}", "{\"b\":2}"]);
    let body = b"{\"model\":\"llama3\",\"done\":false}\n{\"done\":true}\n";
    assert_eq!(
        decode_all_ways(body),
        ["{\"model\":\"llama3\",\"done\":false}", "{\"done\":true}"]
    );
}

#[test]
fn crlf_stripped() {
    assert_eq!(
        decode_all_ways(b"{\"a\":1}\r\n{\"b\":2}\r\n"),
        ["{\"a\":1}", "{\"b\":2}"]
    );
    // Only one trailing CR is stripped; interior CRs are content.
    assert_eq!(decode_all_ways(b"a\rb\r\r\n"), ["a\rb\r"]);
}

#[test]
fn blank_lines_skipped() {
    assert_eq!(
        decode_all_ways(b"\n\r\n  \t\n{}\n\n\n[]\n \r\n"),
        ["{}", "[]"]
    );
}

#[test]
fn final_line_without_newline_emitted_by_finish() {
    let mut dec = NdjsonDecoder::default();
    let mut out = Vec::new();
    dec.push(b"{\"a\":1}\n{\"done\":true}", &mut out).unwrap();
    assert_eq!(out, ["{\"a\":1}"]);
    dec.finish(&mut out).unwrap();
    assert_eq!(out, ["{\"a\":1}", "{\"done\":true}"]);
    assert_eq!(decode_all_ways(b"x\r"), ["x"]);
    assert!(decode_all_ways(b"  ").is_empty());
}

#[test]
fn multibyte_utf8_split_at_every_offset() {
    let body = "{\"content\":\"café 😀 日本語\"}\n{\"c\":\"🦀\"}".as_bytes();
    assert_eq!(
        decode_all_ways(body),
        ["{\"content\":\"café 😀 日本語\"}", "{\"c\":\"🦀\"}"]
    );
}

#[test]
fn invalid_utf8_is_an_error_and_sticky() {
    let mut dec = NdjsonDecoder::default();
    let mut out = Vec::new();
    assert_eq!(
        dec.push(b"\"\xFF\"\n", &mut out),
        Err(DecodeError::InvalidUtf8)
    );
    assert_eq!(dec.push(b"{}\n", &mut out), Err(DecodeError::InvalidUtf8));
    assert_eq!(dec.finish(&mut out), Err(DecodeError::InvalidUtf8));
    assert!(out.is_empty());
    let mut dec = NdjsonDecoder::default();
    dec.push(b"\"\xF0\x9F", &mut out).unwrap();
    assert_eq!(dec.finish(&mut out), Err(DecodeError::InvalidUtf8));
}

#[test]
fn line_cap() {
    const CAP: usize = 4096;
    let mut dec = NdjsonDecoder::new(CAP);
    let mut out = Vec::new();
    let chunk = vec![b'x'; 100];
    let mut pushed = 0;
    let err = loop {
        match dec.push(&chunk, &mut out) {
            Ok(()) => pushed += chunk.len(),
            Err(err) => break err,
        }
        assert!(dec.line.len() <= CAP);
        assert!(pushed <= CAP);
    };
    assert_eq!(err, DecodeError::EventTooLarge { limit: CAP });
    assert_eq!(dec.line.capacity(), 0);
    // Complete lines are checked too, and lines exactly at the cap pass.
    let mut ok = vec![b'y'; CAP];
    ok.push(b'\n');
    let mut dec = NdjsonDecoder::new(CAP);
    dec.push(&ok, &mut out).unwrap();
    assert_eq!(out.len(), 1);
    let mut big = vec![b'y'; CAP + 1];
    big.push(b'\n');
    assert!(NdjsonDecoder::new(CAP).push(&big, &mut out).is_err());
    let mut dec = NdjsonDecoder::new(CAP);
    dec.push(&big[..CAP], &mut out).unwrap();
    assert!(dec.push(&big[CAP..], &mut out).is_err());
}

#[test]
fn finish_resets_for_a_new_body() {
    let mut dec = NdjsonDecoder::default();
    let mut out = Vec::new();
    dec.push(b"{\"a\":1}\n{\"b\"", &mut out).unwrap();
    dec.finish(&mut out).unwrap();
    dec.push(b"{\"c\":3}\n", &mut out).unwrap();
    dec.finish(&mut out).unwrap();
    assert_eq!(out, ["{\"a\":1}", "{\"b\"", "{\"c\":3}"]);
}
