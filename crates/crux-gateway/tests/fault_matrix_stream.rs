//! Fault matrix, timing and body faults (slow first byte, stall, cut, invalid JSON, in-band error): each fault × dialect runs its four cells (stream or not, direct or alias with
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

row!(slow_first_byte, Upstream::Mock("first_byte_ms=10000"));
row!(stall, Upstream::Mock("stall_after=1 stall_ms=10000"));
row!(cut, Upstream::Mock("cut_after=1"));
row!(invalid_json, Upstream::Mock("invalid_json"));
// Non-stream: a 2xx error envelope; stream: an error frame after the first content.
row!(mid_error, Upstream::Mock("mid_error"));

#[allow(dead_code)]
const _STUB: Option<Stub> = None;
