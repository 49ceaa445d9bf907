//! Fault matrix, what the mock cannot do (raw-TCP stub) and connection refused: each fault × dialect runs its four cells (stream or not, direct or alias with
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

row!(envelope_2xx, Upstream::Stub(Stub::Envelope2xx));
row!(html, Upstream::Stub(Stub::Html));
row!(
    reset_before_headers,
    Upstream::Stub(Stub::ResetBeforeHeaders)
);
row!(reset_after_headers, Upstream::Stub(Stub::ResetAfterHeaders));
row!(refused, Upstream::Refused);
