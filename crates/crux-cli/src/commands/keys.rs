//! `crux keys init|set|list|rm|rotate-master`: provider keys in the encrypted vault. Values are never printed,
//! only masked (`sk-…abcd`); the vault key itself only with an explicit `--print-new-key`.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use crux_llm::ProviderId;
use crux_store::{VaultKey, mask_secret};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::keys_export;
use crate::config::{Env, ProcessEnv};
use crate::exit::Failure;
use crate::output::{io_failure, print_json, print_table};
use crate::settings::Settings;
use crate::store_config::{
    VaultKeySource, load_vault_key, open_store, require_vault_key, vault_key_path,
    write_new_key_file,
};

/// Arguments of `crux keys`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  crux keys init\n  crux keys set openai            # prompts; or --stdin\n  crux keys list"
)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
    /// Store URL (default: CRUX_DATABASE_URL, else the SQLite file in your data directory).
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a new vault key file (0600) in your config directory; never overwrites one.
    Init,
    /// Store PROVIDER's key, read from stdin (a hidden prompt on a terminal).
    Set {
        /// Provider id (openai, anthropic, gemini, …).
        provider: String,
        /// Read the key from standard input even on a terminal (e.g. `pass show x | crux keys set openai --stdin`).
        #[arg(long)]
        stdin: bool,
    },
    /// Show which providers have a key and where it comes from (masked).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove PROVIDER's key from the vault.
    Rm {
        /// Provider id.
        provider: String,
    },
    /// Write every stored key to FILE, sealed with a passphrase (or `--plaintext`, with a warning).
    Export {
        /// The file to create (never overwritten; mode 0600).
        file: std::path::PathBuf,
        /// Write the keys readable instead of sealed (e.g. to leave the vault for env variables).
        #[arg(long)]
        plaintext: bool,
        /// Read the passphrase from stdin (else `CRUX_EXPORT_PASSPHRASE`, else a prompt).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Store every key of an export FILE in the vault (asks for its passphrase when sealed).
    Import {
        /// The export file.
        file: std::path::PathBuf,
        /// Read the passphrase from stdin.
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Generate a new vault key and re-encrypt every stored key with it, in one transaction.
    RotateMaster {
        /// Also print the new vault key on stdout (required when the key comes from CRUX_VAULT_KEY).
        #[arg(long)]
        print_new_key: bool,
    },
}

/// Run `crux keys`.
pub async fn run(args: KeysArgs, settings: &Settings) -> Result<(), Failure> {
    let env = ProcessEnv;
    let url = || settings.database_url(args.database_url.as_deref());
    match args.command {
        KeysCommand::Init => init(&env),
        KeysCommand::Set { provider, stdin } => set(&env, &url()?, &provider, stdin).await,
        KeysCommand::List { json } => list(&env, &url()?, json).await,
        KeysCommand::Rm { provider } => rm(&url()?, &provider).await,
        KeysCommand::RotateMaster { print_new_key } => rotate(&env, &url()?, print_new_key).await,
        KeysCommand::Export {
            file,
            plaintext,
            passphrase_stdin,
        } => export(&env, &url()?, &file, plaintext, passphrase_stdin).await,
        KeysCommand::Import {
            file,
            passphrase_stdin,
        } => import(&env, &url()?, &file, passphrase_stdin).await,
    }
}

fn provider(name: &str) -> Result<ProviderId, Failure> {
    name.parse().map_err(|e| Failure::usage(format!("{e}")))
}

fn init(env: &impl Env) -> Result<(), Failure> {
    let path = vault_key_path(env)?;
    let key = VaultKey::generate().map_err(Failure::from)?;
    write_new_key_file(&path, &key)?;
    println!("created the vault key file {} (mode 0600)", path.display());
    eprintln!("keep a backup of it: stored provider keys cannot be decrypted without it");
    if env.get("CRUX_VAULT_KEY").is_some() {
        eprintln!("note: CRUX_VAULT_KEY is set and takes precedence over this file");
    }
    Ok(())
}

/// The first provider key environment variable that is set.
fn env_key(env: &impl Env, p: ProviderId) -> Option<(&'static str, String)> {
    p.spec()
        .key_env
        .iter()
        .find_map(|name| env.get(name).map(|v| (*name, v)))
}

async fn set(env: &impl Env, url: &str, name: &str, from_stdin: bool) -> Result<(), Failure> {
    let p = provider(name)?;
    let (vault, _) = require_vault_key(env)?;
    let value = read_secret(p, from_stdin)?;
    let store = open_store(url).await?;
    let result = store.set_provider_key(&vault, p, &value).await;
    store.close().await;
    result?;
    println!(
        "stored the {p} key {} (encrypted in the vault)",
        mask_secret(value.expose_secret())
    );
    if let Some((var, _)) = env_key(env, p) {
        eprintln!("note: {var} is set in the environment and takes precedence over the vault");
    }
    Ok(())
}

/// The key from stdin: a hidden prompt on a terminal, else everything piped in (trimmed).
fn read_secret(p: ProviderId, from_stdin: bool) -> Result<SecretString, Failure> {
    let stdin = std::io::stdin();
    let mut text = Zeroizing::new(String::new());
    if !from_stdin && stdin.is_terminal() {
        prompt_hidden(&format!("{p} API key: "), &mut text)?;
    } else {
        stdin
            .lock()
            .read_to_string(&mut text)
            .map_err(|e| Failure::runtime(format!("cannot read the key from stdin: {e}")))?;
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Failure::usage(
            "no key given (pipe it in: `printf %s \"$KEY\" | crux keys set PROVIDER --stdin`)",
        ));
    }
    Ok(SecretString::from(trimmed.to_owned()))
}

