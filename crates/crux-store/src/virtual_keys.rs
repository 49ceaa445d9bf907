//! Virtual keys: client keys for the gateway, stored as a SHA-256 hash plus a display prefix, with budget, rate
//! limit, allowed models and spend.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};
use crate::migrate::hex;
use crate::row::RowExt;
use crate::store::{Store, Tx};
use crate::time::now_ms;

/// The text every virtual key starts with.
pub const KEY_PREFIX: &str = "crux-vk-";

/// Characters of the key kept for display (`crux-vk-AbCd`).
const DISPLAY_CHARS: usize = 12;

/// What to create.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewVirtualKey {
    /// A unique name among active keys.
    pub name: String,
    /// Spend limit in USD, if any.
    pub budget_usd: Option<f64>,
    /// Requests per minute, if limited.
    pub rpm: Option<u32>,
    /// Tokens (prompt plus completion) per minute, if limited.
    pub tpm: Option<u32>,
    /// Allowed models (`provider/model` or aliases); `None` allows every model.
    pub models: Option<Vec<String>>,
}

/// A stored virtual key (without the secret, which is never stored).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VirtualKey {
    /// Stable id (`vk_` + 12 hex digits).
    pub id: String,
    /// Name.
    pub name: String,
    /// The first characters of the key, for recognising it.
    pub prefix: String,
    /// Spend limit in USD.
    pub budget_usd: Option<f64>,
    /// Requests per minute.
    pub rpm: Option<u32>,
    /// Tokens per minute.
    pub tpm: Option<u32>,
    /// Allowed models; `None` = all.
    pub models: Option<Vec<String>>,
    /// Spend so far in USD.
    pub spend_usd: f64,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Creation time (epoch ms).
    pub created_at: i64,
    /// Revocation time (epoch ms).
    pub revoked_at: Option<i64>,
    /// Last spend recorded (epoch ms).
    pub last_used_at: Option<i64>,
}

impl VirtualKey {
    /// Whether this key may call `model` (given as `provider/model` or an alias).
    pub fn allows_model(&self, model: &str) -> bool {
        self.models
            .as_ref()
            .is_none_or(|list| list.iter().any(|m| m == model))
    }

    /// Whether the budget, if any, is used up.
    pub fn over_budget(&self) -> bool {
        self.budget_usd.is_some_and(|b| self.spend_usd >= b)
    }
}

/// The hex SHA-256 under which a key is stored and looked up.
pub fn hash_key(secret: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, secret.as_bytes()).as_ref())
}

fn from_row(r: &impl RowExt) -> Result<VirtualKey> {
    let models = r
        .opt_text("models")?
        .map(|m| serde_json::from_str::<Vec<String>>(&m))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("virtual key models: {e}")))?;
    Ok(VirtualKey {
        id: r.text("id")?,
        name: r.text("name")?,
        prefix: r.text("key_prefix")?,
        budget_usd: r.opt_real("budget_usd")?,
        rpm: r
            .opt_int("rpm")?
            .map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
        tpm: r
            .opt_int("tpm")?
            .map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
        models,
        spend_usd: r.real("spend_usd")?,
        revoked: r.flag("revoked")?,
        created_at: r.int("created_at")?,
        revoked_at: r.opt_int("revoked_at")?,
        last_used_at: r.opt_int("last_used_at")?,
    })
}

fn validate(new: &NewVirtualKey) -> Result<()> {
    let name = new.name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "a virtual key name must be 1 to 64 printable characters".into(),
        ));
    }
    if new.budget_usd.is_some_and(|b| !b.is_finite() || b < 0.0) {
        return Err(StoreError::Invalid(
            "the budget must be a non-negative number of USD".into(),
        ));
    }
    if new.rpm == Some(0) {
        return Err(StoreError::Invalid("rpm must be at least 1".into()));
    }
    if new.tpm == Some(0) {
        return Err(StoreError::Invalid("tpm must be at least 1".into()));
    }
    if new
        .models
        .as_ref()
        .is_some_and(|m| m.is_empty() || m.iter().any(|x| x.trim().is_empty()))
    {
        return Err(StoreError::Invalid(
            "the model list must name at least one model and no empty names".into(),
        ));
    }
    Ok(())
}

