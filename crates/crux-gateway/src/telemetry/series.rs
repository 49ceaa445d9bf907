//! The metric handles of a request's series, kept per worker thread: a `counter!`/`histogram!` builds its key (a
//! label vector, an owned model name), hashes it and looks it up in the recorder's registry on every call; a request
//! records seven of them. Here each handle is made once, on first use (so a series is registered exactly when the
//! macro would have registered it), and found again by its labels in a thread-local map: no lock, no allocation.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Weak};

use metrics::{Counter, Histogram};

/// The handles of one (provider, model, route, status) series, each made on first use.
#[derive(Default)]
pub struct Series {
    /// `crux_requests_total`.
    pub requests: OnceCell<Counter>,
    /// `crux_request_duration_seconds` (by route).
    pub duration: OnceCell<Histogram>,
    /// `crux_upstream_duration_seconds` (by provider).
    pub upstream: OnceCell<Histogram>,
    /// Time to first token (by provider).
    pub ttft: OnceCell<Histogram>,
    /// Time per output token (by provider).
    pub tpot: OnceCell<Histogram>,
    /// Tokens by kind: prompt, completion, cached.
    pub tokens: [OnceCell<Counter>; 3],
    /// Cost in micro-dollars.
    pub cost: OnceCell<Counter>,
}

/// The labels shared by a request's series; the model is the inner map's key (looked up by `&str`).
type Outer = (usize, &'static str, &'static str, &'static str);

/// One owner's series: the owner's liveness (an address can be reused by a later recorder) and its models.
type Models = (Weak<()>, HashMap<Box<str>, Rc<Series>>);

thread_local! {
    static CACHE: RefCell<HashMap<Outer, Models>> = RefCell::new(HashMap::new());
}

/// The series of `owner` (the recorder's identity) with these labels, from this thread's cache.
pub(super) fn lookup(
    owner: &Arc<()>,
    provider: &'static str,
    model: &str,
    route: &'static str,
    status: &'static str,
) -> Rc<Series> {
    let id = Arc::as_ptr(owner) as usize;
    CACHE.with_borrow_mut(|cache| {
        let outer = (id, provider, route, status);
        let fresh = |(alive, _): &Models| alive.strong_count() > 0;
        if !cache.get(&outer).is_some_and(fresh) {
            // A new owner (or one reusing a dead one's address): forget the series of recorders that are gone.
            cache.retain(|_, m| fresh(m));
        }
        let (_, models) = cache
            .entry(outer)
            .or_insert_with(|| (Arc::downgrade(owner), HashMap::new()));
        if let Some(s) = models.get(model) {
            return Rc::clone(s);
        }
        let s = Rc::new(Series::default());
        models.insert(model.into(), Rc::clone(&s));
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_series_per_labels_and_owner() {
        let (a, b) = (Arc::new(()), Arc::new(()));
        let s1 = lookup(&a, "openai", "gpt-4o", "chat_completions", "ok");
        let s2 = lookup(&a, "openai", "gpt-4o", "chat_completions", "ok");
        assert!(Rc::ptr_eq(&s1, &s2));
        for other in [
            lookup(&a, "openai", "gpt-4o-mini", "chat_completions", "ok"),
            lookup(&a, "openai", "gpt-4o", "messages", "ok"),
            lookup(&a, "openai", "gpt-4o", "chat_completions", "error"),
            lookup(&a, "groq", "gpt-4o", "chat_completions", "ok"),
            lookup(&b, "openai", "gpt-4o", "chat_completions", "ok"),
        ] {
            assert!(!Rc::ptr_eq(&s1, &other));
        }
    }

    #[test]
    fn a_dropped_owner_leaves_nothing_behind() {
        let a = Arc::new(());
        let s1 = lookup(&a, "openai", "m", "r", "ok");
        drop(a);
        let b = Arc::new(());
        let s2 = lookup(&b, "openai", "m", "r", "ok");
        assert!(!Rc::ptr_eq(&s1, &s2));
        CACHE.with_borrow(|c| assert!(c.values().all(|(w, _)| w.strong_count() > 0)));
    }
}
