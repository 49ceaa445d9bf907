//! Wire-neutral registry of thinking-block signatures issued by the mock, so a wire can reject
//! history whose signature it never issued (as Anthropic does for forged or edited thinking).

use std::collections::HashSet;
use std::sync::Mutex;

use crate::embed;

/// The set of signatures issued so far.
#[derive(Debug, Default)]
pub(crate) struct Signatures {
    issued: Mutex<HashSet<String>>,
}

impl Signatures {
    /// Issues (and remembers) a new opaque base64 signature for `thinking`.
    pub(crate) fn issue(&self, thinking: &str) -> String {
        let mut issued = self
            .issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let raw = format!("crux-mock-signature:{}:{thinking}", issued.len() + 1);
        let sig = embed::base64(raw.as_bytes());
        issued.insert(sig.clone());
        sig
    }

    /// Whether `signature` was issued by this server.
    pub(crate) fn is_issued(&self, signature: &str) -> bool {
        self.issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(signature)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn issued_signatures_are_known_and_distinct() {
        let s = Signatures::default();
        let a = s.issue("x");
        let b = s.issue("x");
        assert_ne!(a, b);
        assert!(s.is_issued(&a) && s.is_issued(&b));
        assert!(!s.is_issued("forged"));
    }
}
