//! The catalogs of providers defined in the config (the models a `[providers.NAME]` section lists, with their context
//! windows and prices): written once at registration, read without a lock, like the rows in `providers::custom`.

use std::sync::OnceLock;

use super::ProviderCatalog;
use crate::providers::custom::MAX;

static SLOTS: [OnceLock<ProviderCatalog>; MAX] = [const { OnceLock::new() }; MAX];

/// The `i`-th config provider's catalog.
pub fn get(i: usize) -> Option<&'static ProviderCatalog> {
    SLOTS.get(i)?.get()
}

/// Set the `i`-th catalog (once; a second call changes nothing and says so).
pub fn set(i: usize, catalog: ProviderCatalog) -> bool {
    SLOTS.get(i).is_some_and(|s| s.set(catalog).is_ok())
}
