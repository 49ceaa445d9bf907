//! The rows of providers defined in the config: written once at startup (by [`crate::custom::register`]), read
//! without a lock (a fixed array of write-once slots), so a config provider costs a request what a built-in one does.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::ProviderSpec;

/// Providers a config may define.
pub const MAX: usize = 64;

static SLOTS: [OnceLock<ProviderSpec>; MAX] = [const { OnceLock::new() }; MAX];
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// How many are registered.
pub fn count() -> usize {
    COUNT.load(Ordering::Acquire)
}

/// The `i`-th row.
pub fn spec(i: usize) -> Option<&'static ProviderSpec> {
    SLOTS.get(i)?.get()
}

/// The position of the row named `name` (ASCII case-insensitive).
pub fn find(name: &str) -> Option<usize> {
    (0..count()).find(|&i| spec(i).is_some_and(|s| s.id.eq_ignore_ascii_case(name)))
}

/// Append a row (the caller holds the registration lock); `None` when every slot is taken.
pub fn push(make: impl FnOnce(usize) -> ProviderSpec) -> Option<usize> {
    let i = count();
    SLOTS.get(i)?.set(make(i)).ok()?;
    COUNT.store(i + 1, Ordering::Release);
    Some(i)
}
