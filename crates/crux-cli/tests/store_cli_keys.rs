//! End-to-end tests of `crux keys`: the vault key file, encrypted storage (the raw database file never holds a key),
//! wrong vault keys, rotation, and masking.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod store_cli_support;

use std::os::unix::fs::PermissionsExt;

use store_cli_support::{Sandbox, StdinText, stderr, stdout};

const OPENAI_KEY: &str = "sk-proj-RAWFILETEST0123456789abcdefXYZ";

#[test]
fn keys_are_refused_without_a_vault_key_then_stored_encrypted() {
    let sb = Sandbox::new();
    let out = sb.run_stdin(&["keys", "set", "openai"], OPENAI_KEY);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("crux keys init") && stderr(&out).contains("CRUX_VAULT_KEY"),
        "{}",
        stderr(&out)
    );

    let out = sb.run(&["keys", "init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let key_file = sb.dir.path().join("config/crux/vault.key");
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(key_file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let again = sb.run(&["keys", "init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("refusing to overwrite"),
        "{}",
        stderr(&again)
    );

    let out = sb.run_stdin(&["keys", "set", "openai"], &format!("{OPENAI_KEY}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("sk-…fXYZ"), "{}", stdout(&out));
    assert!(!stdout(&out).contains(OPENAI_KEY) && !stderr(&out).contains(OPENAI_KEY));

    // The raw database file and its WAL never contain the key's bytes.
    let mut found_db = false;
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", sb.db_path().display());
        if let Ok(bytes) = std::fs::read(&path) {
            found_db |= suffix.is_empty();
            let hit = bytes
                .windows(OPENAI_KEY.len())
                .any(|w| w == OPENAI_KEY.as_bytes());
            assert!(!hit, "{path} contains the plaintext key");
            let tail = &OPENAI_KEY.as_bytes()[8..];
            assert!(
                !bytes.windows(tail.len()).any(|w| w == tail),
                "{path} contains part of the key"
            );
        }
    }
    assert!(
        found_db,
        "the store file was not created at {}",
        sb.db_path().display()
    );

    let list = sb.run(&["keys", "list"]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    let text = stdout(&list);
    assert!(
        text.contains("openai") && text.contains("vault") && text.contains("sk-…fXYZ"),
        "{text}"
    );
    assert!(!text.contains(OPENAI_KEY));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&sb.run(&["keys", "list", "--json"]))).unwrap();
    let openai = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["provider"] == "openai")
        .unwrap();
    assert_eq!(
        (openai["source"].as_str(), openai["in_vault"].as_bool()),
        (Some("vault"), Some(true))
    );

    // The environment wins over the vault, and list says so.
    let env_list = sb
        .cmd()
        .env("OPENAI_API_KEY", "sk-from-env-000000001111")
        .args(["keys", "list"])
        .output()
        .unwrap();
    let text = stdout(&env_list);
    assert!(
        text.contains("env OPENAI_API_KEY")
            && text.contains("sk-…1111")
            && text.contains("overridden"),
        "{text}"
    );
}

#[test]
fn a_wrong_vault_key_is_a_clear_error_and_changes_nothing() {
    let sb = Sandbox::new();
    assert!(sb.run(&["keys", "init"]).status.success());
    assert!(
        sb.run_stdin(&["keys", "set", "openai", "--stdin"], OPENAI_KEY)
            .status
            .success()
    );
    let before = sb.table_stats();
    let wrong = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    for args in [
        &["keys", "set", "anthropic", "--stdin"][..],
        &["keys", "list"][..],
        &["keys", "rotate-master", "--print-new-key"][..],
    ] {
        let out = sb
            .cmd()
            .env("CRUX_VAULT_KEY", wrong)
            .args(args)
            .stdin_text("sk-ant-whatever-123")
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).trim(),
            "error: cannot decrypt stored keys: the vault key does not match",
            "{args:?}"
        );
        assert!(stdout(&out).is_empty(), "{args:?} printed {}", stdout(&out));
    }
    assert_eq!(sb.table_stats(), before, "nothing changed");
    assert!(
        sb.run(&["keys", "list"]).status.success(),
        "the right key still works"
    );
    let bad = sb
        .cmd()
        .env("CRUX_VAULT_KEY", "not-base64!")
        .args(["keys", "list"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("CRUX_VAULT_KEY"), "{}", stderr(&bad));
}

#[test]
fn rotate_master_with_the_key_file() {
    let sb = Sandbox::new();
    assert!(sb.run(&["keys", "init"]).status.success());
    assert!(
        sb.run_stdin(&["keys", "set", "openai"], OPENAI_KEY)
            .status
            .success()
    );
    assert!(
        sb.run_stdin(&["keys", "set", "groq"], "gsk_rotation0123456789abcdef")
            .status
            .success()
    );
    let key_file = sb.dir.path().join("config/crux/vault.key");
    let old = std::fs::read_to_string(&key_file).unwrap();
    let out = sb.run(&["keys", "rotate-master"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("re-encrypted 2 key(s)"),
        "{}",
        stdout(&out)
    );
    let new = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(old, new);
    assert!(
        !stdout(&out).contains(new.trim()),
        "the new key is not printed without --print-new-key"
    );
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!sb.dir.path().join("config/crux/vault.key.new").exists());
    let list = sb.run(&["keys", "list"]);
    assert!(
        stdout(&list).contains("sk-…fXYZ") && stdout(&list).contains("gsk_…cdef"),
        "{}",
        stdout(&list)
    );
    let with_old = sb
        .cmd()
        .env("CRUX_VAULT_KEY", old.trim())
        .args(["keys", "list"])
        .output()
        .unwrap();
    assert_eq!(
        with_old.status.code(),
        Some(2),
        "the old key no longer opens the vault"
    );
}

#[test]
fn rotate_master_with_an_environment_key_needs_an_explicit_flag() {
    let sb = Sandbox::new();
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let set = sb
        .cmd()
        .env("CRUX_VAULT_KEY", key)
        .args(["keys", "set", "openai"])
        .stdin_text(OPENAI_KEY)
        .unwrap();
    assert!(set.status.success(), "{}", stderr(&set));
    let refused = sb
        .cmd()
        .env("CRUX_VAULT_KEY", key)
        .args(["keys", "rotate-master"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("--print-new-key"),
        "{}",
        stderr(&refused)
    );
    let rotated = sb
        .cmd()
        .env("CRUX_VAULT_KEY", key)
        .args(["keys", "rotate-master", "--print-new-key"])
        .output()
        .unwrap();
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let new_key = stdout(&rotated).trim().to_owned();
    assert_eq!(
        new_key.len(),
        44,
        "stdout holds exactly the new key: {new_key}"
    );
    assert!(
        stderr(&rotated).contains("set CRUX_VAULT_KEY"),
        "{}",
        stderr(&rotated)
    );
    let list = sb
        .cmd()
        .env("CRUX_VAULT_KEY", &new_key)
        .args(["keys", "list"])
        .output()
        .unwrap();
    assert!(stdout(&list).contains("sk-…fXYZ"), "{}", stderr(&list));
    let old = sb
        .cmd()
        .env("CRUX_VAULT_KEY", key)
        .args(["keys", "list"])
        .output()
        .unwrap();
    assert_eq!(old.status.code(), Some(2));
}

#[test]
fn rm_and_unknown_providers() {
    let sb = Sandbox::new();
    assert!(sb.run(&["keys", "init"]).status.success());
    assert!(
        sb.run_stdin(&["keys", "set", "openai"], OPENAI_KEY)
            .status
            .success()
    );
    assert_eq!(sb.run(&["keys", "rm", "openai"]).status.code(), Some(0));
    let again = sb.run(&["keys", "rm", "openai"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("no stored key for openai"));
    let unknown = sb.run_stdin(&["keys", "set", "frobnicator"], "x");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("known providers"),
        "{}",
        stderr(&unknown)
    );
    let empty = sb.run_stdin(&["keys", "set", "openai"], "  \n");
    assert_eq!(empty.status.code(), Some(2), "{}", stderr(&empty));
}
