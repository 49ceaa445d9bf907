//! The OpenAI Chat Completions wire: serde types and pure request/response/stream translation.

pub mod inbound;
pub mod request;
pub mod response;
pub mod stream;
pub mod types;
