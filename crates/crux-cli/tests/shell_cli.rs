//! End-to-end tests of `crux shell`: scripted through piped stdin against `crux mock` (slash commands, streamed and
//! whole turns, multi-turn memory, `/save`, errors, aliases, the remembered model), and one interactive run under
//! tmux that shows tokens streaming and Ctrl-C cancelling a generation without leaving the shell.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod store_cli_support;

use std::process::{Command, Output};
use std::time::Duration;

use crux_mock::MockServer;
use store_cli_support::{Sandbox, StdinText, stderr, stdout};

fn shell(sb: &Sandbox, mock: &MockServer, args: &[&str], input: &str) -> Output {
    tokio::task::block_in_place(|| {
        sb.cmd()
            .env("OPENAI_BASE_URL", format!("{}/v1", mock.url()))
            .env("OPENAI_API_KEY", "test-key")
            .arg("shell")
            .args(args)
            .stdin_text(input)
            .unwrap()
    })
}

fn chat_bodies(mock: &MockServer) -> Vec<serde_json::Value> {
    mock.requests()
        .into_iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .map(|r| r.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_turns_commands_and_save() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let md = sb.dir.path().join("chat.md");
    let input = format!(
        "hello there\n/usage\nand again\n/history\n/save {}\n/quit\nnot sent\n",
        md.display()
    );
    let out = shell(&sb, &mock, &["openai/gpt-4o-mini"], &input);
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{se}");
    assert!(so.contains("Mock reply: hello there"), "{so}");
    assert!(so.contains("Mock reply: and again"), "{so}");
    assert!(so.contains("turns: 1  tokens:"), "{so}");
    assert!(so.contains("  3 you: and again"), "{so}");
    assert!(so.contains("saved 4 message(s)"), "{so}");
    assert!(!so.contains("not sent"), "{so}");
    let bodies = chat_bodies(&mock);
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies[0]["stream"], true);
    // The second turn carries the first one: multi-turn memory.
    let messages = bodies[1]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(messages[1]["content"], "Mock reply: hello there");
    let transcript = std::fs::read_to_string(&md).unwrap();
    assert!(
        transcript.starts_with("# Crux shell transcript"),
        "{transcript}"
    );
    assert!(
        transcript.contains("## User\n\nhello there"),
        "{transcript}"
    );
    assert!(
        transcript.contains("## Assistant (`openai/gpt-4o-mini`)\n\nMock reply: and again"),
        "{transcript}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_multiline_and_unstreamed_turns() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let input =
        "/system be brief\n/temperature 0.5\n/max-tokens 20\n/stream off\nline one \\\nline two\n";
    let out = shell(&sb, &mock, &["openai/gpt-4o-mini"], input);
    let so = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(so.contains("stream: off"), "{so}");
    assert!(so.contains("Mock reply: line one \nline two"), "{so}");
    let body = &chat_bodies(&mock)[0];
    assert!(
        body.get("stream").is_none() || body["stream"] == false,
        "{body}"
    );
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][0]["content"], "be brief");
    assert_eq!(body["messages"][1]["content"], "line one \nline two");
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["max_completion_tokens"], 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_print_one_line_and_the_shell_carries_on() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let input = "[[mock status=500]] boom\n/bogus\n/temperature 7\n/model nope/x\nstill here\n";
    let out = shell(&sb, &mock, &["openai/gpt-4o-mini"], input);
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{se}");
    let errors: Vec<&str> = se.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 4, "{se}");
    assert!(
        errors[0].contains("500") && errors[0].contains("server_error"),
        "{se}"
    );
    assert!(errors[1].contains("unknown command /bogus"), "{se}");
    assert!(
        errors[3].contains("openai") && errors[3].contains("mistral"),
        "{se}"
    );
    assert!(!se.contains("\x1b["), "no colour in a pipe: {se:?}");
    assert!(so.contains("Mock reply: still here"), "{so}");
    // The failed turn was not kept: the next request has only the new message.
    let bodies = chat_bodies(&mock);
    assert_eq!(
        bodies.last().unwrap()["messages"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_fall_back_and_the_last_model_is_remembered() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let config = sb.dir.path().join("crux.toml");
    // groq has no key here, so the alias falls back to openai through the library router.
    std::fs::write(
        &config,
        "[routes.smart]\ntargets = [\"groq/llama-3.3-70b-versatile\", \"openai/gpt-4o\"]\n",
    )
    .unwrap();
    let input = "/model smart\nhi\n";
    let out = shell(&sb, &mock, &[], input);
    let so = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        so.contains("model: smart (alias: groq/llama-3.3-70b-versatile → openai/gpt-4o)"),
        "{so}"
    );
    assert!(so.contains("Mock reply: hi"), "{so}");
    assert_eq!(chat_bodies(&mock)[0]["model"], "gpt-4o");
    // A new shell starts on the remembered model.
    let out = shell(&sb, &mock, &[], "/model\n");
    assert!(stdout(&out).contains("model: smart"), "{}", stdout(&out));
}