impl Store {
    /// Creates a key and returns it with its secret, which is shown to the caller once and never stored.
    pub async fn create_virtual_key(
        &self,
        new: &NewVirtualKey,
    ) -> Result<(VirtualKey, SecretString)> {
        validate(new)?;
        let rng = SystemRandom::new();
        let mut raw = Zeroizing::new([0u8; 24]);
        rng.fill(raw.as_mut()).map_err(|_| StoreError::Random)?;
        let mut id = [0u8; 6];
        rng.fill(&mut id).map_err(|_| StoreError::Random)?;
        let secret = Zeroizing::new(format!(
            "{KEY_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(raw.as_ref())
        ));
        let key = VirtualKey {
            id: format!("vk_{}", hex(&id)),
            name: new.name.trim().to_owned(),
            prefix: secret.chars().take(DISPLAY_CHARS).collect(),
            budget_usd: new.budget_usd,
            rpm: new.rpm,
            tpm: new.tpm,
            models: new
                .models
                .as_ref()
                .map(|m| m.iter().map(|s| s.trim().to_owned()).collect()),
            spend_usd: 0.0,
            revoked: false,
            created_at: now_ms(),
            revoked_at: None,
            last_used_at: None,
        };
        let models = key
            .models
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let result = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO virtual_keys (id, name, key_hash, key_prefix, budget_usd, rpm, tpm, models, spend_usd, \
                 revoked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)",
            )
            .bind(&key.id)
            .bind(&key.name)
            .bind(hash_key(&secret))
            .bind(&key.prefix)
            .bind(key.budget_usd)
            .bind(key.rpm.map(i64::from))
            .bind(key.tpm.map(i64::from))
            .bind(models)
            .bind(false)
            .bind(key.created_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        });
        match result {
            Ok(_) => Ok((key, SecretString::from(secret.to_string()))),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict(
                format!("an active virtual key named '{}' already exists", key.name),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Every key, newest first; revoked ones only when `include_revoked`.
    pub async fn list_virtual_keys(&self, include_revoked: bool) -> Result<Vec<VirtualKey>> {
        let sql = if include_revoked {
            "SELECT id, name, key_hash, key_prefix, budget_usd, rpm, tpm, models, spend_usd, revoked, created_at, \
             revoked_at, last_used_at FROM virtual_keys ORDER BY created_at DESC, id"
        } else {
            "SELECT id, name, key_hash, key_prefix, budget_usd, rpm, tpm, models, spend_usd, revoked, created_at, \
             revoked_at, last_used_at FROM virtual_keys WHERE NOT revoked ORDER BY created_at DESC, id"
        };
        let keys = on_pool!(self, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter().map(from_row).collect::<Result<Vec<_>>>()?
        });
        Ok(keys)
    }

    /// Every active key with its stored hash (see [`hash_key`]), for an in-memory cache that authenticates
    /// requests without a database read.
    pub async fn active_virtual_keys_by_hash(&self) -> Result<Vec<(String, VirtualKey)>> {
        let keys = on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, name, key_hash, key_prefix, budget_usd, rpm, tpm, models, spend_usd, revoked, created_at, \
                 revoked_at, last_used_at FROM virtual_keys WHERE NOT revoked ORDER BY id",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.text("key_hash")?, from_row(r)?)))
                .collect::<Result<Vec<_>>>()?
        });
        Ok(keys)
    }

    /// The key whose secret is `secret` (revoked or not: the caller decides), looked up by hash.
    pub async fn find_virtual_key(&self, secret: &str) -> Result<Option<VirtualKey>> {
        if !secret.starts_with(KEY_PREFIX) {
            return Ok(None);
        }
        let key = on_pool!(self, pool => {
            sqlx::query(
                "SELECT id, name, key_hash, key_prefix, budget_usd, rpm, tpm, models, spend_usd, revoked, created_at, \
                 revoked_at, last_used_at FROM virtual_keys WHERE key_hash = $1",
            )
            .bind(hash_key(secret))
            .fetch_optional(pool)
            .await?
            .as_ref()
            .map(from_row)
            .transpose()?
        });
        Ok(key)
    }

    /// Revokes the active key with this id or name and returns it.
    pub async fn revoke_virtual_key(&self, id_or_name: &str) -> Result<VirtualKey> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let key = on_tx!(&mut tx, conn => {
            let row = sqlx::query(
                "UPDATE virtual_keys SET revoked = $1, revoked_at = $2 WHERE NOT revoked AND (id = $3 OR name = $3) \
                 RETURNING id, name, key_hash, key_prefix, budget_usd, rpm, tpm, models, spend_usd, revoked, created_at, \
                 revoked_at, last_used_at",
            )
            .bind(true)
            .bind(now)
            .bind(id_or_name.trim())
            .fetch_optional(&mut *conn)
            .await?;
            row.as_ref().map(from_row).transpose()?
        });
        let key = key.ok_or_else(|| {
            StoreError::NotFound(format!(
                "no active virtual key with id or name '{}'",
                id_or_name.trim()
            ))
        })?;
        tx.commit().await?;
        Ok(key)
    }

    /// Adds `usd` to a key's spend and marks it used now.
    pub async fn add_virtual_key_spend(&self, id: &str, usd: f64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        add_spend(&mut tx, id, usd, now_ms()).await?;
        tx.commit().await
    }
}

/// The one statement that adds spend: `usd` to key `id`, marked used at `now_ms`, inside `tx` (the write queue adds
/// a batch's spend in the batch's transaction).
pub(crate) async fn add_spend(tx: &mut Tx, id: &str, usd: f64, now_ms: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE virtual_keys SET spend_usd = spend_usd + $1, last_used_at = $2 WHERE id = $3")
            .bind(usd)
            .bind(now_ms)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}
