//! The shell's slash commands: `/provider`, `/model`, `/system`, `/stream`, `/temperature`, `/max-tokens`,
//! `/history`, `/clear`, `/save`, `/usage`, `/help`, `/quit`. Each either changes the session or prints, on
//! stdout; a bad argument is an `Err` with the one-line message the shell prints in red.

use std::io::Write;
use std::path::Path;

use crux_llm::ProviderId;

use super::history;
use super::session::Session;
use super::ui::say;

/// What the shell does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Keep reading.
    Continue,
    /// The model changed (remember it, refresh completion).
    ModelChanged,
    /// Leave the shell.
    Quit,
}

const HELP: &str = "\
Type a message to chat; end a line with \\ to continue on the next. Ctrl-C cancels a generation, Ctrl-D exits.
  /provider [ID]           switch to a provider's default model (no ID: list providers)
  /model [NAME]            switch model: PROVIDER/MODEL, an alias, or a model of the current provider
  /system [TEXT|clear]     set, show or clear the system prompt
  /stream [on|off]         print tokens as they arrive (default on)
  /temperature [T|off]     sampling temperature, 0 to 2
  /max-tokens [N|off]      upper bound on generated tokens
  /history                 the conversation so far
  /clear                   forget the conversation
  /save FILE               write the conversation as Markdown
  /usage                   tokens and cost of this session
  /help                    this list
  /quit                    leave (also /exit, Ctrl-D)";

