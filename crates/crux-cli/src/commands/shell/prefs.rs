//! The shell's remembered choices in the store's prefs: the last model used (`shell.model`). A store that cannot be
//! opened or written only costs the memory, never the session.

use crux_store::Store;
use serde_json::{Map, Value};

/// The pref that holds the last model.
pub const LAST_MODEL: &str = "shell.model";

/// The last model used, if one was remembered.
pub async fn last_model(store: Option<&Store>) -> Option<String> {
    let prefs = store?.prefs().await.ok()?;
    prefs
        .get(LAST_MODEL)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|m| !m.trim().is_empty())
}

/// Remember `model` (best effort).
pub async fn remember_model(store: Option<&Store>, model: &str) {
    let Some(store) = store else {
        return;
    };
    let mut values = Map::new();
    values.insert(LAST_MODEL.to_owned(), Value::String(model.to_owned()));
    let _ = store.merge_prefs(&values).await;
}
