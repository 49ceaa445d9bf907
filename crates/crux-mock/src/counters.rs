//! Per-spec request counters backing the `times=N` fault item (a leaf: the server state owns
//! one, fault resolution consults it).

use std::collections::HashMap;
use std::sync::Mutex;

/// Per-spec request counters backing `times=N`.
#[derive(Debug, Default)]
pub(crate) struct FaultCounters {
    seen: Mutex<HashMap<String, u64>>,
}

impl FaultCounters {
    /// Counts one more request carrying `spec`; true if the fault applies to it.
    pub(crate) fn admit(&self, spec: &str, times: Option<u64>) -> bool {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = seen.entry(spec.to_owned()).or_insert(0);
        *count += 1;
        times.is_none_or(|limit| *count <= limit)
    }

    /// Forgets all counts.
    pub(crate) fn clear(&self) {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn counters_limit_by_spec() {
        let c = FaultCounters::default();
        assert!(c.admit("a", Some(2)));
        assert!(c.admit("a", Some(2)));
        assert!(!c.admit("a", Some(2)));
        assert!(c.admit("b", Some(1)));
        assert!(c.admit("c", None));
        c.clear();
        assert!(c.admit("a", Some(2)));
    }
}
