//! Incremental Server-Sent Events decoder following the WHATWG EventSource parsing rules.
//!
//! Semantics (matching the `eventsource-stream` crate, used as the test oracle,
//! except where noted):
//! * lines end with LF, CRLF or a lone CR; a CRLF split across two reads is one
//!   line end. A CR at the end of a read ends the line immediately (no waiting
//!   for the next read), and a LF starting the next read is then skipped;
//! * one leading UTF-8 BOM at the start of the body is skipped;
//! * lines starting with `:` are comments; `name:value` strips one optional
//!   space after the colon; a line without a colon is a field with an empty
//!   value; `event`, `data` and `id` are honoured, `retry` and unknown fields
//!   are ignored;
//! * a blank line dispatches the event if its data buffer is non-empty (one
//!   trailing `\n` stripped), otherwise it only resets the event name;
//! * `id` is the WHATWG *last event ID*: it persists across events and every
//!   emitted [`SseEvent`] carries the value current at dispatch. A value
//!   containing NUL is ignored; an empty value clears it (`None`, the oracle's
//!   `""`);
//! * **deviation from WHATWG/oracle:** [`SseDecoder::finish`] dispatches a final
//!   event that was not followed by a blank line (truncated bodies keep their
//!   last data);
//! * **UTF-8:** characters split across reads are reassembled; invalid UTF-8 is
//!   an error ([`DecodeError::InvalidUtf8`]), raised as soon as the line holding
//!   it is complete (the oracle only fails at end of body), or by `finish` for a
//!   truncated trailing character. Nothing is replaced lossily.

use std::mem;

use super::{DEFAULT_MAX_EVENT_BYTES, DecodeError, find_cr_or_lf};

/// UTF-8 encoding of U+FEFF.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched Server-Sent Event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// Event type from the `event:` field; `None` means the default type `message`.
    pub event: Option<String>,
    /// Concatenated `data:` lines, joined with `\n`.
    pub data: String,
    /// Last event ID in effect when the event was dispatched (persists across events).
    pub id: Option<String>,
}

