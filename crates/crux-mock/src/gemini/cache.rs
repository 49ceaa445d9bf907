//! Gemini `cachedContents`, checked like the Generative Language API: `POST /v1beta/cachedContents` needs a model
//! that can cache (`models/…`), content at least the model's minimum size and a valid `ttl` (default one hour);
//! a `generateContent` body naming a cache becomes the whole request it stands for (the cache's system
//! instruction, tools and turns first), refusing `systemInstruction`, `tools` or `toolConfig` beside it, an unknown
//! or expired name (403) and a cache made for another model.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::cached::{CachedContent, parse_duration};
use crate::clock;
use crate::errors::{ErrorKind, MockError};
use crate::gemini::auth::gemini_error;
use crate::gemini::parse::{content_texts, parse_generate};
use crate::gemini::schema::{bad, check_fields, field, invalid_value};
use crate::reply;
use crate::state::Shared;

/// Fields of a `CachedContent` create body.
const CREATE_FIELDS: &[&str] = &[
    "model",
    "contents",
    "tools",
    "toolConfig",
    "systemInstruction",
    "ttl",
    "expireTime",
    "displayName",
];

/// What a cache holds besides its turns; a request naming a cache may not set them.
const HELD: [&str; 3] = ["systemInstruction", "tools", "toolConfig"];

/// Default lifetime of a cache.
const DEFAULT_TTL: Duration = Duration::from_secs(3_600);

/// Whether `model` can hold a context cache (its `supportedGenerationMethods` list `createCachedContent`).
pub(crate) fn supports(model: &str) -> bool {
    ["gemini-2.0-flash", "gemini-2.5-", "gemini-3-"]
        .iter()
        .any(|p| model.starts_with(p))
}

/// Smallest cache `model` accepts, in tokens (the Flash models of 2.5 and 3: 1,024; the rest: 4,096).
fn min_tokens(model: &str) -> u64 {
    let recent = model.starts_with("gemini-2.5") || model.starts_with("gemini-3");
    if recent && model.contains("flash") {
        1_024
    } else {
        4_096
    }
}

fn rfc3339(at: SystemTime) -> String {
    let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    clock::rfc3339(d.as_secs(), d.subsec_nanos())
}

/// Validate and store a create body; the answer is the new `CachedContent` resource.
pub(crate) fn create(shared: &Shared, obj: &Map<String, Value>) -> Result<Value, MockError> {
    check_fields(obj, CREATE_FIELDS, "cached_content")?;
    let model_name = match field(obj, "model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        Some(other) => return Err(invalid_value("cached_content.model", "TYPE_STRING", other)),
        None => {
            return Err(bad(
                "* CreateCachedContentRequest.cached_content.model: model is required\n",
                "cached_content.model",
            ));
        }
    };
    let model = model_name.strip_prefix("models/").ok_or_else(|| {
        bad(
            format!("Invalid model name: {model_name}. Expected format: models/{{model}}."),
            "cached_content.model",
        )
    })?;
    if !supports(model) {
        return Err(gemini_error(
            404,
            ErrorKind::NotFound,
            &format!(
                "models/{model} is not found for API version v1beta, or is not supported for \
                 createCachedContent. Call ListModels to see the list of available models and their \
                 supported methods."
            ),
        ));
    }
    let ttl = match (field(obj, "ttl"), field(obj, "expireTime")) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "Only one of ttl and expire_time may be set.",
                "cached_content.expiration",
            ));
        }
        (Some(v), None) => v
            .as_str()
            .and_then(parse_duration)
            .ok_or_else(|| invalid_value("cached_content.ttl", "google.protobuf.Duration", v))?,
        _ => DEFAULT_TTL,
    };
    let contents: Vec<Value> = match field(obj, "contents") {
        Some(Value::Array(list)) => list.clone(),
        Some(other) => return Err(invalid_value("cached_content.contents", "list", other)),
        None => Vec::new(),
    };
    let fields: Vec<(&'static str, Value)> = HELD
        .iter()
        .filter_map(|k| field(obj, k).map(|v| (*k, v.clone())))
        .collect();
    let tokens = if contents.is_empty() {
        match field(obj, "systemInstruction") {
            Some(sys) => {
                reply::word_count(&content_texts(sys, "cached_content.system_instruction")?) + 1
            }
            None => 0,
        }
    } else {
        let mut whole: Map<String, Value> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        whole.insert("contents".into(), Value::Array(contents.clone()));
        let req = parse_generate(model, &whole, &shared.signatures)?;
        reply::generate(&req.conv, String::new).usage.prompt
    };
    let min = min_tokens(model);
    if tokens < min {
        return Err(bad(
            format!(
                "Cached content is too small. total_token_count={tokens}, min_total_token_count={min}"
            ),
            "cached_content",
        ));
    }
    let now = SystemTime::now();
    let name = shared.cached_contents.insert(CachedContent {
        model: model_name.clone(),
        fields,
        contents,
        tokens,
        expires: Instant::now() + ttl,
    });
    let mut answer = json!({
        "name": name,
        "model": model_name,
        "createTime": rfc3339(now),
        "updateTime": rfc3339(now),
        "expireTime": rfc3339(now + ttl),
        "usageMetadata": {"totalTokenCount": tokens},
    });
    if let Some(d) = field(obj, "displayName") {
        answer["displayName"] = d.clone();
    }
    Ok(answer)
}

/// A `generateContent` body for `model` that names a cache, turned into the request it stands for; returns the
/// tokens read from the cache (`None` when the body names none).
pub(crate) fn expand(
    shared: &Shared,
    model: &str,
    obj: &mut Map<String, Value>,
) -> Result<Option<u64>, MockError> {
    let Some(name) = field(obj, "cachedContent").cloned() else {
        return Ok(None);
    };
    let name = name
        .as_str()
        .ok_or_else(|| invalid_value("cached_content", "TYPE_STRING", &name))?;
    if HELD.iter().any(|k| field(obj, k).is_some()) {
        return Err(bad(
            "CachedContent can not be used with GenerateContent request setting system_instruction, tools \
             or tool_config.\n\nProposed fix: move those values to CachedContent from GenerateContent request.",
            "cached_content",
        ));
    }
    let entry = shared.cached_contents.get(name).ok_or_else(|| {
        gemini_error(
            403,
            ErrorKind::Permission,
            "CachedContent not found (or permission denied)",
        )
    })?;
    if entry.model != format!("models/{model}") {
        return Err(bad(
            format!(
                "Model used by GenerateContent request (models/{model}) and CachedContent ({}) has to be \
                 the same.",
                entry.model
            ),
            "cached_content",
        ));
    }
    let rest = match obj.remove("contents") {
        Some(Value::Array(rest)) if !rest.is_empty() => rest,
        _ => {
            return Err(bad(
                "* GenerateContentRequest.contents: contents is not specified\n",
                "contents",
            ));
        }
    };
    obj.remove("cachedContent");
    obj.remove("cached_content");
    let mut contents = entry.contents;
    contents.extend(rest);
    obj.insert("contents".into(), Value::Array(contents));
    for (k, v) in entry.fields {
        obj.insert(k.to_owned(), v);
    }
    Ok(Some(entry.tokens))
}
