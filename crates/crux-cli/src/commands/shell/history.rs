//! The shell's history: the line-history file in the user's state dir, the `/history` listing of the conversation,
//! and the `/save FILE` Markdown transcript.

use std::fmt::Write as _;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crux_llm::Role;

use super::session::Session;
use crate::config::ProcessEnv;
use crate::store_config::state_dir;

/// `<state dir>/shell_history`, its directory created (0700); `None` when there is no home to put it in.
pub fn history_file() -> Option<PathBuf> {
    let dir = state_dir(&ProcessEnv).ok()?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .ok()?;
    Some(dir.join("shell_history"))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System | Role::Developer => "system",
        Role::User => "you",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

/// One line per message: number, role, and the text cut to `width` characters.
pub fn listing(session: &Session, width: usize) -> String {
    let mut s = String::new();
    if let Some(system) = &session.options.system {
        let _ = writeln!(
            s,
            "   system: {}",
            crate::output::preview(Some(system), width)
        );
    }
    if session.messages.is_empty() {
        s.push_str("(no messages yet)\n");
    }
    for (i, m) in session.messages.iter().enumerate() {
        let text = m.text_content();
        let _ = writeln!(
            s,
            "{:>3} {}: {}",
            i + 1,
            role_name(m.role),
            crate::output::preview(Some(&text), width)
        );
    }
    s
}

/// The conversation as Markdown: a header with the model, the system prompt, then each turn.
pub fn transcript(session: &Session) -> String {
    let mut s = String::from("# Crux shell transcript\n\n");
    let _ = writeln!(s, "- model: `{}`", session.model);
    let _ = writeln!(
        s,
        "- saved: {}",
        crate::output::when(crux_store::time::now_ms())
    );
    let t = session.totals;
    let _ = writeln!(
        s,
        "- tokens: {} in, {} out; cost ${:.6}\n",
        t.prompt, t.completion, t.cost_usd
    );
    if let Some(system) = &session.options.system {
        let _ = writeln!(s, "## System\n\n{system}\n");
    }
    let mut served = session.served_by.iter();
    for m in &session.messages {
        let text = m.text_content();
        match m.role {
            Role::Assistant => {
                let by = served
                    .next()
                    .map(|t| format!(" (`{t}`)"))
                    .unwrap_or_default();
                let _ = writeln!(s, "## Assistant{by}\n\n{}\n", text.trim_end());
            }
            role => {
                let title = if role == Role::User {
                    "User"
                } else {
                    "Message"
                };
                let _ = writeln!(s, "## {title}\n\n{}\n", text.trim_end());
            }
        }
    }
    s
}

/// Write the transcript to `path`.
pub fn save(session: &Session, path: &Path) -> Result<usize, String> {
    let text = transcript(session);
    std::fs::write(path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(session.messages.len())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crux_llm::Message;

    use super::*;

    #[test]
    fn transcript_has_each_turn() {
        let client = crux_llm::Client::builder().build().unwrap();
        let router = crux_llm::Router::new(client, crux_llm::RouterConfig::default());
        let mut s = Session::new(router, "openai/gpt-4o-mini", BTreeMap::new()).unwrap();
        s.options.system = Some("be brief".into());
        let target = "openai/gpt-4o-mini".parse().unwrap();
        s.record(
            "hi",
            Message::assistant("hello"),
            target,
            Default::default(),
        );
        let md = transcript(&s);
        assert!(md.starts_with("# Crux shell transcript"), "{md}");
        assert!(md.contains("## System\n\nbe brief"), "{md}");
        assert!(md.contains("## User\n\nhi"), "{md}");
        assert!(
            md.contains("## Assistant (`openai/gpt-4o-mini`)\n\nhello"),
            "{md}"
        );
        let list = listing(&s, 40);
        assert!(
            list.contains("1 you: hi") && list.contains("2 assistant: hello"),
            "{list}"
        );
    }
}
