//! Incremental newline-delimited JSON (NDJSON) line splitter, as used by Ollama's native API.
//!
//! Lines end with `\n`; a trailing `\r` is stripped; blank lines (only spaces,
//! tabs or `\r`) are skipped. Lines are validated as UTF-8 (an invalid line is
//! [`DecodeError::InvalidUtf8`]) but not parsed as JSON.

use std::mem;

use super::{DEFAULT_MAX_EVENT_BYTES, DecodeError, find_lf};

/// Push-based NDJSON decoder: feed network reads, collect complete lines.
#[derive(Debug)]
pub struct NdjsonDecoder {
    /// Cap for one line (excluding its `\n`).
    max: usize,
    /// Bytes of the current, not yet terminated line.
    line: Vec<u8>,
    /// Sticky error: once failed, the decoder refuses further input.
    error: Option<DecodeError>,
}

impl Default for NdjsonDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl NdjsonDecoder {
    /// Creates a decoder that fails with [`DecodeError::EventTooLarge`] once a
    /// line grows beyond `max_line_bytes`.
    pub fn new(max_line_bytes: usize) -> Self {
        Self {
            max: max_line_bytes,
            line: Vec::new(),
            error: None,
        }
    }

    /// Complete non-blank lines (without the line terminator; a trailing "\r" stripped) appended to `out`.
    ///
    /// After an error every further call returns the same error.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<String>) -> Result<(), DecodeError> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        let result = self.push_inner(chunk, out);
        if let Err(err) = &result {
            self.fail(err.clone());
        }
        result
    }

    /// End of body: a final line without "\n" is emitted.
    ///
    /// On success the decoder is reset and can decode a new body.
    pub fn finish(&mut self, out: &mut Vec<String>) -> Result<(), DecodeError> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        let mut line = mem::take(&mut self.line);
        let result = self.emit(&line, out);
        line.clear();
        self.line = line;
        if let Err(err) = &result {
            self.fail(err.clone());
        }
        result
    }

    fn fail(&mut self, err: DecodeError) {
        self.error = Some(err);
        self.line = Vec::new();
    }

    fn push_inner(&mut self, chunk: &[u8], out: &mut Vec<String>) -> Result<(), DecodeError> {
        let mut rest = chunk;
        while let Some(pos) = find_lf(rest) {
            let (line, tail) = rest.split_at(pos);
            rest = tail.get(1..).unwrap_or_default();
            if self.line.is_empty() {
                self.emit(line, out)?;
            } else {
                self.check(self.line.len() + line.len())?;
                self.line.extend_from_slice(line);
                let mut buf = mem::take(&mut self.line);
                let result = self.emit(&buf, out);
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

    #[inline]
    fn check(&self, line_len: usize) -> Result<(), DecodeError> {
        if line_len > self.max {
            Err(DecodeError::EventTooLarge { limit: self.max })
        } else {
            Ok(())
        }
    }

    /// Emits one complete line (without `\n`) unless it is blank.
    fn emit(&self, line: &[u8], out: &mut Vec<String>) -> Result<(), DecodeError> {
        self.check(line.len())?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(|&b| matches!(b, b' ' | b'\t' | b'\r')) {
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| DecodeError::InvalidUtf8)?;
        out.push(line.to_owned());
        Ok(())
    }
}

#[cfg(test)]
#[path = "ndjson_tests.rs"]
mod tests;
