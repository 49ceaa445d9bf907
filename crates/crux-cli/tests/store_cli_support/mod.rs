//! Shared helpers for the store CLI tests: a sandbox with its own HOME, XDG directories and store.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

/// A temp directory used as HOME, with `config/` and `data/` as the XDG directories and `store.db` as the store.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("store.db")
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}", self.db_path().display())
    }

    /// `crux` with a clean environment: only PATH, HOME, the XDG dirs and `CRUX_DATABASE_URL`.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_crux"));
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("CRUX_DATABASE_URL", self.url())
            .env("CRUX_LOG", "error")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        c
    }

    /// `crux serve --config NAME.toml` (with `toml` written there and `envs` set) on a free port, once it printed
    /// its URL; its stderr is drained in the background.
    pub fn serve(&self, name: &str, toml: &str, envs: &[(&str, &str)]) -> Serve {
        let path = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, toml).unwrap();
        let mut child = self
            .cmd()
            .envs(envs.iter().copied())
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--config",
                path.to_str().unwrap(),
            ])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let url = loop {
            let mut line = String::new();
            assert!(
                err.read_line(&mut line).unwrap() > 0,
                "serve exited: {seen}"
            );
            seen.push_str(&line);
            if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                break u.trim_end_matches('/').to_owned();
            }
        };
        std::thread::spawn(move || for _ in err.lines() {});
        Serve { child, url }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    pub fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        self.cmd().args(args).stdin_text(input).unwrap()
    }

    /// Counts and checksums of every table of the sandbox store.
    pub fn table_stats(&self) -> Vec<crux_store::TableStats> {
        let url = self.url();
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let store = crux_store::Store::connect(&url).await.unwrap();
                let stats = crux_store::table_stats(&store).await.unwrap();
                store.close().await;
                stats
            })
    }
}

/// A running `crux serve`, killed when dropped.
pub struct Serve {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command with `input` on its stdin.
pub trait StdinText {
    fn stdin_text(&mut self, input: &str) -> std::io::Result<Output>;
}

impl StdinText for Command {
    fn stdin_text(&mut self, input: &str) -> std::io::Result<Output> {
        let mut child = self
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child.stdin.take().unwrap().write_all(input.as_bytes())?;
        child.wait_with_output()
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
