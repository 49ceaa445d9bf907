//! Builds one provider's [`ModelEntry`] list from the catalog, its last snapshot and the observations.

use std::collections::BTreeMap;

use super::{ModelEntry, ObservedValue, Snapshot};
use crate::catalog::{
    self, Capability, CatalogModel, MAX_TOOL_CALLS_PER_TURN, ProviderCatalog, ToolFormat,
};
use crate::providers::ProviderId;
use crate::types::ModelInfo;

/// Observed capability values keyed by provider and canonical model id.
pub(super) type Observed = BTreeMap<(ProviderId, String), BTreeMap<Capability, bool>>;

/// The merged entries of provider `p`.
pub(super) fn entries(
    p: ProviderId,
    snapshot: Option<&Snapshot>,
    observed: &Observed,
) -> Vec<ModelEntry> {
    let cat = catalog::provider(p);
    let listed = snapshot.map(|_| false);
    let mut out: Vec<ModelEntry> = cat
        .models
        .iter()
        .map(|m| from_catalog(cat, m, listed))
        .collect();
    for info in snapshot.map_or(&[][..], |s| &s.models[..]) {
        match out.iter_mut().find(|e| e.answers_to(&info.id)) {
            Some(known) => {
                known.listed = Some(true);
                if known.context_window.is_none() {
                    known.context_window = info.context_length;
                }
            }
            None => out.push(from_listing(cat, info)),
        }
    }
    // A model known only because it was used and observed (neither the catalog nor the list has it) is listed too,
    // so its observations can be seen and forgotten.
    for (_, id) in observed.keys().filter(|(op, _)| *op == p) {
        if !out.iter().any(|e| e.answers_to(id)) {
            out.push(from_observation(cat, id));
        }
    }
    for e in &mut out {
        apply_observations(cat, e, observed);
    }
    out
}

fn from_catalog(cat: &ProviderCatalog, m: &CatalogModel, listed: Option<bool>) -> ModelEntry {
    ModelEntry {
        provider: cat.provider,
        id: m.id.to_owned(),
        aliases: m.aliases.iter().map(|a| (*a).to_owned()).collect(),
        name: m.name.to_owned(),
        family: Some(m.family.to_owned()),
        // 0: a config model listed without its context window.
        context_window: Some(m.context_window).filter(|_| m.context_window > 0),
        max_output_tokens: Some(m.max_output_tokens).filter(|_| m.context_window > 0),
        prices: m.prices,
        capabilities: Capability::CATALOG
            .into_iter()
            .map(|c| (c, m.capabilities.get(c)))
            .collect(),
        observed: BTreeMap::new(),
        ide: m.ide(cat),
        in_catalog: true,
        listed,
    }
}

/// A model only the provider's list knows: limits from the list when given, everything else unknown.
fn from_listing(cat: &ProviderCatalog, info: &ModelInfo) -> ModelEntry {
    let id = catalog::canonical_id(cat.provider, &info.id).to_owned();
    ModelEntry {
        provider: cat.provider,
        name: id.clone(),
        id,
        aliases: Vec::new(),
        family: None,
        context_window: info.context_length,
        max_output_tokens: None,
        prices: None,
        capabilities: BTreeMap::new(),
        observed: BTreeMap::new(),
        ide: cat.ide_default(),
        in_catalog: false,
        listed: Some(true),
    }
}

/// A model only observations know: everything unknown, not listed.
fn from_observation(cat: &ProviderCatalog, id: &str) -> ModelEntry {
    ModelEntry {
        listed: None,
        ..from_listing(
            cat,
            &ModelInfo {
                provider: cat.provider.as_str().to_owned(),
                id: id.to_owned(),
                owned_by: None,
                context_length: None,
            },
        )
    }
}

/// Observations override the catalog in both directions; the IDE tool keys follow the tools capability.
fn apply_observations(cat: &ProviderCatalog, e: &mut ModelEntry, observed: &Observed) {
    let hits: Vec<(Capability, bool)> = observed
        .iter()
        .filter(|((p, id), _)| *p == e.provider && (e.id == *id || e.aliases.contains(id)))
        .flat_map(|(_, caps)| caps.iter().map(|(c, v)| (*c, *v)))
        .collect();
    for (cap, value) in hits {
        let catalog = e.capabilities.insert(cap, value);
        let catalog = e.observed.get(&cap).map_or(catalog, |o| o.catalog);
        e.observed.insert(cap, ObservedValue { value, catalog });
    }
    if let Some(tools) = e.capability(Capability::Tools) {
        e.ide.tools_supported = tools;
        e.ide.tool_format = if tools {
            cat.tool_format
        } else {
            ToolFormat::None
        };
        e.ide.max_tool_calls_per_turn = if tools { MAX_TOOL_CALLS_PER_TURN } else { 0 };
    }
}