async fn export(
    env: &impl Env,
    url: &str,
    file: &std::path::Path,
    plaintext: bool,
    passphrase_stdin: bool,
) -> Result<(), Failure> {
    let (vault, _) = require_vault_key(env)?;
    let store = open_store(url).await?;
    let keys = store.decrypt_provider_keys(&vault).await;
    store.close().await;
    let keys = keys?;
    let text = if plaintext {
        eprintln!(
            "warning: writing the keys in plain text to {}; delete it once done",
            file.display()
        );
        keys_export::seal(&keys, None)?
    } else {
        let pass = keys_export::passphrase(passphrase_stdin, true)?;
        keys_export::seal(&keys, Some(&pass))?
    };
    keys_export::write_private(file, &text)?;
    println!("exported {} key(s) to {}", keys.len(), file.display());
    Ok(())
}

async fn import(
    env: &impl Env,
    url: &str,
    file: &std::path::Path,
    passphrase_stdin: bool,
) -> Result<(), Failure> {
    let (vault, _) = require_vault_key(env)?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
    let pass = if keys_export::is_sealed(&text)? {
        Some(keys_export::passphrase(passphrase_stdin, false)?)
    } else {
        None
    };
    let keys = keys_export::open(&text, pass.as_deref().map(String::as_str))?;
    let store = open_store(url).await?;
    for (p, k) in &keys {
        if let Err(e) = store.set_provider_key(&vault, *p, k).await {
            store.close().await;
            return Err(e.into());
        }
    }
    store.close().await;
    println!("imported {} key(s) into the vault", keys.len());
    Ok(())
}

/// Reads one line from the terminal with echo off.
pub(super) fn prompt_hidden(prompt: &str, out: &mut String) -> Result<(), Failure> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let original = tcgetattr(&stdin)
        .map_err(|e| Failure::runtime(format!("cannot read terminal settings: {e}")))?;
    let mut quiet = original.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&stdin, OptionalActions::Now, &quiet)
        .map_err(|e| Failure::runtime(format!("cannot turn off terminal echo: {e}")))?;
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let read = stdin.read_line(out);
    let _ = tcsetattr(&stdin, OptionalActions::Now, &original);
    eprintln!();
    read.map(|_| ())
        .map_err(|e| Failure::runtime(format!("cannot read the key: {e}")))
}

