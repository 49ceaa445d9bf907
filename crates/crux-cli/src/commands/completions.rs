//! `crux completions bash|zsh|fish`: the shell completion script for every command and flag, on stdout.

use clap::{Args, ValueEnum};
use clap_complete::Shell;

use crate::exit::Failure;
use crate::output::io_failure;

/// Arguments of `crux completions`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  crux completions bash > ~/.local/share/bash-completion/completions/crux\n  crux completions zsh > ~/.zfunc/_crux        # with fpath+=~/.zfunc before compinit\n  crux completions fish > ~/.config/fish/completions/crux.fish"
)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    pub shell: CompletionShell,
}

/// Shells with a completion script.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CompletionShell {
    /// GNU Bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

/// Write the script for `args.shell` describing `command` (the whole `crux` command line).
pub fn run(args: &CompletionsArgs, mut command: clap::Command) -> Result<(), Failure> {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "crux", &mut script);
    std::io::Write::write_all(&mut std::io::stdout().lock(), &script).map_err(io_failure)
}
