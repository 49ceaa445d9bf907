//! The outcome of a legacy import ([`LegacyReport`], [`ImportCounts`]): a leaf shared by the importer (`legacy`)
//! and the row mapping (`legacy_map`), so neither imports the other.

/// What happened to one kind of row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    /// Rows found in the legacy file.
    pub found: u64,
    /// Rows imported now.
    pub imported: u64,
    /// Rows not imported (already present, or invalid: see the notes).
    pub skipped: u64,
}

impl ImportCounts {
    /// `found` rows of which `imported` were imported; the rest were skipped.
    pub(crate) fn of(found: usize, imported: u64) -> Self {
        let found = found as u64;
        ImportCounts {
            found,
            imported,
            skipped: found.saturating_sub(imported),
        }
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LegacyReport {
    /// Schema A tables were found.
    pub schema_a: bool,
    /// Schema B tables were found.
    pub schema_b: bool,
    /// Provider keys (from `api_keys` and `keys`).
    pub keys: ImportCounts,
    /// Prefs (from either `prefs` shape).
    pub prefs: ImportCounts,
    /// Metric points (from either `metrics` shape).
    pub metrics: ImportCounts,
    /// Chat logs (schema B).
    pub chat_logs: ImportCounts,
    /// Model registry rows.
    pub models: ImportCounts,
    /// Registry fetch metadata rows.
    pub model_meta: ImportCounts,
    /// Observed capabilities.
    pub observed: ImportCounts,
    /// Human-readable notes about skipped or adjusted rows.
    pub notes: Vec<String>,
}
