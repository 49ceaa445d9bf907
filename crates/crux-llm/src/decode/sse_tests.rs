//! Unit tests for the SSE decoder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn ev(event: Option<&str>, data: &str) -> SseEvent {
    SseEvent {
        event: event.map(str::to_owned),
        data: data.to_owned(),
        id: None,
    }
}

fn msg(data: &str) -> SseEvent {
    ev(None, data)
}

/// Decodes `chunks` (one push each) and finishes the body.
fn decode_chunks(chunks: &[&[u8]]) -> Vec<SseEvent> {
    let mut dec = SseDecoder::default();
    let mut out = Vec::new();
    for chunk in chunks {
        dec.push(chunk, &mut out).unwrap();
    }
    dec.finish(&mut out).unwrap();
    out
}

fn decode(body: &str) -> Vec<SseEvent> {
    decode_chunks(&[body.as_bytes()])
}

/// Decodes `body` once whole, byte by byte, and split at every offset; all must agree.
fn decode_all_ways(body: &[u8]) -> Vec<SseEvent> {
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
fn lf_terminated_events() {
    let body = "data: one\n\ndata: two\n\n";
    assert_eq!(decode_all_ways(body.as_bytes()), [msg("one"), msg("two")]);
}

#[test]
fn crlf_terminated_events() {
    let body = "data: one\r\n\r\ndata: two\r\n\r\n";
    assert_eq!(decode_all_ways(body.as_bytes()), [msg("one"), msg("two")]);
}

#[test]
fn lone_cr_terminated_events() {
    let body = "data: one\r\rdata: two\r\r";
    assert_eq!(decode_all_ways(body.as_bytes()), [msg("one"), msg("two")]);
}

#[test]
fn mixed_terminators() {
    let body = "data: a\rdata: b\r\ndata: c\n\r\n";
    assert_eq!(decode_all_ways(body.as_bytes()), [msg("a\nb\nc")]);
}

#[test]
fn crlf_split_across_reads_is_one_line_end() {
    let mut dec = SseDecoder::default();
    let mut out = Vec::new();
    dec.push(b"data: a\r", &mut out).unwrap();
    assert!(out.is_empty(), "CR + later LF must not be a blank line");
    dec.push(b"\ndata: b\r", &mut out).unwrap();
    assert!(out.is_empty());
    dec.push(b"\n\r", &mut out).unwrap();
    // The blank line ended with a lone CR at the end of the read: dispatched immediately.
    assert_eq!(out, [msg("a\nb")]);
    dec.push(b"\n", &mut out).unwrap(); // the LF completing that CRLF is not another line
    dec.push(b"data: c\n\n", &mut out).unwrap();
    dec.finish(&mut out).unwrap();
    assert_eq!(out, [msg("a\nb"), msg("c")]);
}

#[test]
fn empty_reads_do_not_break_split_crlf() {
    let out = decode_chunks(&[b"data: a\r", b"", b"\n", b"", b"\r", b"", b"\n"]);
    assert_eq!(out, [msg("a")]);
}

#[test]
fn multi_line_data_joined_with_lf() {
    let body = "data: {\"a\":\ndata: 1}\ndata:\n\n";
    assert_eq!(decode_all_ways(body.as_bytes()), [msg("{\"a\":\n1}\n")]);
}

#[test]
fn data_without_space_and_with_two_spaces() {
    let body = "data:x\n\ndata:  two spaces\n\ndata: \n\n";
    assert_eq!(
        decode_all_ways(body.as_bytes()),
        [msg("x"), msg(" two spaces"), msg("")]
    );
}

#[test]
fn comment_lines_ignored() {
    let body =
        ": OPENROUTER PROCESSING\n\n: keep-alive\n\ndata: {\"ok\":true}\n: mid-event\n\n:\n\n";
    assert_eq!(decode_all_ways(body.as_bytes()), [msg("{\"ok\":true}")]);
}

#[test]
fn anthropic_event_names() {
    let body = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n\
                event: ping\ndata: {\"type\": \"ping\"}\n\n\
                data: plain\n\n\
                event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    assert_eq!(
        decode_all_ways(body.as_bytes()),
        [
            ev(Some("message_start"), "{\"type\":\"message_start\"}"),
            ev(Some("ping"), "{\"type\": \"ping\"}"),
            msg("plain"),
            ev(Some("message_stop"), "{\"type\":\"message_stop\"}"),
        ]
    );
}

#[test]
fn event_name_reset_by_empty_dispatch_and_last_one_wins() {
    let body = "event: lost\n\ndata: a\n\nevent: x\nevent: y\ndata: b\n\nevent:\ndata: c\n\n";
    assert_eq!(
        decode_all_ways(body.as_bytes()),
        [msg("a"), ev(Some("y"), "b"), msg("c")]
    );
}

#[test]
fn empty_data_events_not_dispatched() {
    assert_eq!(decode("event: x\n\nid: 3\n\nretry: 10\n\n\n\n"), []);
    // A `data` field with an empty value still makes the buffer non-empty (WHATWG).
    assert_eq!(decode("data\n\ndata\ndata\n\n"), [msg(""), msg("\n")]);
}

#[test]
fn final_event_without_blank_line_dispatched_by_finish() {
    let mut dec = SseDecoder::default();
    let mut out = Vec::new();
    dec.push(b"data: one\n\nevent: e\ndata: last", &mut out)
        .unwrap();
    assert_eq!(out, [msg("one")]);
    dec.finish(&mut out).unwrap();
    assert_eq!(out, [msg("one"), ev(Some("e"), "last")]);
    assert_eq!(decode("data: x\n"), [msg("x")]);
    assert_eq!(decode("data: x\r"), [msg("x")]);
    assert_eq!(decode("event: e\n: no data"), []);
}

#[test]
fn finish_resets_for_a_new_body() {
    let mut dec = SseDecoder::default();
    let mut out = Vec::new();
    dec.push(b"id: 1\nevent: e\ndata: a\n\ndata: b\r", &mut out)
        .unwrap();
    dec.finish(&mut out).unwrap();
    dec.push(b"\xEF\xBB\xBF\ndata: c\n\n", &mut out).unwrap();
    dec.finish(&mut out).unwrap();
    let mut first = ev(Some("e"), "a");
    first.id = Some("1".into());
    let mut second = msg("b");
    second.id = Some("1".into());
    assert_eq!(out, [first, second, msg("c")]);
}

#[test]
fn field_parsing_edge_cases() {
    let body =
        "data\n\ndata:a:b: c\n\nfoo: bar\nDATA: upper\nretry: 5\ndata : spaced name\ndata: ok\n\n";
    assert_eq!(
        decode_all_ways(body.as_bytes()),
        [msg(""), msg("a:b: c"), msg("ok")]
    );
}

#[test]
fn id_is_last_event_id_and_persists() {
    let body =
        "id: 1\ndata: a\n\ndata: b\n\nid: 2\n\ndata: c\n\nid: x\0y\ndata: d\n\nid\ndata: e\n\n";
    let ids: Vec<Option<String>> = decode_all_ways(body.as_bytes())
        .into_iter()
        .map(|e| e.id)
        .collect();
    let want = [Some("1"), Some("1"), Some("2"), Some("2"), None];
    assert_eq!(ids, want.map(|s| s.map(str::to_owned)));
}

#[test]
fn whatwg_spec_examples() {
    let body = ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n";
    let mut first = msg("first event");
    first.id = Some("1".into());
    assert_eq!(
        decode_all_ways(body.as_bytes()),
        [first, msg("second event"), msg(" third event")]
    );
    assert_eq!(
        decode("data: YHOO\ndata: +2\ndata: 10\n\n"),
        [msg("YHOO\n+2\n10")]
    );
}

#[test]
fn multibyte_utf8_split_at_every_offset() {
    let body = "event: é\ndata: café 😀 日本語\ndata: 🦀\n\ndata: ü\u{10FFFF}\n\n";
    let out = decode_all_ways(body.as_bytes());
    assert_eq!(
        out,
        [ev(Some("é"), "café 😀 日本語\n🦀"), msg("ü\u{10FFFF}")]
    );
    // And every pair of split points, for the 4-byte character.
    let body = "data: 😀é\n\n".as_bytes();
    for i in 0..=body.len() {
        for j in i..=body.len() {
            let out = decode_chunks(&[&body[..i], &body[i..j], &body[j..]]);
            assert_eq!(out, [msg("😀é")], "splits at {i},{j}");
        }
    }
}

#[test]
fn bom_skipped_once_even_when_split() {
    let body = "\u{FEFF}data: a\n\n".as_bytes();
    assert_eq!(decode_all_ways(body), [msg("a")]);
    // Only the first BOM is skipped; a second one is part of the field name.
    assert_eq!(decode("\u{FEFF}\u{FEFF}data: a\n\ndata: b\n\n"), [msg("b")]);
    // A BOM later in the stream is content.
    assert_eq!(decode("data: \u{FEFF}x\n\n"), [msg("\u{FEFF}x")]);
    // A lone BOM is an empty body.
    assert_eq!(decode_all_ways("\u{FEFF}".as_bytes()), []);
}

#[test]
fn invalid_utf8_is_an_error_and_sticky() {
    let mut dec = SseDecoder::default();
    let mut out = Vec::new();
    assert_eq!(
        dec.push(b"data: \xFF\n", &mut out),
        Err(DecodeError::InvalidUtf8)
    );
    assert_eq!(
        dec.push(b"data: ok\n\n", &mut out),
        Err(DecodeError::InvalidUtf8)
    );
    assert_eq!(dec.finish(&mut out), Err(DecodeError::InvalidUtf8));
    assert!(out.is_empty());
    // Invalid bytes in comments are rejected too (the body is not UTF-8).
    let mut dec = SseDecoder::default();
    assert_eq!(
        dec.push(b": \xC3\x28\n", &mut out),
        Err(DecodeError::InvalidUtf8)
    );
}

#[test]
fn truncated_utf8_at_end_of_body_is_reported_by_finish() {
    for body in [&b"data: \xF0\x9F\x98"[..], b"\xEF\xBB", b"data: \xC3"] {
        let mut dec = SseDecoder::default();
        let mut out = Vec::new();
        dec.push(body, &mut out).unwrap();
        assert_eq!(
            dec.finish(&mut out),
            Err(DecodeError::InvalidUtf8),
            "{body:?}"
        );
    }
    // A BOM prefix followed by other bytes is not a BOM.
    let mut dec = SseDecoder::default();
    let mut out = Vec::new();
    dec.push(b"\xEF", &mut out).unwrap();
    assert_eq!(
        dec.push(b"data: x\n", &mut out),
        Err(DecodeError::InvalidUtf8)
    );
}

#[test]
fn size_cap_on_accumulated_data() {
    let mut dec = SseDecoder::new(100);
    let mut out = Vec::new();
    let line = format!("data: {}\n", "x".repeat(40));
    dec.push(line.as_bytes(), &mut out).unwrap();
    dec.push(line.as_bytes(), &mut out).unwrap();
    assert_eq!(
        dec.push(line.as_bytes(), &mut out),
        Err(DecodeError::EventTooLarge { limit: 100 })
    );
    assert_eq!(
        dec.push(b"\n", &mut out),
        Err(DecodeError::EventTooLarge { limit: 100 })
    );
    assert!(out.is_empty());
}

#[test]
fn size_cap_is_per_event() {
    let mut dec = SseDecoder::new(64);
    let mut out = Vec::new();
    let event = format!("data: {}\n\n", "y".repeat(50));
    for _ in 0..100 {
        dec.push(event.as_bytes(), &mut out).unwrap();
    }
    dec.finish(&mut out).unwrap();
    assert_eq!(out.len(), 100);
}

#[test]
fn size_cap_on_huge_line_without_newline_bounds_memory() {
    const CAP: usize = 64 * 1024;
    let mut dec = SseDecoder::new(CAP);
    let mut out = Vec::new();
    dec.push(b"data: ", &mut out).unwrap();
    let chunk = vec![b'a'; 1024];
    let mut pushed = 6;
    let err = loop {
        match dec.push(&chunk, &mut out) {
            Ok(()) => pushed += chunk.len(),
            Err(err) => break err,
        }
        assert!(dec.line.len() <= CAP);
        assert!(pushed <= CAP, "no error after {pushed} bytes");
    };
    assert_eq!(err, DecodeError::EventTooLarge { limit: CAP });
    assert!(pushed + chunk.len() > CAP);
    assert_eq!(dec.line.capacity(), 0, "buffers released after the error");
    // A single oversized read is rejected as well, whether or not it holds a line end.
    let big = vec![b'b'; CAP + 1];
    assert!(SseDecoder::new(CAP).push(&big, &mut out).is_err());
    let mut big_line = big.clone();
    big_line.push(b'\n');
    assert!(SseDecoder::new(CAP).push(&big_line, &mut out).is_err());
}

#[test]
fn exactly_at_cap_is_accepted() {
    // Line "data: 1234" (10 bytes) then data buffer "1234\n" (5) + blank line (0).
    let mut dec = SseDecoder::new(10);
    let mut out = Vec::new();
    dec.push(b"data: 1234\n\n", &mut out).unwrap();
    assert_eq!(out, [msg("1234")]);
    assert!(SseDecoder::new(9).push(b"data: 1234", &mut out).is_err());
}

#[test]
fn buffers_are_reused_across_events() {
    let mut dec = SseDecoder::default();
    let mut out = Vec::new();
    dec.push(b"data: abcdefgh", &mut out).unwrap();
    dec.push(b"ijkl\n\n", &mut out).unwrap();
    let (line_cap, data_cap) = (dec.line.capacity(), dec.data.capacity());
    assert!(line_cap > 0 && data_cap > 0);
    dec.push(b"data: abcd", &mut out).unwrap();
    dec.push(b"efgh\n\n", &mut out).unwrap();
    assert_eq!(dec.line.capacity(), line_cap);
    assert_eq!(dec.data.capacity(), data_cap);
    assert_eq!(out, [msg("abcdefghijkl"), msg("abcdefgh")]);
}
