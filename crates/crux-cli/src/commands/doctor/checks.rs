//! The checks of `crux doctor`, each producing a `Check` with the fix for anything wrong: the config file and its
//! values, the store and its migrations, the vault key, each provider's key and (online) one authenticated call.

use std::path::Path;
use std::time::{Duration, Instant};

use crux_llm::{Client, ErrorCode, ProviderId};
use crux_store::{KeySource, LATEST_VERSION, Store, redact_url};
use serde::Serialize;

use crate::config::{Env, ProcessEnv};
use crate::exit::Failure;
use crate::settings::Settings;
use crate::store_config::{VaultKeySource, connect_store, load_vault_key};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Ok,
    /// Worth knowing, not a failure.
    Warn,
    /// Must be fixed (doctor exits 1).
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub check: String,
    /// The outcome.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do about it (for warnings and failures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn ok(check: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }
    fn warn(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            status: Status::Warn,
            fix: Some(fix.into()),
            ..Check::ok(check, detail)
        }
    }
    fn fail(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            status: Status::Fail,
            fix: Some(fix.into()),
            ..Check::ok(check, detail)
        }
    }
}

/// The config file (`loaded`) and whether its values build a client and routes.
pub fn config(loaded: &Result<Settings, Failure>) -> Vec<Check> {
    let settings = match loaded {
        Err(f) => {
            return vec![Check::fail(
                "config",
                f.message.clone(),
                "fix the file at the place named, or point --config / CRUX_CONFIG at another file",
            )];
        }
        Ok(s) => s,
    };
    let file = match &settings.path {
        Some(p) => format!("{} parsed", p.display()),
        None => {
            "no config file: built-in defaults (optional: ./crux.toml or CRUX_CONFIG)".to_owned()
        }
    };
    let mut checks = vec![Check::ok("config", file)];
    let values = settings.client().and_then(|_| settings.gateway());
    checks.push(match values {
        Ok(g) => Check::ok(
            "config values",
            format!(
                "{} provider section(s), {} route(s)",
                settings.file.providers.len(),
                g.router.routes.len()
            ),
        ),
        Err(f) => Check::fail(
            "config values",
            f.message,
            "correct the value named in the config file",
        ),
    });
    checks
}

/// The SQLite file a `sqlite:` URL names, if it is one.
fn sqlite_file(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.contains(":memory:")).then(|| Path::new(path))
}

/// The store: reachable, and its schema against this binary's migrations. A SQLite file not created yet is fine
/// (the first command that needs it creates it) and is not created here.
pub async fn store(settings: &Settings) -> (Vec<Check>, Option<Store>) {
    let url = match settings.database_url(None) {
        Ok(u) => u,
        Err(f) => {
            return (
                vec![Check::fail(
                    "store",
                    f.message,
                    "set HOME, or CRUX_DATABASE_URL=sqlite:///path/crux.db",
                )],
                None,
            );
        }
    };
    let shown = redact_url(&url);
    if let Some(file) = sqlite_file(&url)
        && !file.exists()
    {
        let check = Check::ok(
            "store",
            format!("{shown}: not created yet (created on first use)"),
        );
        return (vec![check], None);
    }
    let store = match connect_store(&url).await {
        Ok(s) => s,
        Err(f) => {
            let fix = if url.starts_with("postgres") {
                "start the PostgreSQL server, or fix CRUX_DATABASE_URL (user, password, host, database)"
            } else {
                "check the path and its permissions in CRUX_DATABASE_URL (or database_url in the config)"
            };
            return (vec![Check::fail("store", f.message, fix)], None);
        }
    };
    if let Err(e) = store.ping().await {
        let check = Check::fail(
            "store",
            format!("{shown}: {e}"),
            "check that the store is reachable",
        );
        store.close().await;
        return (vec![check], None);
    }
    let mut checks = vec![Check::ok("store", format!("{shown} reachable"))];
    checks.push(match store.schema_version().await {
        Ok(Some(v)) if v == LATEST_VERSION => {
            Check::ok("migrations", format!("schema at version {v} (current)"))
        }
        Ok(Some(v)) if v > LATEST_VERSION => Check::fail(
            "migrations",
            format!("schema version {v} is newer than this crux knows ({LATEST_VERSION})"),
            "upgrade crux to the version that migrated this store",
        ),
        Ok(v) => Check::warn(
            "migrations",
            format!("schema at version {} of {LATEST_VERSION}", v.unwrap_or(0)),
            "run `crux db migrate` (any command that uses the store also migrates it)",
        ),
        Err(e) => Check::fail(
            "migrations",
            e.to_string(),
            "run `crux db migrate` and read its error",
        ),
    });
    (checks, Some(store))
}

