//! AWS event-stream framing (Bedrock's ConverseStream): binary messages with a CRC-checked prelude, typed headers
//! and a payload, decoded incrementally by `aws-smithy-eventstream` from the bytes as they arrive.

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::Message;
use bytes::{Bytes, BytesMut};

use super::{DEFAULT_MAX_EVENT_BYTES, DecodeError};

/// Whether a message is an event or a modelled exception (`:message-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// `event`.
    Event,
    /// `exception` (or `error`): the stream failed.
    Exception,
}

/// One decoded message: its kind, its name (`:event-type`, or `:exception-type` / `:error-code`) and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMessage {
    /// Event or exception.
    pub kind: MessageKind,
    /// The event or exception type.
    pub name: String,
    /// The payload (JSON for Bedrock).
    pub payload: Bytes,
}

/// Push-based event-stream decoder: feed every read to `push`, call `finish` at the end of the body.
#[derive(Debug)]
pub struct EventStreamDecoder {
    buf: BytesMut,
    frames: MessageFrameDecoder,
    max: usize,
}

impl Default for EventStreamDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl EventStreamDecoder {
    /// A decoder refusing messages larger than `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            frames: MessageFrameDecoder::new(),
            max,
        }
    }

    /// Add `chunk`, appending every message it completes to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<EventMessage>) -> Result<(), DecodeError> {
        self.buf.extend_from_slice(chunk);
        loop {
            match self.frames.decode_frame(&mut self.buf) {
                Ok(DecodedFrame::Complete(m)) => out.push(message(&m)),
                Ok(DecodedFrame::Incomplete) => break,
                Err(e) => return Err(DecodeError::Frame(e.to_string())),
            }
        }
        if self.buf.len() > self.max {
            return Err(DecodeError::EventTooLarge { limit: self.max });
        }
        Ok(())
    }

    /// The body ended: a partial message left over is dropped (the stream reports it as truncated).
    pub fn finish(&mut self, _out: &mut Vec<EventMessage>) -> Result<(), DecodeError> {
        self.buf.clear();
        Ok(())
    }
}

fn message(m: &Message) -> EventMessage {
    let header = |name: &str| {
        m.headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map(|s| s.as_str().to_owned())
    };
    let kind = match header(":message-type").as_deref() {
        Some("exception" | "error") => MessageKind::Exception,
        _ => MessageKind::Event,
    };
    let name = match kind {
        MessageKind::Event => header(":event-type"),
        MessageKind::Exception => header(":exception-type").or_else(|| header(":error-code")),
    };
    EventMessage {
        kind,
        name: name.unwrap_or_default(),
        payload: m.payload().clone(),
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_eventstream::frame::write_message_to;
    use aws_smithy_types::event_stream::{Header, HeaderValue};

    use super::*;

    fn frame(
        kind: &'static str,
        name_header: &'static str,
        name: &'static str,
        payload: &str,
    ) -> Vec<u8> {
        let m = Message::new(payload.to_owned().into_bytes())
            .add_header(Header::new(
                ":message-type",
                HeaderValue::String(kind.into()),
            ))
            .add_header(Header::new(name_header, HeaderValue::String(name.into())))
            .add_header(Header::new(
                ":content-type",
                HeaderValue::String("application/json".into()),
            ));
        let mut out = Vec::new();
        write_message_to(&m, &mut out).unwrap_or_else(|e| panic!("{e}"));
        out
    }

    #[test]
    fn messages_split_at_every_byte_decode_once() {
        let mut body = frame(
            "event",
            ":event-type",
            "messageStart",
            r#"{"role":"assistant"}"#,
        );
        body.extend(frame(
            "exception",
            ":exception-type",
            "throttlingException",
            r#"{"message":"slow"}"#,
        ));
        for split in 0..body.len() {
            let mut d = EventStreamDecoder::default();
            let mut out = Vec::new();
            d.push(&body[..split], &mut out)
                .unwrap_or_else(|e| panic!("{e}"));
            d.push(&body[split..], &mut out)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(out.len(), 2, "split at {split}");
            assert_eq!(
                (out[0].kind, out[0].name.as_str()),
                (MessageKind::Event, "messageStart")
            );
            assert_eq!(out[1].kind, MessageKind::Exception);
            assert_eq!(out[1].name, "throttlingException");
            assert_eq!(&out[1].payload[..], br#"{"message":"slow"}"#);
        }
    }

    #[test]
    fn a_corrupt_crc_is_an_error_and_a_huge_message_is_refused() {
        let mut body = frame("event", ":event-type", "metadata", "{}");
        let last = body.len() - 1;
        body[last] ^= 0xff;
        let mut out = Vec::new();
        let err = EventStreamDecoder::default()
            .push(&body, &mut out)
            .unwrap_err();
        assert!(matches!(err, DecodeError::Frame(_)), "{err:?}");
        let big = frame(
            "event",
            ":event-type",
            "contentBlockDelta",
            &"x".repeat(4096),
        );
        let err = EventStreamDecoder::new(1024)
            .push(&big[..2048], &mut out)
            .unwrap_err();
        assert_eq!(err, DecodeError::EventTooLarge { limit: 1024 });
    }
}
