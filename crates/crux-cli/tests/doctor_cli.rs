//! `crux doctor` and `crux completions` end to end: a fresh machine fails with the fix to apply and passes once it
//! is applied; the vault key against stored keys; `--online` against `crux mock`; a broken config is reported; the
//! `--json` shape; completion scripts for bash, zsh and fish.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod store_cli_support;

use serde_json::Value;
use store_cli_support::{Sandbox, stderr, stdout};

fn doc(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}

fn check<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {doc}"))
}

#[test]
fn a_fresh_machine_is_told_what_to_set_and_then_passes() {
    let sb = Sandbox::new();
    let out = sb.run(&["doctor", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let d = doc(&out);
    assert_eq!(d["ok"], false);
    for c in d["checks"].as_array().unwrap() {
        assert!(c["check"].is_string() && c["detail"].is_string(), "{c}");
        assert!(
            ["ok", "warn", "fail"].contains(&c["status"].as_str().unwrap()),
            "{c}"
        );
        if c["status"] != "ok" {
            assert!(c["fix"].is_string(), "a problem without a fix: {c}");
        }
    }
    let providers = check(&d, "providers");
    assert_eq!(providers["status"], "fail");
    assert!(
        providers["fix"]
            .as_str()
            .unwrap()
            .contains("OPENAI_API_KEY"),
        "{providers}"
    );
    assert_eq!(check(&d, "config")["status"], "ok");
    assert_eq!(check(&d, "store")["status"], "ok");
    assert_eq!(check(&d, "vault key")["status"], "warn");
    // The doctor does not create the store it checks.
    assert!(!sb.db_path().exists());

    // The table for people says the same, with a ✗ and its fix, and one error line on stderr.
    let out = sb.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("✗  providers") && text.contains("export OPENAI_API_KEY"),
        "{text}"
    );
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));

    // Once the key is set, it passes.
    let out = sb
        .cmd()
        .env("OPENAI_API_KEY", "sk-test")
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let d = doc(&out);
    assert_eq!(d["ok"], true);
    assert_eq!(check(&d, "key openai")["detail"], "from OPENAI_API_KEY");
    assert!(
        stdout(
            &sb.cmd()
                .env("OPENAI_API_KEY", "k")
                .arg("doctor")
                .output()
                .unwrap()
        )
        .contains("all checks passed")
    );
}