/// The vault key: present, readable, and able to decrypt every stored key.
pub async fn vault(store: Option<&Store>) -> Check {
    let stored = match store {
        Some(s) => s.list_provider_keys().await.map(|k| k.len()).unwrap_or(0),
        None => 0,
    };
    let key = match load_vault_key(&ProcessEnv) {
        Ok(k) => k,
        Err(f) => {
            return Check::fail(
                "vault key",
                f.message,
                "set CRUX_VAULT_KEY to the base64 key, or fix the key file",
            );
        }
    };
    let Some((key, source)) = key else {
        if stored > 0 {
            return Check::fail(
                "vault key",
                format!("{stored} key(s) stored in the vault but no vault key is set"),
                "set CRUX_VAULT_KEY, or restore the key file `crux keys init` wrote",
            );
        }
        return Check::warn(
            "vault key",
            "not set (needed only to store provider keys in the vault)",
            "run `crux keys init` (writes a 0600 key file) or set CRUX_VAULT_KEY",
        );
    };
    let from = match source {
        VaultKeySource::Env => "CRUX_VAULT_KEY".to_owned(),
        VaultKeySource::File(p) => p.display().to_string(),
    };
    match (store, stored) {
        (Some(store), n) if n > 0 => match store.verify_vault_key(&key).await {
            Ok(n) => Check::ok(
                "vault key",
                format!("from {from}; decrypts all {n} stored key(s)"),
            ),
            Err(e) => Check::fail(
                "vault key",
                format!("from {from}: cannot decrypt the stored keys ({e})"),
                "use the vault key the keys were stored with, or store them again with `crux keys set PROVIDER`",
            ),
        },
        _ => Check::ok("vault key", format!("from {from}; no keys stored yet")),
    }
}

/// The providers the config names (a `[providers.X]` section or a route target).
pub fn configured(settings: &Settings) -> Vec<ProviderId> {
    settings
        .file
        .routes
        .values()
        .flat_map(|r| r.target_names())
        .filter_map(|t| t.split('/').next()?.parse().ok())
        .chain(
            settings
                .file
                .providers
                .keys()
                .filter_map(|p| p.parse().ok()),
        )
        .collect()
}

