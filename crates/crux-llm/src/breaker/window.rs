//! A rolling window of call outcomes: calls and failures counted in ten buckets, so the window slides by a tenth
//! of its length with constant memory per breaker.

/// Buckets per window.
const BUCKETS: u64 = 10;

/// One tenth of the window: its index on the clock (`0` = never used) and what happened in it.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    epoch: u64,
    calls: u32,
    failures: u32,
}

/// Calls and failures of the last `window_ms` (to a tenth of it: the oldest bucket drops out whole).
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    width_ms: u64,
    buckets: [Bucket; BUCKETS as usize],
}

impl Window {
    /// An empty window `window_ms` long.
    pub(super) fn new(window_ms: u64) -> Self {
        Self {
            width_ms: (window_ms / BUCKETS).max(1),
            buckets: [Bucket::default(); BUCKETS as usize],
        }
    }

    /// The bucket index of `now_ms` (from 1, so the default `0` never matches).
    fn epoch(&self, now_ms: u64) -> u64 {
        now_ms / self.width_ms + 1
    }

    /// Count one call at `now_ms`.
    pub(super) fn add(&mut self, now_ms: u64, failed: bool) {
        let epoch = self.epoch(now_ms);
        let slot = usize::try_from(epoch % BUCKETS).unwrap_or(0);
        let b = &mut self.buckets[slot];
        if b.epoch != epoch {
            *b = Bucket {
                epoch,
                ..Bucket::default()
            };
        }
        b.calls = b.calls.saturating_add(1);
        if failed {
            b.failures = b.failures.saturating_add(1);
        }
    }

    /// `(calls, failures)` within the window ending at `now_ms`.
    pub(super) fn totals(&self, now_ms: u64) -> (u64, u64) {
        let epoch = self.epoch(now_ms);
        self.buckets
            .iter()
            .filter(|b| b.epoch != 0 && b.epoch <= epoch && b.epoch + BUCKETS > epoch)
            .fold((0, 0), |(c, f), b| {
                (c + u64::from(b.calls), f + u64::from(b.failures))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_slide_out_a_tenth_at_a_time() {
        let mut w = Window::new(1000);
        w.add(0, true);
        w.add(50, false);
        w.add(450, false);
        assert_eq!(w.totals(450), (3, 1));
        assert_eq!(w.totals(999), (3, 1), "still inside the window");
        assert_eq!(
            w.totals(1000),
            (1, 0),
            "the first bucket (0–99 ms) has left"
        );
        assert_eq!(w.totals(1450), (0, 0));
        // A slot reused by a later epoch starts from zero.
        w.add(1000, true);
        assert_eq!(w.totals(1000), (2, 1));
        let tiny = Window::new(0);
        assert_eq!(tiny.width_ms, 1, "a zero window still has buckets");
    }
}
