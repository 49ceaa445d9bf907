//! Store settings from the environment: the database URL, the vault key (env or key file), redaction, and the
//! user's data and config directories (XDG), plus the mapping of store errors to exit codes.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crux_llm::{Client, ErrorCode, ProviderId};
use crux_store::{KeySource, RedactConfig, Redactor, Store, StoreError, VaultKey, redact_url};
use secrecy::ExposeSecret;

use crate::config::Env;
use crate::exit::Failure;

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e.code() {
            ErrorCode::Validation | ErrorCode::Auth | ErrorCode::Conflict => {
                Failure::usage(e.to_string())
            }
            _ => Failure::runtime(e.to_string()),
        }
    }
}

/// `$NAME` when it is an absolute path (the XDG rule), else `$HOME/<fallback>`.
fn xdg_dir(env: &impl Env, name: &str, fallback: &str) -> Result<PathBuf, Failure> {
    if let Some(dir) = env.get(name).map(PathBuf::from).filter(|p| p.is_absolute()) {
        return Ok(dir.join("crux"));
    }
    let home = env.get("HOME").ok_or_else(|| {
        Failure::usage(format!(
            "cannot find your home directory: set HOME or {name} (or CRUX_DATABASE_URL for the store)"
        ))
    })?;
    Ok(PathBuf::from(home).join(fallback).join("crux"))
}

/// `$XDG_DATA_HOME/crux`, else `~/.local/share/crux`.
pub fn data_dir(env: &impl Env) -> Result<PathBuf, Failure> {
    xdg_dir(env, "XDG_DATA_HOME", ".local/share")
}

/// `$XDG_STATE_HOME/crux`, else `~/.local/state/crux` (the shell's history).
pub fn state_dir(env: &impl Env) -> Result<PathBuf, Failure> {
    xdg_dir(env, "XDG_STATE_HOME", ".local/state")
}

/// `$XDG_CONFIG_HOME/crux`, else `~/.config/crux`.
pub fn config_dir(env: &impl Env) -> Result<PathBuf, Failure> {
    xdg_dir(env, "XDG_CONFIG_HOME", ".config")
}

/// The vault key file: `<config dir>/vault.key`.
pub fn vault_key_path(env: &impl Env) -> Result<PathBuf, Failure> {
    Ok(config_dir(env)?.join("vault.key"))
}

/// The store URL: `--database-url`, else `CRUX_DATABASE_URL`, else `database_url` of the config file (`file`), else
/// the SQLite file `<data dir>/crux.db`.
pub fn database_url(
    flag: Option<&str>,
    file: Option<&str>,
    env: &impl Env,
) -> Result<String, Failure> {
    if let Some(url) = flag.map(str::trim).filter(|u| !u.is_empty()) {
        return Ok(url.to_owned());
    }
    if let Some(url) = env.get("CRUX_DATABASE_URL") {
        return Ok(url.trim().to_owned());
    }
    if let Some(url) = file.map(str::trim).filter(|u| !u.is_empty()) {
        return Ok(url.to_owned());
    }
    Ok(format!(
        "sqlite://{}",
        data_dir(env)?.join("crux.db").display()
    ))
}

/// Connects and applies pending migrations; a bad URL is a usage error, an unreachable server a runtime one.
pub async fn open_store(url: &str) -> Result<Store, Failure> {
    let store = Store::connect(url)
        .await
        .map_err(|e| open_failure(url, e))?;
    store.migrate().await.map_err(|e| open_failure(url, e))?;
    Ok(store)
}

/// Connects without migrating (for `db migrate` and the source of `db copy`).
pub async fn connect_store(url: &str) -> Result<Store, Failure> {
    Store::connect(url).await.map_err(|e| open_failure(url, e))
}

fn open_failure(url: &str, e: StoreError) -> Failure {
    let failure = Failure::from(e);
    Failure {
        message: format!(
            "cannot open the store at {}: {}",
            redact_url(url),
            failure.message
        ),
        code: failure.code,
    }
}

/// Where the vault key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultKeySource {
    /// `CRUX_VAULT_KEY`.
    Env,
    /// The key file at this path.
    File(PathBuf),
}

/// The vault key: `CRUX_VAULT_KEY` first, else the key file when it exists, else `None`.
pub fn load_vault_key(env: &impl Env) -> Result<Option<(VaultKey, VaultKeySource)>, Failure> {
    if let Some(text) = env.get("CRUX_VAULT_KEY") {
        let key = VaultKey::from_base64(&text)
            .map_err(|e| Failure::usage(format!("CRUX_VAULT_KEY: {e}")))?;
        return Ok(Some((key, VaultKeySource::Env)));
    }
    let path = vault_key_path(env)?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => zeroize::Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Failure::usage(format!(
                "cannot read the vault key file {}: {e}",
                path.display()
            )));
        }
    };
    if let Ok(meta) = std::fs::metadata(&path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "warning: the vault key file {} is readable by other users; run: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
    let key = VaultKey::from_base64(&text)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    Ok(Some((key, VaultKeySource::File(path))))
}

/// The vault key, or a usage error that says how to create one.
pub fn require_vault_key(env: &impl Env) -> Result<(VaultKey, VaultKeySource), Failure> {
    load_vault_key(env)?.ok_or_else(|| Failure::from(StoreError::NoVaultKey))
}

