//! Bedrock Converse wire: JSON shape checks shared by the request parsers, with the real service's
//! two wordings: the JSON-schema validator's `Malformed input request: #/a/0/b: …, please reformat
//! your input and try again.` (types, unknown or missing members, unions, enums) and Coral's
//! `1 validation error detected: Value 'V' at 'a.b' failed to satisfy constraint: Member must …`
//! (modelled lengths, ranges and patterns). Every error is a 400 `ValidationException`.

use serde_json::{Map, Value};

use crate::b64::{self, Alphabet};
use crate::errors::MockError;

/// Longest tool name.
const MAX_TOOL_NAME: usize = 64;

/// A 400 `ValidationException`.
pub(super) fn bad(message: impl Into<String>) -> MockError {
    MockError::invalid(message, None)
}

/// `Malformed input request: #/a/0/b: DETAIL, please reformat your input and try again.` for the
/// dotted `path` (`a.0.b`; empty for the root).
pub(super) fn malformed(path: &str, detail: &str) -> MockError {
    let pointer = if path.is_empty() {
        "#".to_owned()
    } else {
        format!("#/{}", path.replace('.', "/"))
    };
    bad(format!(
        "Malformed input request: {pointer}: {detail}, please reformat your input and try again."
    ))
}

/// A Coral constraint violation: `Value 'V' at 'PATH' failed to satisfy constraint: Member must …`.
pub(super) fn constraint(value: &str, path: &str, rule: &str) -> MockError {
    bad(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: \
         Member must {rule}"
    ))
}

/// The validator's name of a JSON value's type.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "Integer",
        Value::Number(_) => "BigDecimal",
        Value::String(_) => "String",
        Value::Array(_) => "JSONArray",
        Value::Object(_) => "JSONObject",
    }
}

/// `expected type: EXPECTED, found: ACTUAL` at `path`.
pub(super) fn wrong_type(v: &Value, path: &str, expected: &str) -> MockError {
    malformed(
        path,
        &format!("expected type: {expected}, found: {}", type_name(v)),
    )
}

/// `v` as an object.
pub(super) fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, MockError> {
    v.as_object()
        .ok_or_else(|| wrong_type(v, path, "JSONObject"))
}

/// `v` as an array.
pub(super) fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, MockError> {
    v.as_array().ok_or_else(|| wrong_type(v, path, "JSONArray"))
}

/// `v` as a string.
pub(super) fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, MockError> {
    v.as_str().ok_or_else(|| wrong_type(v, path, "String"))
}

/// Member `key` of `obj`, `null` counting as absent.
pub(super) fn member<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// Required member `key` of the object at `path`.
pub(super) fn required<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Value, MockError> {
    member(obj, key).ok_or_else(|| malformed(path, &format!("required key [{key}] not found")))
}

/// Rejects members of the object at `path` outside `allowed`.
pub(super) fn only_keys(
    obj: &Map<String, Value>,
    allowed: &[&str],
    path: &str,
) -> Result<(), MockError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(extra) => Err(malformed(
            path,
            &format!("extraneous key [{extra}] is not permitted"),
        )),
        None => Ok(()),
    }
}

/// A union at `path`: an object with exactly one (non-null) member, among `allowed`.
pub(super) fn union<'a>(
    v: &'a Value,
    allowed: &[&str],
    path: &str,
) -> Result<(&'a str, &'a Value), MockError> {
    let obj = object(v, path)?;
    only_keys(obj, allowed, path)?;
    let set: Vec<(&String, &Value)> = obj.iter().filter(|(_, v)| !v.is_null()).collect();
    match set[..] {
        [(key, value)] => Ok((key.as_str(), value)),
        _ => Err(malformed(
            path,
            &format!(
                "expected exactly one key of [{}], found {}",
                allowed.join(", "),
                set.len()
            ),
        )),
    }
}

/// A string member that must be one of `allowed`.
pub(super) fn one_of<'a>(v: &'a Value, allowed: &[&str], path: &str) -> Result<&'a str, MockError> {
    let s = string(v, path)?;
    if allowed.contains(&s) {
        Ok(s)
    } else {
        Err(malformed(path, &format!("{s} is not a valid enum value")))
    }
}

/// A base64 blob (standard alphabet, padded, as AWS JSON encodes blobs).
pub(super) fn base64(v: &Value, path: &str) -> Result<(), MockError> {
    let data = string(v, path)?;
    match b64::invalid_at(data, Alphabet::Standard) {
        Some(at) => Err(malformed(
            path,
            &format!("illegal base64 data at input byte {at}"),
        )),
        None if data.is_empty() => Err(constraint(
            "",
            path,
            "have length greater than or equal to 1",
        )),
        None => Ok(()),
    }
}

/// `cachePoint`: `{type: "default"}`.
pub(super) fn cache_point(v: &Value, path: &str) -> Result<(), MockError> {
    let obj = object(v, path)?;
    only_keys(obj, &["type"], path)?;
    one_of(
        required(obj, "type", path)?,
        &["default"],
        &format!("{path}.type"),
    )
    .map(|_| ())
}

/// Whether `name` matches `^[a-zA-Z0-9_-]{1,64}$`.
pub(super) fn valid_tool_name(name: &str) -> bool {
    (1..=MAX_TOOL_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}
