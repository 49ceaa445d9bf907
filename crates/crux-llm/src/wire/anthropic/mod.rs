//! The Anthropic Messages wire: serde types and pure request/response/stream translation.

mod cache;
pub mod inbound;
pub mod models;
pub mod request;
pub mod response;
pub mod stream;
mod thinking;
pub mod types;
