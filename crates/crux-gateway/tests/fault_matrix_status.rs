//! Fault matrix, upstream statuses with bodies, `retry-after`, fail-then-succeed: each fault × dialect runs its four cells (stream or not, direct or alias with
//! fallback) and checks the client-visible outcome and the one chat-log row against `docs/reliability.md`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod fault_matrix_support;

use fault_matrix_support::{Dialect, Fault, Stub, Upstream, run};

macro_rules! row {
    ($name:ident, $upstream:expr) => {
        mod $name {
            use super::*;
            const FAULT: Fault = Fault {
                id: stringify!($name),
                upstream: $upstream,
            };
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn openai() {
                run(FAULT, Dialect::OpenAi).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn anthropic() {
                run(FAULT, Dialect::Anthropic).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn responses() {
                run(FAULT, Dialect::Responses).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn native() {
                run(FAULT, Dialect::Native).await
            }
        }
    };
}

row!(s400, Upstream::Mock("status=400"));
row!(s401, Upstream::Mock("status=401"));
row!(s429, Upstream::Mock("status=429 retry_after=1"));
row!(s500, Upstream::Mock("status=500"));
row!(s503, Upstream::Mock("status=503"));
row!(s529, Upstream::Mock("status=529"));
// Fails once, then succeeds: the retry (max_retries = 1) answers, no fallback.
row!(flaky, Upstream::Mock("status=500 times=1"));

#[allow(dead_code)]
const _STUB: Option<Stub> = None;
