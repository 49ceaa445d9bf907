//! Tab completion and line validation for the shell's editor: slash commands, provider ids after `/provider`, model
//! ids (registry and aliases) after `/model`, `on|off` after `/stream`; a trailing `\` continues the input on a new
//! line.

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

/// The slash commands, as completed and listed by `/help`.
pub const COMMANDS: &[&str] = &[
    "/clear",
    "/exit",
    "/help",
    "/history",
    "/max-tokens",
    "/model",
    "/provider",
    "/quit",
    "/save",
    "/stream",
    "/system",
    "/temperature",
    "/usage",
];

/// What the editor completes from.
#[derive(Debug, Default, Clone)]
pub struct ShellHelper {
    /// Provider ids.
    pub providers: Vec<String>,
    /// Model names: aliases, `provider/model` ids, the current provider's bare ids.
    pub models: Vec<String>,
}

impl ShellHelper {
    /// Candidates for `line` (the text before the cursor): the start of the word being completed and the
    /// replacements for it.
    pub fn candidates(&self, line: &str) -> (usize, Vec<String>) {
        let starting = |words: &[String], prefix: &str| -> Vec<String> {
            words
                .iter()
                .filter(|w| w.starts_with(prefix))
                .cloned()
                .collect()
        };
        let Some((command, rest)) = line.split_once(' ') else {
            if !line.starts_with('/') {
                return (0, Vec::new());
            }
            let all: Vec<String> = COMMANDS.iter().map(|c| (*c).to_owned()).collect();
            return (0, starting(&all, line));
        };
        let start = command.len() + 1 + (rest.len() - rest.trim_start().len());
        let word = rest.trim_start();
        if word.contains(' ') {
            return (start, Vec::new());
        }
        let found = match command {
            "/provider" => starting(&self.providers, word),
            "/model" => starting(&self.models, word),
            "/stream" => starting(&["on".to_owned(), "off".to_owned()], word),
            _ => Vec::new(),
        };
        (start, found)
    }
}

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let before = line.get(..pos).unwrap_or(line);
        Ok(self.candidates(before))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Validator for ShellHelper {
    /// A line ending in `\` is continued: the editor inserts a newline and keeps reading.
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        if ctx.input().ends_with('\\') {
            Ok(ValidationResult::Incomplete)
        } else {
            Ok(ValidationResult::Valid(None))
        }
    }
}

impl Helper for ShellHelper {}

/// Joins continued lines: each `\` at the end of a line becomes a plain newline.
pub fn join_continuations(text: &str) -> String {
    text.replace("\\\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_commands_providers_and_models() {
        let h = ShellHelper {
            providers: vec!["openai".into(), "ollama".into(), "anthropic".into()],
            models: vec![
                "openai/gpt-4o".into(),
                "openai/gpt-4o-mini".into(),
                "smart".into(),
            ],
        };
        assert_eq!(h.candidates("/mo"), (0, vec!["/model".to_owned()]));
        assert_eq!(
            h.candidates("/provider o"),
            (10, vec!["openai".to_owned(), "ollama".to_owned()])
        );
        assert_eq!(
            h.candidates("/model openai/gpt-4o-").1,
            vec!["openai/gpt-4o-mini"]
        );
        assert_eq!(h.candidates("/stream o").1, vec!["on", "off"]);
        assert!(h.candidates("hello").1.is_empty());
        assert_eq!(join_continuations("a\\\nb"), "a\nb");
    }
}
