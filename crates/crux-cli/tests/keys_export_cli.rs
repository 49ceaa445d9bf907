//! `crux keys export` → `crux keys import` into an empty store round-trips every key (sealed and plaintext); a
//! wrong passphrase fails cleanly and imports nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod store_cli_support;

use store_cli_support::{Sandbox, stderr, stdout};

#[test]
fn export_then_import_round_trips_and_a_wrong_passphrase_changes_nothing() {
    let a = Sandbox::new();
    assert!(a.run(&["keys", "init"]).status.success());
    for (p, k) in [("openai", "sk-openai-111"), ("anthropic", "sk-ant-222")] {
        let out = a.run_stdin(&["keys", "set", p, "--stdin"], k);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let sealed = a.dir.path().join("keys.export");
    let out = a.run_stdin(
        &[
            "keys",
            "export",
            sealed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        "correct horse battery\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&sealed).unwrap();
    assert!(!text.contains("sk-openai-111"), "sealed by default");

    // Another machine: an empty store with its own vault key.
    let b = Sandbox::new();
    assert!(b.run(&["keys", "init"]).status.success());
    let empty = stdout(&b.run(&["keys", "list", "--json"]));
    let wrong = b.run_stdin(
        &[
            "keys",
            "import",
            sealed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        "wrong horse battery\n",
    );
    assert_eq!(wrong.status.code(), Some(2), "{}", stderr(&wrong));
    assert!(stderr(&wrong).contains("wrong passphrase"));
    assert_eq!(
        stdout(&b.run(&["keys", "list", "--json"])),
        empty,
        "nothing imported"
    );
    let ok = b.run_stdin(
        &[
            "keys",
            "import",
            sealed.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        "correct horse battery\n",
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("imported 2 key(s)"));
    let listed = stdout(&b.run(&["keys", "list", "--json"]));
    assert_ne!(listed, empty, "{listed}");

    // The way out of the vault: plaintext, with a warning.
    let plain = a.dir.path().join("keys.json");
    let out = a.run(&["keys", "export", plain.to_str().unwrap(), "--plaintext"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("warning"));
    assert!(
        std::fs::read_to_string(&plain)
            .unwrap()
            .contains("sk-ant-222")
    );
    let c = Sandbox::new();
    assert!(c.run(&["keys", "init"]).status.success());
    assert!(
        c.run(&["keys", "import", plain.to_str().unwrap()])
            .status
            .success()
    );
}
