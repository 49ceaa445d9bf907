//! `crux db import-legacy`: imports the original Python system's SQLite file (schema A, schema B, or both in one
//! file) in one transaction — keys (encrypted with the vault), prefs, metrics, chat logs, the model registry and
//! observed capabilities.
//!
//! Re-running is safe: keys and prefs that already exist are kept, metrics and chat logs carry an `import_key`
//! (a hash of the legacy row) so a row is never imported twice, registry rows are inserted only when absent.

use std::collections::BTreeMap;
use std::path::Path;

use crux_llm::ProviderId;

use crate::bulk::insert_rows;
use crate::error::{Result, StoreError};
use crate::keys::{put_sealed, stored_providers};
use crate::legacy_map::read;
use crate::legacy_read::{LegacyFile, LegacyKey, reject_key};
use crate::logs::CHAT_COLS;
use crate::metrics::METRIC_COLS;
use crate::prefs::insert_pref_if_absent;
use crate::redact::Redactor;
use crate::registry::MODEL_COLS;
use crate::store::Store;
use crate::time::parse_iso;
use crate::vault::VaultKey;

pub use crate::legacy_report::{ImportCounts, LegacyReport};

/// Valid keys per provider, newest first when both schemas hold one.
fn choose_keys(keys: Vec<LegacyKey>, notes: &mut Vec<String>) -> BTreeMap<ProviderId, String> {
    let mut best: BTreeMap<ProviderId, (i64, String)> = BTreeMap::new();
    for k in keys {
        let Ok(provider) = k.provider.trim().parse::<ProviderId>() else {
            notes.push(format!(
                "key for unknown provider '{}' skipped",
                k.provider.trim()
            ));
            continue;
        };
        if let Some(why) = reject_key(&k.key) {
            notes.push(format!("{provider} key skipped: {why}"));
            continue;
        }
        let at = k.updated_at.as_deref().and_then(parse_iso).unwrap_or(0);
        if best.get(&provider).is_none_or(|(t, _)| at >= *t) {
            best.insert(provider, (at, k.key.trim().to_owned()));
        }
    }
    best.into_iter().map(|(p, (_, k))| (p, k)).collect()
}

const IMPORTED: &str = "ON CONFLICT (import_key) WHERE import_key IS NOT NULL DO NOTHING";

/// Imports the legacy file at `path` into `store` in one transaction (nothing changes on error). Keys need `vault`;
/// a file holding keys with no vault key fails with [`StoreError::NoVaultKey`] before anything is written.
/// `redactor`, when given, is applied to imported chat-log text.
pub async fn import_legacy(
    store: &Store,
    path: &Path,
    vault: Option<&VaultKey>,
    redactor: Option<&Redactor>,
) -> Result<LegacyReport> {
    let mut report = LegacyReport::default();
    let mut file = LegacyFile::open(path).await?;
    if file.tables.contains_key("crux_schema_migrations") {
        file.close().await;
        return Err(StoreError::Invalid(format!(
            "{} is a crux store, not a file of the original system (use `crux db copy` to move a crux store)",
            path.display()
        )));
    }
    let data = read(&mut file, &mut report, redactor).await;
    file.close().await;
    let data = data?;
    if !report.schema_a && !report.schema_b {
        return Err(StoreError::Invalid(format!(
            "{} holds no tables of the original system (api_keys/keys, prefs, metrics, chat_logs, model_registry)",
            path.display()
        )));
    }
    let keys_found = data.keys.len();
    let keys = choose_keys(data.keys, &mut report.notes);
    if !keys.is_empty() && vault.is_none() {
        return Err(StoreError::NoVaultKey);
    }
    let mut tx = store.begin_write().await?;
    let mut keys_imported = 0;
    if let Some(vault) = vault.filter(|_| !keys.is_empty()) {
        let existing = stored_providers(&mut tx).await?;
        for (p, sealed) in &existing {
            vault.open(p, sealed)?;
        }
        for (provider, key) in &keys {
            if existing.iter().any(|(p, _)| p == provider.as_str()) {
                report
                    .notes
                    .push(format!("{provider} key kept: the vault already holds one"));
                continue;
            }
            put_sealed(&mut tx, vault, provider.as_str(), key).await?;
            keys_imported += 1;
        }
    }
    report.keys = ImportCounts::of(keys_found, keys_imported);
    let mut prefs_imported = 0;
    for (name, value) in &data.prefs {
        prefs_imported += u64::from(insert_pref_if_absent(&mut tx, name, value).await?);
    }
    report.prefs = ImportCounts::of(data.prefs.len(), prefs_imported);
    let n = insert_rows(
        &mut tx,
        "metric_points",
        &METRIC_COLS,
        &data.metrics,
        IMPORTED,
    )
    .await?;
    report.metrics = ImportCounts::of(data.metrics.len(), n);
    let n = insert_rows(&mut tx, "chat_logs", &CHAT_COLS, &data.chat_logs, IMPORTED).await?;
    report.chat_logs = ImportCounts::of(data.chat_logs.len(), n);
    let conflict = "ON CONFLICT (provider, model_id) DO NOTHING";
    let n = insert_rows(
        &mut tx,
        "model_registry",
        &MODEL_COLS,
        &data.models,
        conflict,
    )
    .await?;
    report.models = ImportCounts::of(data.models.len(), n);
    let cols = ["provider", "fetched_at", "fetched_via", "metadata"];
    let n = insert_rows(
        &mut tx,
        "model_registry_meta",
        &cols,
        &data.meta,
        "ON CONFLICT (provider) DO NOTHING",
    )
    .await?;
    report.model_meta = ImportCounts::of(data.meta.len(), n);
    let cols = ["provider", "model_id", "feature", "value", "updated_at"];
    let conflict = "ON CONFLICT (provider, model_id, feature) DO NOTHING";
    let n = insert_rows(
        &mut tx,
        "observed_capabilities",
        &cols,
        &data.observed,
        conflict,
    )
    .await?;
    report.observed = ImportCounts::of(data.observed.len(), n);
    tx.commit().await?;
    Ok(report)
}
