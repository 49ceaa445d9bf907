//! The byte budget that large request bodies are admitted against (see `big_body.rs`), a leaf the shared state holds.

use std::sync::Arc;

use tokio::sync::Semaphore;

/// The budget's unit: one permit per started MiB.
pub(crate) const UNIT: usize = 1 << 20;

/// What a large body costs in memory while it is served, as a multiple of its size: the body itself, the parsed
/// request (its strings are copies) and one working copy (the core request, or the serializer's buffer). Measured with
/// `scripts/reliability.py flood`: charging the body's bytes alone let two 30 MB prompts in at once under the
/// default budget and peaked at 354 MB; charging its footprint lets one in at a time (`docs/reliability.md`).
pub(crate) const FOOTPRINT: usize = 3;

/// The memory of large request bodies being read or served at once (`[server] large_body_budget_bytes`). A large
/// body takes [`FOOTPRINT`] times its announced size (at most the whole budget) from the budget before a byte of it
/// is read (one of unknown length takes the whole body limit once it passes [`crate::big_body::LARGE_BODY_BYTES`])
/// and gives it back when its handler has answered; beyond the budget a request waits, and after half the body
/// timeout it is answered `503 overloaded` with `Retry-After: 1`.
#[derive(Debug)]
pub struct LargeBodies {
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) units: u32,
}

impl LargeBodies {
    /// A budget of `budget_bytes`, never less than one body of `body_limit` (so every admissible body can run).
    pub fn new(budget_bytes: usize, body_limit: usize) -> Self {
        let units = budget_bytes.max(body_limit).max(1).div_ceil(UNIT);
        let units = u32::try_from(units.min(Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
        Self {
            permits: Arc::new(Semaphore::new(units as usize)),
            units,
        }
    }

    /// Permits for a body of `bytes`: its footprint while served, at most the whole budget.
    pub(crate) fn units_for(&self, bytes: usize) -> u32 {
        u32::try_from(bytes.saturating_mul(FOOTPRINT).div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .clamp(1, self.units)
    }

    /// Bytes of the budget not taken now.
    pub fn available_bytes(&self) -> usize {
        self.permits.available_permits().saturating_mul(UNIT)
    }
}
