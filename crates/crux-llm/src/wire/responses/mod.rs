//! The OpenAI Responses API wire (reasoning model families): pure request/response/stream translation, and the
//! gateway's Responses dialect (`inbound` body → core, `output` objects, `encode` typed SSE events).

pub mod encode;
pub mod inbound;
pub mod output;
pub mod request;
pub mod response;
pub mod stream;
pub mod tools;
