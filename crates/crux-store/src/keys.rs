//! Provider keys in the vault, and the key resolution order: environment first, then the vault.

use crux_llm::ProviderId;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Result, StoreError};
use crate::row::RowExt;
use crate::store::{Store, Tx};
use crate::time::now_ms;
use crate::vault::VaultKey;

/// A stored provider key's metadata (never its value).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredKey {
    /// Provider id (`openai`, …).
    pub provider: String,
    /// When it was first stored (epoch ms).
    pub created_at: i64,
    /// When it was last replaced (epoch ms).
    pub updated_at: i64,
}

/// Where a resolved key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// The named environment variable.
    Env(&'static str),
    /// The encrypted vault in the store.
    Vault,
}

/// A key ready to use, and its source.
#[derive(Debug)]
pub struct ResolvedKey {
    /// The key (redacted in `Debug`).
    pub value: SecretString,
    /// Where it came from.
    pub source: KeySource,
}

const UPSERT: &str = "INSERT INTO provider_keys (provider, ciphertext, created_at, updated_at) VALUES ($1, $2, $3, $3)
    ON CONFLICT (provider) DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = excluded.updated_at";

/// Reads every `(provider, ciphertext)` row inside `tx`.
async fn sealed_rows(tx: &mut Tx) -> Result<Vec<(String, String)>> {
    let rows = on_tx!(tx, conn => {
        let rows = sqlx::query("SELECT provider, ciphertext FROM provider_keys ORDER BY provider")
            .fetch_all(&mut *conn)
            .await?;
        rows.iter()
            .map(|r| Ok((r.text("provider")?, r.text("ciphertext")?)))
            .collect::<Result<Vec<_>>>()?
    });
    Ok(rows)
}

/// Decrypts every row, failing with [`StoreError::VaultMismatch`] on the first that does not open.
fn open_all(vault: &VaultKey, rows: &[(String, String)]) -> Result<Vec<(String, SecretString)>> {
    rows.iter()
        .map(|(p, c)| Ok((p.clone(), vault.open(p, c)?)))
        .collect()
}

/// Rejects values that cannot be API keys (empty, or containing whitespace or control characters).
pub(crate) fn check_key_value(value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(StoreError::Invalid("the key is empty".into()));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(StoreError::Invalid(
            "the key contains whitespace or control characters".into(),
        ));
    }
    Ok(())
}

impl Store {
    /// Encrypts and stores (or replaces) `provider`'s key. Every stored row is first checked to open with `vault`,
    /// so a wrong vault key fails with [`StoreError::VaultMismatch`] and changes nothing.
    pub async fn set_provider_key(
        &self,
        vault: &VaultKey,
        provider: ProviderId,
        value: &SecretString,
    ) -> Result<()> {
        check_key_value(value.expose_secret())?;
        let mut tx = self.begin_write().await?;
        open_all(vault, &sealed_rows(&mut tx).await?)?;
        put_sealed(&mut tx, vault, provider.as_str(), value.expose_secret()).await?;
        tx.commit().await
    }

    /// The decrypted key of `provider`, if one is stored.
    pub async fn provider_key(
        &self,
        vault: &VaultKey,
        provider: ProviderId,
    ) -> Result<Option<SecretString>> {
        match self.sealed_key(provider).await? {
            Some(c) => Ok(Some(vault.open(provider.as_str(), &c)?)),
            None => Ok(None),
        }
    }

    async fn sealed_key(&self, provider: ProviderId) -> Result<Option<String>> {
        let row = on_pool!(self, pool => {
            sqlx::query("SELECT ciphertext FROM provider_keys WHERE provider = $1")
                .bind(provider.as_str())
                .fetch_optional(pool)
                .await?
                .map(|r| r.text("ciphertext"))
                .transpose()?
        });
        Ok(row)
    }

    /// Which providers have a stored key (no decryption, no vault key needed).
    pub async fn list_provider_keys(&self) -> Result<Vec<StoredKey>> {
        let rows = on_pool!(self, pool => {
            let rows = sqlx::query("SELECT provider, created_at, updated_at FROM provider_keys ORDER BY provider")
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| Ok(StoredKey {
                    provider: r.text("provider")?,
                    created_at: r.int("created_at")?,
                    updated_at: r.int("updated_at")?,
                }))
                .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// Decrypts every stored key (fails as a whole on a vault key mismatch).
    pub async fn decrypt_provider_keys(
        &self,
        vault: &VaultKey,
    ) -> Result<Vec<(String, SecretString)>> {
        let mut tx = self.begin_read().await?;
        let rows = sealed_rows(&mut tx).await?;
        tx.commit().await?;
        open_all(vault, &rows)
    }

    /// Deletes `provider`'s stored key; `false` when there was none.
    pub async fn remove_provider_key(&self, provider: ProviderId) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM provider_keys WHERE provider = $1")
                .bind(provider.as_str())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Re-encrypts every stored key from `old` to `new` in one transaction; returns how many rows changed.
    /// If any row does not open with `old`, nothing changes ([`StoreError::VaultMismatch`]).
    pub async fn rotate_vault_key(&self, old: &VaultKey, new: &VaultKey) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let plain = open_all(old, &sealed_rows(&mut tx).await?)?;
        for (provider, value) in &plain {
            put_sealed(&mut tx, new, provider, value.expose_secret()).await?;
        }
        tx.commit().await?;
        Ok(plain.len())
    }

    /// Checks that `vault` opens every stored key; returns how many there are.
    pub async fn verify_vault_key(&self, vault: &VaultKey) -> Result<usize> {
        Ok(self.decrypt_provider_keys(vault).await?.len())
    }
}

/// Seals `value` for `provider` and upserts it inside `tx`.
pub(crate) async fn put_sealed(
    tx: &mut Tx,
    vault: &VaultKey,
    provider: &str,
    value: &str,
) -> Result<()> {
    let sealed = vault.seal(provider, value)?;
    let now = now_ms();
    on_tx!(tx, conn => {
        sqlx::query(UPSERT)
            .bind(provider)
            .bind(&sealed)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Providers whose key is already stored, inside `tx` (used by the legacy import to keep existing keys).
pub(crate) async fn stored_providers(tx: &mut Tx) -> Result<Vec<(String, String)>> {
    sealed_rows(tx).await
}

/// Resolves `provider`'s key: the first non-empty environment variable of the provider's table row
/// (`OPENAI_API_KEY`, `GEMINI_API_KEY` then `GOOGLE_API_KEY`, …) wins; otherwise the vault. `env` looks a variable
/// up (the library never reads the process environment itself). A stored key with no vault key is an error
/// ([`StoreError::NoVaultKey`]) rather than a silent "no key".
pub async fn resolve_provider_key(
    store: Option<&Store>,
    vault: Option<&VaultKey>,
    provider: ProviderId,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<ResolvedKey>> {
    if let Some((v, name)) = crux_llm::custom::env_key(provider.spec(), env) {
        return Ok(Some(ResolvedKey {
            value: SecretString::from(v),
            source: KeySource::Env(name),
        }));
    }
    let Some(store) = store else {
        return Ok(None);
    };
    let Some(sealed) = store.sealed_key(provider).await? else {
        return Ok(None);
    };
    let vault = vault.ok_or(StoreError::NoVaultKey)?;
    Ok(Some(ResolvedKey {
        value: vault.open(provider.as_str(), &sealed)?,
        source: KeySource::Vault,
    }))
}
