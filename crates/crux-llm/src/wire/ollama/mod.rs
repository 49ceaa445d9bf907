//! The Ollama native wire (`/api/chat` NDJSON, `/api/embed`, `/api/tags`): serde types and pure translation.

pub mod embed;
pub mod models;
pub mod request;
pub mod response;
pub mod stream;
pub mod types;
