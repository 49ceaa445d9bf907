//! The shell's terminal side: a rustyline editor (history file, completion, multi-line input, Ctrl-C clears the
//! line, Ctrl-D exits) when stdin is a terminal, plain line reading when it is not (scripts, pipes), and the
//! one-line messages the shell prints.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use super::complete::{ShellHelper, join_continuations};
use crate::exit::Failure;
use crate::style::Style;

/// What one read produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// A complete input (continued lines joined).
    Line(String),
    /// Ctrl-C at the prompt: the line was discarded.
    Interrupted,
    /// Ctrl-D or the end of stdin.
    Eof,
}

/// Where input comes from.
pub enum Input {
    /// An interactive editor.
    Editor {
        /// The editor.
        editor: Box<Editor<ShellHelper, FileHistory>>,
        /// The history file, when there is a state dir.
        history: Option<PathBuf>,
    },
    /// Lines from a non-terminal stdin.
    Plain(std::io::StdinLock<'static>),
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Editor { history, .. } => {
                f.debug_struct("Editor").field("history", history).finish()
            }
            Input::Plain(_) => f.write_str("Plain"),
        }
    }
}

impl Input {
    /// An editor when stdin is a terminal (history loaded from `history`), else plain lines.
    pub fn open(history: Option<PathBuf>) -> Result<Input, Failure> {
        if !std::io::stdin().is_terminal() {
            return Ok(Input::Plain(std::io::stdin().lock()));
        }
        let config = Config::builder()
            .auto_add_history(false)
            .history_ignore_dups(true)
            .map_err(|e| Failure::runtime(format!("cannot start the line editor: {e}")))?
            .max_history_size(2000)
            .map_err(|e| Failure::runtime(format!("cannot start the line editor: {e}")))?
            .completion_type(CompletionType::List)
            .bracketed_paste(true)
            .build();
        let mut editor: Editor<ShellHelper, FileHistory> = Editor::with_config(config)
            .map_err(|e| Failure::runtime(format!("cannot start the line editor: {e}")))?;
        editor.set_helper(Some(ShellHelper::default()));
        if let Some(path) = &history
            && path.exists()
        {
            let _ = editor.load_history(path);
        }
        Ok(Input::Editor {
            editor: Box::new(editor),
            history,
        })
    }

    /// Whether this is the interactive editor.
    pub fn interactive(&self) -> bool {
        matches!(self, Input::Editor { .. })
    }

    /// Replace what the editor completes from.
    pub fn set_completions(&mut self, helper: ShellHelper) {
        if let Input::Editor { editor, .. } = self
            && let Some(h) = editor.helper_mut()
        {
            *h = helper;
        }
    }

    /// Read one input (blocking). Plain input joins lines that end in `\` as the editor does.
    pub fn read(&mut self, prompt: &str) -> Result<Read, Failure> {
        match self {
            Input::Editor { editor, .. } => match editor.readline(prompt) {
                Ok(line) => Ok(Read::Line(join_continuations(&line))),
                Err(ReadlineError::Interrupted) => Ok(Read::Interrupted),
                Err(ReadlineError::Eof) => Ok(Read::Eof),
                Err(e) => Err(Failure::runtime(format!("cannot read input: {e}"))),
            },
            Input::Plain(stdin) => {
                let mut text = String::new();
                loop {
                    let mut line = String::new();
                    let n = stdin
                        .read_line(&mut line)
                        .map_err(|e| Failure::runtime(format!("cannot read stdin: {e}")))?;
                    if n == 0 {
                        return Ok(if text.is_empty() {
                            Read::Eof
                        } else {
                            Read::Line(text)
                        });
                    }
                    let line = line.trim_end_matches(['\n', '\r']);
                    match line.strip_suffix('\\') {
                        Some(head) => {
                            text.push_str(head);
                            text.push('\n');
                        }
                        None => {
                            text.push_str(line);
                            return Ok(Read::Line(text));
                        }
                    }
                }
            }
        }
    }

    /// Add `line` to the history file (interactive only).
    pub fn remember(&mut self, line: &str) {
        if let Input::Editor { editor, history } = self {
            let _ = editor.add_history_entry(line);
            if let Some(path) = history {
                let _ = editor.append_history(path);
            }
        }
    }
}

/// One red `error: …` line on stderr.
pub fn error_line(message: &str) {
    let style = Style::stderr();
    eprintln!("{}", style.red(&format!("error: {message}")));
}

/// One dim line on stderr (status after a turn, notes).
pub fn note_line(message: &str) {
    let style = Style::stderr();
    eprintln!("{}", style.dim(message));
}

/// A line on stdout (command output).
pub fn say(out: &mut impl Write, message: &str) {
    let _ = writeln!(out, "{}", message.trim_end_matches('\n'));
    let _ = out.flush();
}