async fn list(env: &impl Env, url: &str, json: bool) -> Result<(), Failure> {
    let vault = load_vault_key(env)?;
    let store = open_store(url).await?;
    let stored = store.list_provider_keys().await;
    let decrypted = match (&vault, &stored) {
        (Some((key, _)), Ok(rows)) if !rows.is_empty() => {
            Some(store.decrypt_provider_keys(key).await)
        }
        _ => None,
    };
    store.close().await;
    let stored = stored?;
    let decrypted = decrypted.transpose()?.unwrap_or_default();
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for p in ProviderId::all() {
        let in_vault = stored.iter().any(|k| k.provider == p.as_str());
        let vault_mask = decrypted
            .iter()
            .find(|(name, _)| name == p.as_str())
            .map(|(_, v)| mask_secret(v.expose_secret()));
        let (source, masked) = match env_key(env, p) {
            Some((var, v)) => (format!("env {var}"), Some(mask_secret(&v))),
            None if in_vault => (
                "vault".to_owned(),
                Some(
                    vault_mask
                        .clone()
                        .unwrap_or_else(|| "(no vault key to show it)".into()),
                ),
            ),
            None => ("-".to_owned(), None),
        };
        let note = if in_vault && env_key(env, p).is_some() {
            "vault key overridden by the environment"
        } else if p.spec().key_optional() && masked.is_none() {
            "no key needed"
        } else {
            ""
        };
        items.push(serde_json::json!({
            "provider": p.as_str(),
            "source": if source == "-" { None } else { Some(source.split(' ').next().unwrap_or("")) },
            "env_var": env_key(env, p).map(|(var, _)| var),
            "masked": masked,
            "in_vault": in_vault,
        }));
        rows.push(vec![
            p.as_str().to_owned(),
            source,
            masked.unwrap_or_else(|| "-".into()),
            note.to_owned(),
        ]);
    }
    if json {
        return print_json(&items);
    }
    let mut out = std::io::stdout().lock();
    print_table(&mut out, &["PROVIDER", "SOURCE", "KEY", "NOTE"], &rows)?;
    if !stored.is_empty() && vault.is_none() {
        writeln!(
            out,
            "the vault holds {} key(s) but no vault key is configured (CRUX_VAULT_KEY or `crux keys init`)",
            stored.len()
        )
        .map_err(io_failure)?;
    }
    Ok(())
}

async fn rm(url: &str, name: &str) -> Result<(), Failure> {
    let p = provider(name)?;
    let store = open_store(url).await?;
    let removed = store.remove_provider_key(p).await;
    store.close().await;
    if removed? {
        println!("removed the {p} key from the vault");
        Ok(())
    } else {
        Err(Failure::runtime(format!("no stored key for {p}")))
    }
}

/// `vault.key` → `vault.key.new`: where the new key waits until the re-encryption has committed.
fn pending_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

async fn rotate(env: &impl Env, url: &str, print_new_key: bool) -> Result<(), Failure> {
    let (old, source) = require_vault_key(env)?;
    if source == VaultKeySource::Env && !print_new_key {
        return Err(Failure::usage(
            "the vault key comes from CRUX_VAULT_KEY, which crux cannot update: rerun with --print-new-key to \
             print the new key once, then set CRUX_VAULT_KEY to it",
        ));
    }
    let new = VaultKey::generate().map_err(Failure::from)?;
    let pending = match &source {
        VaultKeySource::File(path) => {
            let pending = pending_path(path);
            if pending.exists() {
                return Err(Failure::usage(format!(
                    "{} exists from an interrupted rotation: find out which key opens the store (e.g. \
                     CRUX_VAULT_KEY=\"$(cat {})\" crux keys list), keep that one as {} and delete the other",
                    pending.display(),
                    pending.display(),
                    path.display()
                )));
            }
            write_new_key_file(&pending, &new)?;
            Some((pending, path.clone()))
        }
        VaultKeySource::Env => None,
    };
    let rotated = async {
        let store = open_store(url).await?;
        let result = store.rotate_vault_key(&old, &new).await;
        store.close().await;
        result.map_err(Failure::from)
    }
    .await;
    let count = match rotated {
        Ok(n) => n,
        Err(e) => {
            if let Some((pending, _)) = &pending {
                let _ = std::fs::remove_file(pending);
            }
            return Err(e);
        }
    };
    if let Some((pending, path)) = &pending {
        std::fs::rename(pending, path).map_err(|e| {
            Failure::runtime(format!(
                "re-encrypted {count} key(s), but could not move the new vault key into place ({e}): it is in {}; \
                 move it to {}",
                pending.display(),
                path.display()
            ))
        })?;
        println!(
            "re-encrypted {count} key(s); the new vault key is in {} (the old key no longer opens them)",
            path.display()
        );
    }
    if print_new_key {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", new.to_base64().expose_secret()).map_err(io_failure)?;
        if source == VaultKeySource::Env {
            eprintln!(
                "re-encrypted {count} key(s); set CRUX_VAULT_KEY to the key printed above (the old key no longer \
                 opens them)"
            );
        }
    }
    eprintln!("restart running gateways so they load the new vault key");
    Ok(())
}
