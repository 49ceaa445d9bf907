//! Google Gemini `generateContent` wire (in progress).
pub mod embed;
pub mod models;
pub mod request;
pub mod response;
pub mod stream;
