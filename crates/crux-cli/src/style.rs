//! Terminal styling: colour only when the stream is a terminal and `NO_COLOR` is unset; plain text in pipes.

use std::io::IsTerminal;

use crate::config::{ProcessEnv, no_color};

/// Whether to colour one output stream.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    /// Styling for stdout.
    pub fn stdout() -> Style {
        Style::when(std::io::stdout().is_terminal())
    }

    /// Styling for stderr.
    pub fn stderr() -> Style {
        Style::when(std::io::stderr().is_terminal())
    }

    /// Colour when `terminal` and `NO_COLOR` is not set.
    pub fn when(terminal: bool) -> Style {
        Style {
            on: terminal && !no_color(&ProcessEnv),
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Errors.
    pub fn red(self, text: &str) -> String {
        self.paint("31", text)
    }

    /// Success.
    pub fn green(self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Secondary information (status lines, hints).
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Emphasis.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_has_no_escapes() {
        assert_eq!(Style { on: false }.red("x"), "x");
        assert_eq!(Style { on: true }.red("x"), "\x1b[31mx\x1b[0m");
    }
}