/// Where each provider's key comes from; providers the config uses must have one. Unset keys of providers nobody
/// uses are one warning line, not nine.
pub async fn provider_keys(
    settings: &Settings,
    store: Option<&Store>,
) -> (Vec<Check>, Vec<ProviderId>) {
    let vault = load_vault_key(&ProcessEnv).ok().flatten().map(|(k, _)| k);
    let needed = configured(settings);
    let mut checks = Vec::new();
    let mut keyed = Vec::new();
    let mut unset = Vec::new();
    for p in ProviderId::all() {
        let spec = p.spec();
        let name = format!("key {p}");
        if spec.key_env.is_empty() {
            let host = ProcessEnv
                .get(spec.base_url_env)
                .unwrap_or_else(|| spec.default_base_url.to_owned());
            checks.push(Check::ok(name, format!("no key needed ({host})")));
            continue;
        }
        let env_name = spec.key_env[0];
        let found =
            crux_store::resolve_provider_key(store, vault.as_ref(), p, |n| ProcessEnv.get(n)).await;
        let check = match found {
            Ok(Some(k)) => {
                keyed.push(p);
                match k.source {
                    KeySource::Env(var) => Check::ok(name, format!("from {var}")),
                    KeySource::Vault => Check::ok(name, "from the vault"),
                }
            }
            Ok(None) if needed.contains(&p) => Check::fail(
                name,
                "not set, but the config uses this provider",
                if spec.key_env == crux_llm::custom::AWS_KEY_ENV {
                    format!(
                        "export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… (and AWS_SESSION_TOKEN=… for temporary \
                         credentials), or run `crux keys set {p}` with ACCESS_KEY_ID:SECRET_ACCESS_KEY"
                    )
                } else {
                    format!("export {env_name}=… or run `crux keys set {p}`")
                },
            ),
            Ok(None) => {
                unset.push(p.as_str());
                continue;
            }
            Err(e) => Check::fail(
                name,
                format!("stored key unreadable: {e}"),
                "fix the vault key (see above), or set the key again",
            ),
        };
        checks.push(check);
    }
    if !unset.is_empty() {
        checks.push(Check::warn(
            "other keys",
            format!("not set: {}", unset.join(", ")),
            "only for providers you use: export PROVIDER_API_KEY=… or run `crux keys set PROVIDER`",
        ));
    }
    (checks, keyed)
}

/// At least one provider is usable: one with a key, or Ollama at a configured `OLLAMA_HOST`.
pub fn any_provider(keyed: &[ProviderId]) -> Check {
    let mut usable: Vec<&str> = keyed.iter().map(|p| p.as_str()).collect();
    if ProcessEnv
        .get(ProviderId::Ollama.spec().base_url_env)
        .is_some()
    {
        usable.push(ProviderId::Ollama.as_str());
    }
    if usable.is_empty() {
        Check::fail(
            "providers",
            "no provider has a key",
            "set one, e.g. export OPENAI_API_KEY=sk-… (or `crux keys set openai`), or OLLAMA_HOST for a local Ollama",
        )
    } else {
        Check::ok("providers", format!("usable: {}", usable.join(", ")))
    }
}

/// `--online`: one cheap authenticated call (list models) per provider with a key, and Ollama when `OLLAMA_HOST` or
/// the config names it.
pub async fn online(
    client: &Client,
    keyed: &[ProviderId],
    configured: &[ProviderId],
) -> Vec<Check> {
    let mut providers = keyed.to_vec();
    let ollama = ProviderId::Ollama;
    if ProcessEnv.get(ollama.spec().base_url_env).is_some() || configured.contains(&ollama) {
        providers.push(ollama);
    }
    let calls = providers.iter().map(|p| async move {
        let started = Instant::now();
        let r = tokio::time::timeout(Duration::from_secs(15), client.list_models(*p)).await;
        (*p, r, started.elapsed())
    });
    let mut checks = Vec::new();
    for (p, result, took) in futures_util::future::join_all(calls).await {
        let spec = p.spec();
        let name = format!("online {p}");
        let base = ProcessEnv
            .get(spec.base_url_env)
            .unwrap_or_else(|| spec.default_base_url.to_owned());
        let check = match result {
            Ok(Ok(models)) => Check::ok(
                name,
                format!(
                    "{} model(s) listed in {} ms",
                    models.len(),
                    took.as_millis()
                ),
            ),
            Err(_) => Check::fail(
                name,
                format!("no answer from {base} in 15 s"),
                format!("check the network, or {}", spec.base_url_env),
            ),
            Ok(Err(e)) => {
                let fix = match e.code() {
                    ErrorCode::Auth => format!(
                        "the key was refused: replace it (`crux keys set {p}` or {})",
                        spec.key_env.first().copied().unwrap_or("its key variable")
                    ),
                    ErrorCode::Unavailable | ErrorCode::Timeout => {
                        format!(
                            "cannot reach {base}: check the network or {}",
                            spec.base_url_env
                        )
                    }
                    _ => format!("see the provider's message; the endpoint is {base}"),
                };
                Check::fail(name, format!("{e}"), fix)
            }
        };
        checks.push(check);
    }
    checks
}