/// Run the slash command in `line` (which starts with `/`).
pub fn run(line: &str, session: &mut Session, out: &mut impl Write) -> Result<Outcome, String> {
    let line = line.trim();
    let (name, arg) = match line.split_once(char::is_whitespace) {
        Some((n, a)) => (n, Some(a.trim()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    match name {
        "/help" | "/?" => say(out, HELP),
        "/quit" | "/exit" => return Ok(Outcome::Quit),
        "/provider" => match arg {
            Some(p) => {
                session.set_provider(p)?;
                say(out, &format!("model: {}", session.model));
                return Ok(Outcome::ModelChanged);
            }
            None => say(out, &providers(session)),
        },
        "/model" => match arg {
            Some(m) => {
                session.set_model(m)?;
                say(out, &format!("model: {}", describe(session)));
                return Ok(Outcome::ModelChanged);
            }
            None => say(out, &format!("model: {}", describe(session))),
        },
        "/system" => match arg {
            Some("clear" | "off") => {
                session.options.system = None;
                say(out, "system prompt cleared");
            }
            Some(text) => {
                session.options.system = Some(text.to_owned());
                say(out, "system prompt set");
            }
            None => say(
                out,
                &format!(
                    "system: {}",
                    session.options.system.as_deref().unwrap_or("(none)")
                ),
            ),
        },
        "/stream" => {
            match arg {
                Some("on") => session.options.stream = true,
                Some("off") => session.options.stream = false,
                Some(other) => return Err(format!("/stream takes on or off, not '{other}'")),
                None => {}
            }
            let state = if session.options.stream { "on" } else { "off" };
            say(out, &format!("stream: {state}"));
        }
        "/temperature" => {
            match arg {
                Some("off") => session.options.temperature = None,
                Some(t) => {
                    let t: f32 = t
                        .parse()
                        .ok()
                        .filter(|t| (0.0..=2.0).contains(t))
                        .ok_or_else(|| {
                            format!("/temperature takes a number from 0 to 2 or off, not '{t}'")
                        })?;
                    session.options.temperature = Some(t);
                }
                None => {}
            }
            let t = session.options.temperature;
            say(
                out,
                &format!(
                    "temperature: {}",
                    t.map_or("default".to_owned(), |t| t.to_string())
                ),
            );
        }
        "/max-tokens" => {
            match arg {
                Some("off") => session.options.max_tokens = None,
                Some(n) => {
                    let n: u32 = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("/max-tokens takes a whole number of at least 1 or off, not '{n}'")
                    })?;
                    session.options.max_tokens = Some(n);
                }
                None => {}
            }
            let n = session.options.max_tokens;
            say(
                out,
                &format!(
                    "max tokens: {}",
                    n.map_or("default".to_owned(), |n| n.to_string())
                ),
            );
        }
        "/history" => say(out, &history::listing(session, 100)),
        "/clear" => {
            session.clear();
            say(out, "conversation cleared");
        }
        "/save" => {
            let path = arg.ok_or("/save needs a file name, e.g. /save chat.md")?;
            let n = history::save(session, Path::new(path))?;
            say(out, &format!("saved {n} message(s) to {path}"));
        }
        "/usage" => say(out, &usage(session)),
        other => return Err(format!("unknown command {other}: /help lists the commands")),
    }
    Ok(Outcome::Continue)
}

fn describe(session: &Session) -> String {
    if session.route.alias {
        let targets: Vec<String> = session
            .route
            .targets
            .iter()
            .map(ToString::to_string)
            .collect();
        format!("{} (alias: {})", session.model, targets.join(" → "))
    } else {
        session.model.clone()
    }
}

fn providers(session: &Session) -> String {
    let client = session.router.client();
    let mut s = format!("provider: {}\n", session.provider());
    for p in ProviderId::all() {
        let spec = p.spec();
        let key = if spec.key_env.is_empty() {
            "no key needed".to_owned()
        } else if client.has_key(p) {
            "key set".to_owned()
        } else {
            format!("no key: set {} or run `crux keys set {p}`", spec.key_env[0])
        };
        s.push_str(&format!("  {:<11} {key}\n", p.as_str()));
    }
    s
}

fn usage(session: &Session) -> String {
    let t = session.totals;
    let mut s = format!(
        "turns: {}  tokens: {} in / {} out  cost: ${:.6}",
        t.turns, t.prompt, t.completion, t.cost_usd
    );
    if t.unpriced > 0 {
        s.push_str(&format!(" ({} turn(s) without a known price)", t.unpriced));
    }
    s
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn session() -> Session {
        let client = crux_llm::Client::builder().build().unwrap();
        let router = crux_llm::Router::new(client, crux_llm::RouterConfig::default());
        Session::new(router, "openai/gpt-4o-mini", BTreeMap::new()).unwrap()
    }

    fn run_text(s: &mut Session, line: &str) -> (Result<Outcome, String>, String) {
        let mut out = Vec::new();
        let r = run(line, s, &mut out);
        (r, String::from_utf8(out).unwrap())
    }

    #[test]
    fn commands_change_the_session() {
        let mut s = session();
        assert_eq!(run_text(&mut s, "/stream off").0, Ok(Outcome::Continue));
        assert!(!s.options.stream);
        run_text(&mut s, "/temperature 0.5").0.unwrap();
        assert_eq!(s.options.temperature, Some(0.5));
        assert!(run_text(&mut s, "/temperature 9").0.is_err());
        run_text(&mut s, "/max-tokens 12").0.unwrap();
        assert_eq!(s.options.max_tokens, Some(12));
        assert!(run_text(&mut s, "/max-tokens 0").0.is_err());
        run_text(&mut s, "/system   be brief ").0.unwrap();
        assert_eq!(s.options.system.as_deref(), Some("be brief"));
        assert_eq!(
            run_text(&mut s, "/model gpt-4o").0,
            Ok(Outcome::ModelChanged)
        );
        assert_eq!(s.model, "openai/gpt-4o");
        let (r, text) = run_text(&mut s, "/usage");
        assert!(r.is_ok() && text.contains("turns: 0"), "{text}");
        assert!(run_text(&mut s, "/bogus").0.unwrap_err().contains("/help"));
        assert_eq!(run_text(&mut s, "/quit").0, Ok(Outcome::Quit));
        let (_, help) = run_text(&mut s, "/help");
        for c in super::super::complete::COMMANDS {
            assert!(help.contains(c), "{c} missing from /help");
        }
    }
}