#[test]
fn vault_key_must_open_the_stored_keys() {
    let sb = Sandbox::new();
    assert!(sb.run(&["keys", "init"]).status.success());
    let set = sb.run_stdin(
        &["keys", "set", "anthropic", "--stdin"],
        "sk-ant-test-key-123456\n",
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let out = sb.run(&["doctor", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let d = doc(&out);
    assert!(
        check(&d, "vault key")["detail"]
            .as_str()
            .unwrap()
            .contains("decrypts all 1"),
        "{d}"
    );
    assert_eq!(check(&d, "key anthropic")["detail"], "from the vault");
    assert_eq!(check(&d, "migrations")["status"], "ok");

    // Another vault key cannot open them: a failure with the fix.
    let other = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let out = sb
        .cmd()
        .env("CRUX_VAULT_KEY", other)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let d = doc(&out);
    let vault = check(&d, "vault key");
    assert_eq!(vault["status"], "fail", "{d}");
    assert!(
        vault["fix"].as_str().unwrap().contains("crux keys set"),
        "{vault}"
    );

    // And with no vault key at all, the stored key is unreachable.
    std::fs::remove_file(sb.dir.path().join("config/crux/vault.key")).unwrap();
    let d = doc(&sb.run(&["doctor", "--json"]));
    assert_eq!(check(&d, "vault key")["status"], "fail", "{d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_calls_each_keyed_provider() {
    let mock = crux_mock::MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let run = |key: &str| {
        tokio::task::block_in_place(|| {
            sb.cmd()
                .env("OPENAI_BASE_URL", format!("{}/v1", mock.url()))
                .env("OPENAI_API_KEY", key)
                .args(["doctor", "--online", "--json"])
                .output()
                .unwrap()
        })
    };
    let out = run("test-key");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let d = doc(&out);
    assert!(
        check(&d, "online openai")["detail"]
            .as_str()
            .unwrap()
            .contains("model(s) listed"),
        "{d}"
    );
    assert!(mock.requests().iter().any(|r| r.path == "/v1/models"));
    let out = run("bad-key");
    assert_eq!(out.status.code(), Some(1));
    let d = doc(&out);
    let online = check(&d, "online openai");
    assert_eq!(online["status"], "fail");
    assert!(
        online["fix"].as_str().unwrap().contains("refused"),
        "{online}"
    );
    assert!(!stdout(&out).contains("bad-key"), "{}", stdout(&out));
}

#[test]
fn a_broken_config_is_reported_not_fatal() {
    let sb = Sandbox::new();
    std::fs::write(sb.dir.path().join("crux.toml"), "listne = 1\n").unwrap();
    let out = sb.run(&["doctor", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let d = doc(&out);
    let config = check(&d, "config");
    assert_eq!(config["status"], "fail");
    assert!(
        config["detail"].as_str().unwrap().contains("listne"),
        "{config}"
    );
    // The other checks still ran.
    assert_eq!(check(&d, "store")["status"], "ok");
    // Any other command stops at the config with exit 2.
    assert_eq!(sb.run(&["models", "list"]).status.code(), Some(2));
    // A route naming a provider without a key is a failure naming that provider's variable.
    std::fs::write(
        sb.dir.path().join("crux.toml"),
        "[routes.smart]\ntargets = [\"groq/llama-3.3-70b-versatile\"]\n",
    )
    .unwrap();
    let d = doc(&sb
        .cmd()
        .env("OPENAI_API_KEY", "k")
        .args(["doctor", "--json"])
        .output()
        .unwrap());
    let groq = check(&d, "key groq");
    assert_eq!(groq["status"], "fail", "{d}");
    assert!(
        groq["fix"].as_str().unwrap().contains("GROQ_API_KEY"),
        "{groq}"
    );
}

#[test]
fn completion_scripts_for_each_shell() {
    let sb = Sandbox::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef crux"),
        ("fish", "complete -c crux"),
    ] {
        let out = sb.run(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: {script}");
        for cmd in ["shell", "bench", "doctor", "chat"] {
            assert!(script.contains(cmd), "{shell} script lacks {cmd}");
        }
    }
    // A bad shell name is a usage error; a broken config does not stop completions.
    assert_eq!(sb.run(&["completions", "tcsh"]).status.code(), Some(2));
    std::fs::write(sb.dir.path().join("crux.toml"), "nope = 1\n").unwrap();
    assert!(sb.run(&["completions", "bash"]).status.success());
}

/// The names listed under `Commands:` in a help text (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // Command names sit at two spaces; wrapped descriptions are indented further.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect()
}

#[test]
fn every_command_and_subcommand_help_renders() {
    let sb = Sandbox::new();
    let top = stdout(&sb.run(&["--help"]));
    let commands = subcommands(&top);
    assert!(commands.len() >= 13, "{top}");
    let mut rendered = 0;
    for cmd in &commands {
        let out = sb.run(&[cmd, "--help"]);
        let help = stdout(&out);
        assert!(
            out.status.success() && help.contains("Usage: crux"),
            "{cmd}: {help}"
        );
        assert!(help.contains("Examples:"), "{cmd} has no examples");
        rendered += 1;
        for sub in subcommands(&help) {
            let out = sb.run(&[cmd, &sub, "--help"]);
            assert!(out.status.success(), "{cmd} {sub}: {}", stderr(&out));
            assert!(
                stdout(&out).contains(&format!("Usage: crux {cmd} {sub}")),
                "{cmd} {sub}"
            );
            rendered += 1;
        }
    }
    assert!(rendered > 25, "{rendered}");
}