/// Near the model's limit the shell prunes its own conversation (oldest turns first, system prompt kept) and says so
/// in one line. The `[guard]` here only sets a small window and keeps the default action (refuse): without the
/// shell's pruning the router would answer 413 by the third turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_prunes_its_conversation_near_the_limit() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    std::fs::write(
        sb.dir.path().join("crux.toml"),
        "[guard.models.\"openai/gpt-4o-mini\"]\nlimit = 160\nreserve = 20\n",
    )
    .unwrap();
    let turns: Vec<String> = (0..6)
        .map(|i| format!("turn {i} {}", "lorem ipsum dolor sit amet ".repeat(4)))
        .collect();
    let input = format!("/system be brief\n{}\n", turns.join("\n"));
    let out = shell(&sb, &mock, &["openai/gpt-4o-mini", "--no-stream"], &input);
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{se}");
    assert!(!se.contains("error:"), "every turn is answered: {se}");
    for i in 0..6 {
        assert!(so.contains(&format!("Mock reply: turn {i} ")), "{so}");
    }
    let notes: Vec<&str> = se.lines().filter(|l| l.starts_with("[pruned ")).collect();
    assert!(!notes.is_empty(), "{se}");
    assert!(notes[0].contains("older message(s) to fit"), "{se}");
    let bodies = chat_bodies(&mock);
    assert_eq!(bodies.len(), 6);
    let last = bodies[5]["messages"].as_array().unwrap();
    assert!(last.len() < 12, "pruned: {last:?}");
    assert_eq!(last[0]["role"], "system");
    assert_eq!(last[0]["content"], "be brief");
    assert_eq!(
        last[1]["role"], "user",
        "the kept conversation starts with a user turn"
    );
    assert!(
        last.last().unwrap()["content"]
            .as_str()
            .unwrap()
            .starts_with("turn 5 ")
    );
    assert!(!last.iter().any(|m| {
        m["content"]
            .as_str()
            .is_some_and(|c| c.starts_with("turn 0 "))
    }));
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }
    fn send(&self, keys: &[&str]) {
        let st = self
            .cmd()
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .unwrap();
        assert!(st.success());
    }
    fn pane(&self) -> String {
        let out = self
            .cmd()
            .args([
                "capture-pane",
                "-p",
                "-J",
                "-S",
                "-200",
                "-t",
                &self.session,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// Polls the pane (at most ~60 s) until `done` holds; returns the pane text.
    fn wait(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let mut text = String::new();
        for _ in 0..1200 {
            text = self.pane();
            if done(&text) {
                return text;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("tmux: timed out waiting for {what}; pane:\n{text}");
    }
    fn alive(&self) -> bool {
        self.cmd()
            .args(["has-session", "-t", &self.session])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

/// Whether an answer line (not the typed prompt) in the pane contains `word`.
fn replied(pane: &str, word: &str) -> bool {
    pane.lines()
        .filter(|l| l.contains("Mock reply:"))
        .any(|l| l.contains(word))
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_streaming_and_ctrl_c_under_tmux() {
    if !tmux_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is required in CI (.ci/run installs it)"
        );
        println!("note: tmux not installed; the interactive shell test is skipped");
        return;
    }
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let env = [
        ("HOME", sb.dir.path().display().to_string()),
        (
            "XDG_CONFIG_HOME",
            sb.dir.path().join("config").display().to_string(),
        ),
        (
            "XDG_DATA_HOME",
            sb.dir.path().join("data").display().to_string(),
        ),
        (
            "XDG_STATE_HOME",
            sb.dir.path().join("state").display().to_string(),
        ),
        ("CRUX_DATABASE_URL", sb.url()),
        ("CRUX_LOG", "error".to_owned()),
        ("OPENAI_BASE_URL", format!("{}/v1", mock.url())),
        ("OPENAI_API_KEY", "test-key".to_owned()),
        ("TERM", "xterm".to_owned()),
    ];
    let mut line = String::from("exec env -i PATH=/usr/bin:/bin");
    for (k, v) in &env {
        line.push_str(&format!(" {k}={}", quote(v)));
    }
    line.push_str(&format!(
        " {} shell openai/gpt-4o-mini",
        quote(env!("CARGO_BIN_EXE_crux"))
    ));
    let tmux = Tmux {
        socket: format!("crux-test-{}", std::process::id()),
        session: "shell".to_owned(),
    };
    let st = tmux
        .cmd()
        .args([
            "new-session",
            "-d",
            "-s",
            "shell",
            "-x",
            "120",
            "-y",
            "40",
            &line,
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let prompt = "openai/gpt-4o-mini> ";
    tmux.wait("the prompt", |p| p.contains(prompt));

    // Ctrl-C at the prompt clears the line and keeps the shell.
    tmux.send(&["-l", "half typed"]);
    tmux.wait("typed text", |p| p.contains("half typed"));
    tmux.send(&["C-c"]);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        tmux.alive(),
        "Ctrl-C at the prompt must not leave the shell"
    );

    // A paced stream: the first words show while the rest are still coming.
    let words: Vec<String> = (1..=40).map(|i| format!("w{i:02}")).collect();
    tmux.send(&["-l", &format!("[[mock delay=400]] {}", words.join(" "))]);
    tmux.send(&["Enter"]);
    let partial = tmux.wait("streamed tokens", |p| replied(p, "w02"));
    assert!(
        !replied(&partial, "w40"),
        "the whole answer arrived at once:\n{partial}"
    );

    // Ctrl-C cancels the generation: the upstream request is dropped and the shell is back at its prompt.
    tmux.send(&["C-c"]);
    let pane = tmux.wait("the cancel note", |p| p.contains("[cancelled]"));
    assert!(!replied(&pane, "w40"), "{pane}");
    assert!(
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current()
                .block_on(mock.wait_for_streams(1, Duration::from_secs(30)))
        }),
        "no stream record"
    );
    assert!(
        mock.streams()[0].client_disconnected,
        "{:?}",
        mock.streams()
    );
    assert!(!mock.streams()[0].completed);

    // Still usable: a normal turn, and the cancelled one was not kept.
    tmux.send(&["-l", "after cancel"]);
    tmux.send(&["Enter"]);
    tmux.wait("the next answer", |p| {
        p.contains("Mock reply: after cancel")
    });
    // A paste with a newline is one message (bracketed paste), sent on Enter.
    let st = tmux
        .cmd()
        .args(["set-buffer", "pasted one\npasted two"])
        .status()
        .unwrap();
    assert!(st.success());
    let st = tmux
        .cmd()
        .args(["paste-buffer", "-p", "-t", &tmux.session])
        .status()
        .unwrap();
    assert!(st.success());
    tmux.wait("the pasted text", |p| p.contains("pasted two"));
    tmux.send(&["Enter"]);
    tmux.wait("the answer to the paste", |p| {
        p.contains("Mock reply: pasted one")
    });
    let last = mock.requests().last().unwrap().body["messages"].clone();
    assert_eq!(
        last.as_array().unwrap().last().unwrap()["content"],
        "pasted one\npasted two"
    );
    tmux.send(&["-l", "/usage"]);
    tmux.send(&["Enter"]);
    tmux.wait("usage", |p| p.contains("turns: 2 "));

    // Tab completes slash commands.
    tmux.send(&["-l", "/hist"]);
    tmux.send(&["Tab"]);
    tmux.wait("completion", |p| p.contains(&format!("{prompt}/history")));
    tmux.send(&["Enter"]);
    tmux.wait("the history listing", |p| {
        p.contains("2 assistant: Mock reply: after cancel")
    });

    // Ctrl-D exits and the history file has the lines typed.
    tmux.send(&["C-d"]);
    for _ in 0..600 {
        if !tmux.alive() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!tmux.alive(), "Ctrl-D should exit the shell");
    let history = std::fs::read_to_string(sb.dir.path().join("state/crux/shell_history")).unwrap();
    assert!(
        history.contains("after cancel") && history.contains("/usage"),
        "{history}"
    );
}
