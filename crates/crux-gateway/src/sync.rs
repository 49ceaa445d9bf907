//! Background sync with the store: virtual keys (with their spend) into the in-memory cache, registry snapshots and
//! observed capabilities (loaded at startup; new ones are written as they are observed, see [`persist_observations`]).
//! The request path only ever reads the caches; this task is the only database reader.

use std::sync::Arc;
use std::time::Duration;

use crux_llm::registry::{Observation, Snapshot};
use crux_llm::{ModelInfo, ProviderId};
use crux_store::{ModelRecord, Store};
use tokio::task::JoinHandle;

use crate::keys::CachedKey;
use crate::state::AppState;

/// Load the active virtual keys into the cache (spend folded in, so local spend starts over).
pub async fn refresh_keys(state: &AppState) -> crux_store::Result<usize> {
    let Some(store) = &state.persistence.store else {
        return Ok(0);
    };
    let keys = store.active_virtual_keys_by_hash().await?;
    let n = keys.len();
    state.keys.replace(keys.into_iter().map(|(hash, k)| {
        (
            hash,
            CachedKey {
                id: k.id,
                name: k.name,
                rpm: k.rpm,
                tpm: k.tpm,
                budget_usd: k.budget_usd,
                models: k.models,
                spend_usd: k.spend_usd,
            },
        )
    }));
    state.limiter.clear_spend();
    Ok(n)
}

/// Load every key's request count over the last minute, across all instances, into the limiter.
pub async fn refresh_counts(state: &AppState) -> crux_store::Result<()> {
    let Some(store) = &state.persistence.store else {
        return Ok(());
    };
    let since = crux_store::time::now_ms() - 60_000;
    let counts = store.requests_per_key_since(since).await?;
    state.limiter.sync_counts(counts.into_iter().collect());
    Ok(())
}

/// One sync round: keys (with spend) and request counts.
pub async fn sync_limits(state: &AppState) -> crux_store::Result<()> {
    refresh_keys(state).await?;
    refresh_counts(state).await
}

/// Every stored observed capability (names the registry does not know, e.g. a legacy `json_output`, are skipped).
pub async fn stored_observations(store: &Store) -> crux_store::Result<Vec<Observation>> {
    let mut out = Vec::new();
    for p in ProviderId::all() {
        for (model, features) in store.load_observed_capabilities(p.as_str()).await? {
            out.extend(features.into_iter().filter_map(|(feature, value)| {
                Some(Observation {
                    provider: p,
                    model: model.clone(),
                    capability: feature.parse().ok()?,
                    value,
                })
            }));
        }
    }
    Ok(out)
}

/// Write each new observation to `store` in the background (the request path never waits on it).
pub fn persist_observations(store: Store) -> crux_llm::router::Observer {
    Box::new(move |obs: &Observation| {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = store.clone();
        let obs = obs.clone();
        rt.spawn(async move {
            let feature = obs.capability.as_str();
            if let Err(e) = store
                .record_observed_capability(obs.provider.as_str(), &obs.model, feature, obs.value)
                .await
            {
                tracing::warn!(error = %e, model = %obs.model, feature, "cannot store an observed capability");
            }
        });
    })
}

/// Load every stored registry snapshot and observed capability into the in-memory registry; returns the number of
/// snapshots.
pub async fn load_registry(state: &AppState) -> crux_store::Result<usize> {
    let Some(store) = &state.persistence.store else {
        return Ok(0);
    };
    let observations = stored_observations(store).await?;
    if let Ok(mut registry) = state.router.registry().write() {
        for obs in observations {
            registry.observe(obs);
        }
    }
    let mut loaded = 0;
    for p in ProviderId::all() {
        let Some(stored) = store.load_models_snapshot(p.as_str()).await? else {
            continue;
        };
        let snapshot = snapshot_from_stored(p, stored);
        if let Ok(mut registry) = state.router.registry().write() {
            registry.set_snapshot(snapshot);
            loaded += 1;
        }
    }
    Ok(loaded)
}

/// A stored snapshot as the registry's type.
pub fn snapshot_from_stored(
    provider: ProviderId,
    stored: crux_store::RegistrySnapshot,
) -> Snapshot {
    Snapshot {
        provider,
        models: stored
            .models
            .into_iter()
            .map(|m| ModelInfo {
                provider: provider.as_str().to_owned(),
                id: m.id,
                owned_by: Some(m.name),
                context_length: m.context_length,
            })
            .collect(),
        fetched_at: stored
            .fetched_at
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
        source: stored.fetched_via.unwrap_or_else(|| "store".to_owned()),
    }
}

/// Persist a fresh snapshot so other instances and restarts see it.
pub async fn save_snapshot(store: &Store, snapshot: &Snapshot) -> crux_store::Result<()> {
    let models: Vec<ModelRecord> = snapshot
        .models
        .iter()
        .map(|m| ModelRecord {
            id: m.id.clone(),
            name: m.owned_by.clone().unwrap_or_else(|| m.id.clone()),
            family: None,
            context_length: m.context_length,
            capabilities: None,
            updated_at: None,
        })
        .collect();
    store
        .save_models_snapshot(snapshot.provider.as_str(), &models, &snapshot.source, None)
        .await
}

/// Refresh the key cache every `every` (budgets and revocations from other instances show up within it).
pub fn spawn(state: Arc<AppState>, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sync_limits(&state).await {
                tracing::warn!(error = %e, "virtual-key refresh failed; keeping the cached keys");
            }
        }
    })
}
