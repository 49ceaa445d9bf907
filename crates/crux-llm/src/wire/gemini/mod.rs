//! The Google Gemini `generateContent` wire: serde types, schema sanitizer and pure request/response/stream translation.

pub mod cache;
pub mod embed;
pub mod models;
pub mod request;
pub mod response;
pub mod schema;
pub mod stream;
pub mod types;