/// Push-based SSE decoder: feed network reads, collect complete events.
#[derive(Debug)]
pub struct SseDecoder {
    /// Cap for the pending line plus the event's data buffer.
    max: usize,
    /// Bytes of the current, not yet terminated line (at stream start: a BOM prefix).
    line: Vec<u8>,
    /// Data buffer of the event being assembled (each data line + `\n`).
    data: String,
    /// Event type buffer; empty means `message`.
    event: String,
    /// Last event ID.
    last_id: Option<String>,
    /// The previous read ended with CR: a LF at the start of the next read belongs to it.
    after_cr: bool,
    /// No byte of the body has been consumed yet (BOM detection pending).
    at_start: bool,
    /// Sticky error: once failed, the decoder refuses further input.
    error: Option<DecodeError>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl SseDecoder {
    /// Creates a decoder that fails with [`DecodeError::EventTooLarge`] once a
    /// pending line plus the current event's data exceed `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            max: max_event_bytes,
            line: Vec::new(),
            data: String::new(),
            event: String::new(),
            last_id: None,
            after_cr: false,
            at_start: true,
            error: None,
        }
    }

    /// Feed one network read; complete events are appended to `out`.
    ///
    /// After an error every further call returns the same error.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), DecodeError> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        let result = self.push_inner(chunk, out);
        if let Err(err) = &result {
            self.fail(err.clone());
        }
        result
    }

    /// End of body: dispatch a final event that had no blank line after it (if it has data), and report leftover invalid UTF-8.
    ///
    /// On success the decoder is reset (including the last event ID) and can
    /// decode a new body.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), DecodeError> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        let mut line = mem::take(&mut self.line);
        let result = if line.is_empty() {
            Ok(())
        } else {
            self.process_line(&line, out)
        };
        if let Err(err) = result {
            self.fail(err.clone());
            return Err(err);
        }
        self.dispatch(out);
        line.clear();
        self.line = line;
        self.data.clear();
        self.event.clear();
        self.last_id = None;
        self.after_cr = false;
        self.at_start = true;
        Ok(())
    }

    fn fail(&mut self, err: DecodeError) {
        self.error = Some(err);
        self.line = Vec::new();
        self.data = String::new();
        self.event = String::new();
    }

    fn push_inner(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), DecodeError> {
        let mut rest = chunk;
        if self.at_start {
            match self.skip_bom(rest) {
                Some(after) => rest = after,
                None => return Ok(()),
            }
        }
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if let Some(after) = rest.strip_prefix(b"\n") {
                rest = after;
            }
        }
        while let Some(pos) = find_cr_or_lf(rest) {
            let (line, tail) = rest.split_at(pos);
            rest = match tail {
                [b'\r', b'\n', after @ ..] => after,
                [b'\r'] => {
                    self.after_cr = true;
                    &[]
                }
                [_, after @ ..] => after,
                [] => &[],
            };
            if self.line.is_empty() {
                self.check(line.len())?;
                self.process_line(line, out)?;
            } else {
                self.check(self.line.len() + line.len())?;
                self.line.extend_from_slice(line);
                let mut buf = mem::take(&mut self.line);
                let result = self.process_line(&buf, out);
                buf.clear();
                self.line = buf;
                result?;
            }
        }
        if !rest.is_empty() {
            self.check(self.line.len() + rest.len())?;
            self.line.extend_from_slice(rest);
        }
        Ok(())
    }

    /// Consumes a (possibly split) leading BOM. Returns the bytes still to be
    /// parsed, or `None` when the whole read was stashed as a BOM prefix.
    fn skip_bom<'a>(&mut self, rest: &'a [u8]) -> Option<&'a [u8]> {
        if rest.is_empty() {
            return None;
        }
        let have = self.line.len();
        let need = BOM.len() - have;
        let n = need.min(rest.len());
        if rest.get(..n) != BOM.get(have..have + n) {
            // Not a BOM: any stashed bytes are ordinary line content.
            self.at_start = false;
            return Some(rest);
        }
        if n < need {
            self.line.extend_from_slice(rest);
            return None;
        }
        self.line.clear();
        self.at_start = false;
        rest.get(need..)
    }

    /// Fails if a line of `line_len` bytes plus the event data exceeds the cap.
    #[inline]
    fn check(&self, line_len: usize) -> Result<(), DecodeError> {
        if self.data.len().saturating_add(line_len) > self.max {
            Err(DecodeError::EventTooLarge { limit: self.max })
        } else {
            Ok(())
        }
    }

    /// Interprets one complete line (without its terminator).
    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), DecodeError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| DecodeError::InvalidUtf8)?;
        let (name, value) = match line.as_bytes().iter().position(|&b| b == b':') {
            Some(0) => return Ok(()), // comment
            Some(colon) => {
                let (name, value) = line.split_at(colon);
                let value = &value[1..];
                (name, value.strip_prefix(' ').unwrap_or(value))
            }
            None => (line, ""),
        };
        match name {
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            "id" if !value.contains('\0') => {
                self.last_id = (!value.is_empty()).then(|| value.to_owned());
            }
            _ => {} // `retry` and unknown fields are ignored
        }
        Ok(())
    }

    /// Blank line: emit the pending event if it has data, then reset the buffers.
    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.data.is_empty() {
            self.event.clear();
            return;
        }
        let data = self
            .data
            .strip_suffix('\n')
            .unwrap_or(&self.data)
            .to_owned();
        self.data.clear();
        let event = (!self.event.is_empty()).then(|| mem::take(&mut self.event));
        out.push(SseEvent {
            event,
            data,
            id: self.last_id.clone(),
        });
    }
}

#[cfg(test)]
#[path = "sse_tests.rs"]
mod tests;
