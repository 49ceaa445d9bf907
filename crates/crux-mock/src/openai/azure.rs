//! Azure OpenAI deployments: `POST /openai/deployments/{deployment}/chat/completions?api-version=…` with an
//! `api-key` header (or an Entra ID bearer token). Like the real service, a missing `api-version` is 404 "Resource not
//! found" and a missing key 401; the answer is the OpenAI one, its model the deployment's.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::Shared;

fn azure_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// `POST /openai/deployments/{deployment}/chat/completions`.
pub(crate) async fn chat_completions(
    State(shared): State<Arc<Shared>>,
    Path(deployment): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let versioned = query.as_deref().unwrap_or("").split('&').any(|kv| {
        kv.strip_prefix("api-version=")
            .is_some_and(|v| !v.is_empty())
    });
    if !versioned {
        return azure_error(StatusCode::NOT_FOUND, "404", "Resource not found");
    }
    let mut headers = headers;
    match headers.get("api-key").cloned() {
        Some(key) if !key.is_empty() => {
            // The shared OpenAI handler reads the key from `authorization`.
            if let Ok(v) = HeaderValue::from_str(&format!("Bearer {}", key.to_str().unwrap_or("")))
            {
                headers.insert("authorization", v);
            }
        }
        _ if headers.contains_key("authorization") => {}
        _ => {
            return azure_error(
                StatusCode::UNAUTHORIZED,
                "401",
                "Access denied due to missing subscription key. Make sure to include subscription key when making \
                 requests to an API.",
            );
        }
    }
    let mut value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return super::finish(super::chat(shared, "/chat/completions", &headers, &body).await);
        }
    };
    // The deployment decides the model; the body's `model` is optional and ignored.
    value["model"] = serde_json::Value::String(deployment);
    let body = serde_json::to_vec(&value).unwrap_or_default();
    super::finish(super::chat(shared, "/chat/completions", &headers, &body).await)
}
