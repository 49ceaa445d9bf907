//! Settings resolved once for every command: `crux chat` routes an alias from `--config` with fallback and says who
//! answered, uses a key that lives only in the vault, and `crux models list --refresh --config FILE` reaches the
//! endpoint that file names.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod store_cli_support;

use crux_mock::MockServer;
use store_cli_support::{Sandbox, stderr, stdout};

fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_through_an_alias_falls_back_and_says_who_answered() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let config = sb.dir.path().join("crux.toml");
    std::fs::write(
        &config,
        format!(
            "[routes.smart]\ntargets = [\"anthropic/claude-3-5-haiku-latest\", \"openai/gpt-4o-mini\"]\n\
             [providers.anthropic]\nbase_url = \"{}\"\n[providers.openai]\nbase_url = \"{}/v1\"\n",
            closed_port(),
            mock.url()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_owned();
    let out = tokio::task::block_in_place(|| {
        sb.cmd()
            .env("OPENAI_API_KEY", "k")
            .env("ANTHROPIC_API_KEY", "k")
            .args(["chat", "smart", "hello there", "--config", &config])
            .output()
            .unwrap()
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("hello there"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("served by openai/gpt-4o-mini after 1 fallback"),
        "{}",
        stderr(&out)
    );
    let streamed = tokio::task::block_in_place(|| {
        sb.cmd()
            .env("OPENAI_API_KEY", "k")
            .env("ANTHROPIC_API_KEY", "k")
            .args([
                "--config",
                &config,
                "chat",
                "smart",
                "streamed hello",
                "--stream",
            ])
            .output()
            .unwrap()
    });
    assert!(streamed.status.success(), "{}", stderr(&streamed));
    assert!(stdout(&streamed).contains("streamed hello"));
    assert!(stderr(&streamed).contains("served by openai/gpt-4o-mini"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_uses_a_key_that_lives_only_in_the_vault() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    assert!(sb.run(&["keys", "init"]).status.success());
    let set = sb.run_stdin(&["keys", "set", "openai", "--stdin"], "sk-vault-only-123\n");
    assert!(set.status.success(), "{}", stderr(&set));
    let out = tokio::task::block_in_place(|| {
        sb.cmd()
            .env("OPENAI_BASE_URL", format!("{}/v1", mock.url()))
            .args(["chat", "openai/gpt-4o-mini", "from the vault"])
            .output()
            .unwrap()
    });
    assert!(out.status.success(), "{}", stderr(&out));
    let sent = mock.requests();
    assert_eq!(
        sent.last().unwrap().header("authorization"),
        Some("Bearer sk-vault-only-123")
    );
    // Without the vault key the stored key cannot be read: one warning line, then the missing-key usage error.
    let no_vault = sb.dir.path().join("elsewhere");
    let out = tokio::task::block_in_place(|| {
        sb.cmd()
            .env("XDG_CONFIG_HOME", &no_vault)
            .env("OPENAI_BASE_URL", format!("{}/v1", mock.url()))
            .args(["chat", "openai/gpt-4o-mini", "no vault key"])
            .output()
            .unwrap()
    });
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("CRUX_VAULT_KEY"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_refresh_uses_the_config_file_given() {
    let mock = MockServer::start().await.unwrap();
    let sb = Sandbox::new();
    let config = sb.dir.path().join("other.toml");
    std::fs::write(
        &config,
        format!("[providers.gemini]\nbase_url = \"{}\"\n", mock.url()),
    )
    .unwrap();
    let out = tokio::task::block_in_place(|| {
        sb.cmd()
            .env("GEMINI_API_KEY", "k")
            .args([
                "models",
                "list",
                "gemini",
                "--refresh",
                "--json",
                "--config",
            ])
            .arg(&config)
            .output()
            .unwrap()
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        mock.requests()
            .iter()
            .any(|r| r.path.contains("v1beta/models")),
        "the refresh reached the endpoint of --config"
    );
}
