//! The models the gateway advertises: route targets and every provider's registry entries.

use std::collections::BTreeSet;

use crux_llm::ProviderId;

use crate::state::AppState;

/// `(provider, model)` pairs known to the gateway, sorted and deduplicated.
pub fn known(state: &AppState) -> Vec<(ProviderId, String)> {
    let mut set: BTreeSet<(ProviderId, String)> = BTreeSet::new();
    for targets in state.config.routes.values() {
        set.extend(targets.iter().map(|t| (t.provider, t.model.clone())));
    }
    set.into_iter().collect()
}
