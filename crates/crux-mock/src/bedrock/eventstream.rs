//! AWS event-stream binary framing (`application/vnd.amazon.eventstream`), encoder only: each
//! message is `total_len u32 BE`, `headers_len u32 BE`, the prelude CRC32 (over those 8 bytes), the
//! headers, the payload and the message CRC32 (over everything before it). A header is
//! `name_len u8`, the name, the value type (`7` = string), `value_len u16 BE` and the value.

use bytes::Bytes;

/// Header value type of a UTF-8 string.
const STRING: u8 = 7;

/// Bytes of the prelude (two lengths and their CRC) plus the trailing message CRC.
const OVERHEAD: usize = 16;

/// `:content-type` of every frame the mock sends.
const JSON: &str = "application/json";

/// Encodes one event-stream message with string-valued `headers` (in order) and `payload`.
/// Header names longer than 255 bytes or values longer than 65 535 bytes are cut to fit.
pub(crate) fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut encoded = Vec::new();
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(usize::from(u8::MAX))];
        let value = &value.as_bytes()[..value.len().min(usize::from(u16::MAX))];
        encoded.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        encoded.extend_from_slice(name);
        encoded.push(STRING);
        encoded.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_be_bytes());
        encoded.extend_from_slice(value);
    }
    let total = OVERHEAD + encoded.len() + payload.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&u32::try_from(total).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(
        &u32::try_from(encoded.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&encoded);
    out.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    Bytes::from(out)
}

/// An `event` message: `:event-type`, `:content-type: application/json`, `:message-type: event`.
pub(crate) fn event(event_type: &str, payload: &[u8]) -> Bytes {
    message(
        &[
            (":event-type", event_type),
            (":content-type", JSON),
            (":message-type", "event"),
        ],
        payload,
    )
}

/// An in-stream `exception` message: `:exception-type`, `:content-type: application/json`,
/// `:message-type: exception`.
pub(crate) fn exception(exception_type: &str, payload: &[u8]) -> Bytes {
    message(
        &[
            (":exception-type", exception_type),
            (":content-type", JSON),
            (":message-type", "exception"),
        ],
        payload,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Published test vectors of AWS's event-stream implementation (aws-c-event-stream,
    /// `message_deserializer_test.c`): a message without headers, and one with a `content-type`
    /// string header, both carrying `{'foo':'bar'}`.
    #[test]
    fn matches_the_published_vectors() {
        let no_headers: &[u8] = &[
            0x00, 0x00, 0x00, 0x1D, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x52, 0x8c, 0x5a, 0x7b, 0x27,
            0x66, 0x6f, 0x6f, 0x27, 0x3a, 0x27, 0x62, 0x61, 0x72, 0x27, 0x7d, 0xc3, 0x65, 0x39,
            0x36,
        ];
        assert_eq!(message(&[], b"{'foo':'bar'}").as_ref(), no_headers);
        let mut one_header = vec![
            0x00, 0x00, 0x00, 0x3D, 0x00, 0x00, 0x00, 0x20, 0x07, 0xFD, 0x83, 0x96, 0x0C,
        ];
        one_header.extend_from_slice(b"content-type");
        one_header.extend_from_slice(&[0x07, 0x00, 0x10]);
        one_header.extend_from_slice(b"application/json");
        one_header.extend_from_slice(b"{'foo':'bar'}");
        one_header.extend_from_slice(&[0x8D, 0x9C, 0x08, 0xB1]);
        assert_eq!(
            message(&[("content-type", "application/json")], b"{'foo':'bar'}").as_ref(),
            one_header.as_slice()
        );
    }

    #[test]
    fn event_frames_decode_back() {
        let frame = event("messageStart", br#"{"role":"assistant"}"#);
        let total = u32::from_be_bytes(frame[0..4].try_into().unwrap()) as usize;
        let headers_len = u32::from_be_bytes(frame[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, frame.len());
        let prelude_crc = u32::from_be_bytes(frame[8..12].try_into().unwrap());
        assert_eq!(prelude_crc, crc32fast::hash(&frame[..8]));
        let message_crc = u32::from_be_bytes(frame[total - 4..].try_into().unwrap());
        assert_eq!(message_crc, crc32fast::hash(&frame[..total - 4]));
        let mut rest = &frame[12..12 + headers_len];
        let mut headers = Vec::new();
        while !rest.is_empty() {
            let n = usize::from(rest[0]);
            let name = std::str::from_utf8(&rest[1..=n]).unwrap().to_owned();
            assert_eq!(rest[n + 1], STRING);
            let len = usize::from(u16::from_be_bytes([rest[n + 2], rest[n + 3]]));
            let value = std::str::from_utf8(&rest[n + 4..n + 4 + len])
                .unwrap()
                .to_owned();
            headers.push((name, value));
            rest = &rest[n + 4 + len..];
        }
        assert_eq!(
            headers,
            [
                (":event-type".to_owned(), "messageStart".to_owned()),
                (":content-type".to_owned(), JSON.to_owned()),
                (":message-type".to_owned(), "event".to_owned()),
            ]
        );
        assert_eq!(
            &frame[12 + headers_len..total - 4],
            br#"{"role":"assistant"}"#
        );
    }
}