/// Writes `key` to a new file at `path` (mode 0600, its directory 0700); never overwrites an existing file.
pub fn write_new_key_file(path: &Path, key: &VaultKey) -> Result<(), Failure> {
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Failure::runtime(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Failure::usage(format!(
                    "a vault key already exists at {}; refusing to overwrite it (keys encrypted with it would \
                     become unreadable)",
                    path.display()
                ))
            } else {
                Failure::runtime(format!("cannot create {}: {e}", path.display()))
            }
        })?;
    let text = key.to_base64();
    let written = file
        .write_all(text.expose_secret().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all());
    written.map_err(|e| {
        let _ = std::fs::remove_file(path);
        Failure::runtime(format!("cannot write {}: {e}", path.display()))
    })
}

/// The redactor when `CRUX_REDACT_PII` is `1` (or `true`/`yes`/`on`).
pub fn redactor(env: &impl Env) -> Result<Option<Redactor>, Failure> {
    let on = env.get("CRUX_REDACT_PII").is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    });
    if !on {
        return Ok(None);
    }
    Redactor::new(RedactConfig::default())
        .map(Some)
        .map_err(|e| Failure::runtime(e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn xdg_rules() {
        let env = HashMap::from([("HOME", "/home/u"), ("XDG_DATA_HOME", "relative/ignored")]);
        assert_eq!(
            data_dir(&env).unwrap(),
            PathBuf::from("/home/u/.local/share/crux")
        );
        assert_eq!(
            config_dir(&env).unwrap(),
            PathBuf::from("/home/u/.config/crux")
        );
        let env = HashMap::from([("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/cfg")]);
        assert_eq!(
            vault_key_path(&env).unwrap(),
            PathBuf::from("/cfg/crux/vault.key")
        );
        let env = HashMap::from([("HOME", "/home/u"), ("XDG_STATE_HOME", "/st")]);
        assert_eq!(state_dir(&env).unwrap(), PathBuf::from("/st/crux"));
        let env = HashMap::from([("HOME", "/home/u")]);
        assert_eq!(
            state_dir(&env).unwrap(),
            PathBuf::from("/home/u/.local/state/crux")
        );
        let none: HashMap<&'static str, &'static str> = HashMap::new();
        assert_eq!(data_dir(&none).unwrap_err().code, 2);
    }

    #[test]
    fn database_url_order() {
        let env = HashMap::from([("HOME", "/h"), ("CRUX_DATABASE_URL", "postgres://x/y")]);
        assert_eq!(
            database_url(Some("sqlite:///f.db"), None, &env).unwrap(),
            "sqlite:///f.db"
        );
        assert_eq!(database_url(None, None, &env).unwrap(), "postgres://x/y");
        let env = HashMap::from([("HOME", "/h"), ("XDG_DATA_HOME", "/d")]);
        assert_eq!(
            database_url(None, Some("sqlite:///from-file.db"), &env).unwrap(),
            "sqlite:///from-file.db"
        );
        assert_eq!(
            database_url(None, None, &env).unwrap(),
            "sqlite:///d/crux/crux.db"
        );
    }

    #[test]
    fn redaction_switch() {
        let on = HashMap::from([("CRUX_REDACT_PII", "1")]);
        assert!(redactor(&on).unwrap().is_some());
        let off = HashMap::from([("CRUX_REDACT_PII", "0")]);
        assert!(redactor(&off).unwrap().is_none());
    }
}

/// Provider keys resolved from the environment, then the vault.
#[derive(Debug, Default)]
pub struct ResolvedKeys {
    /// Keys found, by provider.
    pub keys: Vec<(ProviderId, secrecy::SecretString)>,
    /// Providers whose key came from the environment (it wins over the vault).
    pub from_env: Vec<ProviderId>,
    /// The vault key, when one is configured.
    pub vault: Option<VaultKey>,
}

impl ResolvedKeys {
    /// `client` with every resolved key set.
    pub fn apply(&self, client: Client) -> Client {
        self.keys
            .iter()
            .fold(client, |c, (p, k)| c.with_key(*p, Some(k.clone())))
    }
}

/// Resolve the keys of `providers`: the environment first, then the vault. A stored key that cannot be opened (no
/// vault key, or the wrong one) is skipped with one warning line naming the fix, so an unused provider never stops
/// a command or the gateway.
pub async fn resolve_keys(
    store: &Store,
    providers: &[ProviderId],
    env: &impl Env,
) -> Result<ResolvedKeys, Failure> {
    let vault = load_vault_key(env)?.map(|(k, _)| k);
    let mut out = ResolvedKeys::default();
    for p in providers {
        match crux_store::resolve_provider_key(Some(store), vault.as_ref(), *p, |n| env.get(n))
            .await
        {
            Ok(Some(k)) => {
                if matches!(k.source, KeySource::Env(_)) {
                    out.from_env.push(*p);
                }
                out.keys.push((*p, k.value));
            }
            Ok(None) => {}
            Err(StoreError::NoVaultKey) => eprintln!(
                "warning: the {p} key is in the vault but no vault key is set: set CRUX_VAULT_KEY or run `crux keys init`"
            ),
            Err(e) => eprintln!("warning: cannot read the {p} key from the vault: {e}"),
        }
    }
    out.vault = vault;
    Ok(out)
}
