//! The usage ledger entry: what the mock reported for one answer (a leaf type shared by the
//! server state and the public API).

/// Usage the mock reported for one answer, normalized the way Crux normalizes it: `prompt` includes cache reads,
/// `completion` includes reasoning/thinking tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportedUsage {
    /// Input tokens.
    pub prompt: u64,
    /// Output tokens.
    pub completion: u64,
}
