//! The OpenAI Responses API wire (reasoning model families): pure request/response/stream translation.

pub mod request;
pub mod response;
pub mod stream;
