//! The console's files, embedded in the binary at build time (hand-written HTML, CSS and JavaScript modules; no
//! build step, no third-party code), each with a content-hash ETag computed once.

use std::sync::LazyLock;

/// The page.
pub const INDEX: &str = include_str!("assets/index.html");

/// One embedded file.
pub struct Asset {
    name: &'static str,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The bytes.
    pub body: &'static str,
    etag: LazyLock<String>,
}

impl Asset {
    /// `"…"`: a quoted prefix of the SHA-256 of the body.
    pub fn etag(&self) -> &str {
        &self.etag
    }
}

macro_rules! asset {
    ($name:literal, $ty:literal) => {
        Asset {
            name: $name,
            content_type: $ty,
            body: include_str!(concat!("assets/", $name)),
            etag: LazyLock::new(|| {
                let d = ring::digest::digest(
                    &ring::digest::SHA256,
                    include_str!(concat!("assets/", $name)).as_bytes(),
                );
                let hex: String = d.as_ref()[..12]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!("\"{hex}\"")
            }),
        }
    };
}

static ASSETS: [Asset; 8] = [
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("chart.js", "text/javascript; charset=utf-8"),
    asset!("overview.js", "text/javascript; charset=utf-8"),
    asset!("logs.js", "text/javascript; charset=utf-8"),
    asset!("keys.js", "text/javascript; charset=utf-8"),
    asset!("models.js", "text/javascript; charset=utf-8"),
    asset!("playground.js", "text/javascript; charset=utf-8"),
];

/// The asset called `name`.
pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}
