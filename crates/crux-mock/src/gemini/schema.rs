//! Gemini wire: proto-JSON field naming (lowerCamelCase or snake_case, both accepted upstream),
//! unknown-field rejection, and validation of the OpenAPI-subset `Schema` used by
//! `functionDeclarations[].parameters` and `generationConfig.responseSchema`.

use serde_json::{Map, Value};

use crate::errors::MockError;

/// Fields of Gemini's `Schema` message (anything else is an unknown field upstream, e.g.
/// `additionalProperties`, `$ref`, `$defs`, `const`, `oneOf`, `allOf`, `exclusiveMinimum`).
const SCHEMA_FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// Values of Gemini's `Type` enum.
const TYPES: &[&str] = &[
    "TYPE_UNSPECIFIED",
    "STRING",
    "NUMBER",
    "INTEGER",
    "BOOLEAN",
    "ARRAY",
    "OBJECT",
    "NULL",
];

/// A 400 `INVALID_ARGUMENT` naming the offending field path.
pub(crate) fn bad(message: impl Into<String>, field: &str) -> MockError {
    MockError::invalid(message, Some(field))
}

/// `snake_case` → `lowerCamelCase` (other names unchanged).
pub(crate) fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for (i, c) in name.chars().enumerate() {
        if c == '_' && i > 0 {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `lowerCamelCase` → `snake_case`, the spelling used in error field paths.
pub(crate) fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `obj[camel]`, also accepting the snake_case spelling; JSON `null` counts as absent.
pub(crate) fn field<'a>(obj: &'a Map<String, Value>, camel_name: &str) -> Option<&'a Value> {
    obj.get(camel_name)
        .or_else(|| obj.get(&snake(camel_name)))
        .filter(|v| !v.is_null())
}

/// Rejects keys of `obj` that are not in `known` (compared in camelCase) the way the proto-JSON
/// parser does; `at` is the snake_case path of `obj` (empty at the top level).
pub(crate) fn check_fields(
    obj: &Map<String, Value>,
    known: &[&str],
    at: &str,
) -> Result<(), MockError> {
    match obj.keys().find(|k| !known.contains(&camel(k).as_str())) {
        None => Ok(()),
        Some(key) if at.is_empty() => Err(bad(
            format!("Invalid JSON payload received. Unknown name \"{key}\": Cannot find field."),
            key,
        )),
        Some(key) => Err(bad(
            format!(
                "Invalid JSON payload received. Unknown name \"{key}\" at '{at}': Cannot find \
                 field."
            ),
            at,
        )),
    }
}

/// The proto-JSON error for a value of the wrong type at `at`.
pub(crate) fn invalid_value(at: &str, proto_type: &str, value: &Value) -> MockError {
    bad(
        format!("Invalid value at '{at}' ({proto_type}), {value}"),
        at,
    )
}

/// Validates a Gemini `Schema` at path `at` and returns it in the JSON-Schema spelling the
/// neutral generator understands (camelCase keys, lowercase `type`).
pub(crate) fn check(schema: &Value, at: &str) -> Result<Value, MockError> {
    let Some(obj) = schema.as_object() else {
        return Err(invalid_value(
            at,
            "type.googleapis.com/google.ai.generativelanguage.v1beta.Schema",
            schema,
        ));
    };
    check_fields(obj, SCHEMA_FIELDS, at)?;
    let mut out = Map::new();
    for (key, value) in obj {
        let name = camel(key);
        let path = format!("{at}.{}", snake(&name));
        let value = match name.as_str() {
            "type" => match check_type(value, &path)? {
                Some(t) => Value::String(t),
                None => continue,
            },
            "properties" => {
                let Some(props) = value.as_object() else {
                    return Err(invalid_value(&path, "map", value));
                };
                let mut checked = Map::new();
                for (i, (prop, sub)) in props.iter().enumerate() {
                    checked.insert(prop.clone(), check(sub, &format!("{path}[{i}].value"))?);
                }
                Value::Object(checked)
            }
            "items" => check(value, &path)?,
            "anyOf" => {
                let Some(list) = value.as_array() else {
                    return Err(invalid_value(&path, "list", value));
                };
                let checked = list
                    .iter()
                    .enumerate()
                    .map(|(i, sub)| check(sub, &format!("{path}[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                Value::Array(checked)
            }
            _ => value.clone(),
        };
        out.insert(name, value);
    }
    Ok(Value::Object(out))
}

/// Validates a `type` value; returns its lowercase JSON-Schema name (`None` when unspecified).
fn check_type(value: &Value, at: &str) -> Result<Option<String>, MockError> {
    match value {
        Value::String(t) if TYPES.contains(&t.to_ascii_uppercase().as_str()) => {
            let upper = t.to_ascii_uppercase();
            Ok((upper != "TYPE_UNSPECIFIED").then(|| upper.to_ascii_lowercase()))
        }
        Value::Array(_) => Err(bad(
            format!(
                "Invalid JSON payload received. Proto field is not repeating, cannot start list \
                 (at '{at}')."
            ),
            at,
        )),
        other => Err(invalid_value(
            at,
            "type.googleapis.com/google.ai.generativelanguage.v1beta.Type",
            other,
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_convert() {
        assert_eq!(camel("max_output_tokens"), "maxOutputTokens");
        assert_eq!(camel("$ref"), "$ref");
        assert_eq!(snake("functionDeclarations"), "function_declarations");
    }

    #[test]
    fn normalizes_types_and_snake_keys() {
        let s = json!({"type": "OBJECT", "properties": {"a": {"type": "STRING"},
            "b": {"type": "array", "max_items": 2, "items": {"type": "INTEGER"}}}});
        assert_eq!(
            check(&s, "p").unwrap(),
            json!({"type": "object", "properties": {"a": {"type": "string"},
                "b": {"type": "array", "maxItems": 2, "items": {"type": "integer"}}}})
        );
    }

    #[test]
    fn rejects_nested_unknown_keywords() {
        for bad_kw in [
            "additionalProperties",
            "$ref",
            "const",
            "oneOf",
            "exclusiveMinimum",
        ] {
            let s = json!({"type": "object", "properties": {"a": {"anyOf": [
                {"type": "object", bad_kw: true}]}}});
            let e = check(&s, "x.parameters").unwrap_err();
            assert!(
                e.message.contains(&format!("Unknown name \"{bad_kw}\"")),
                "{e:?}"
            );
            assert!(
                e.message
                    .contains("at 'x.parameters.properties[0].value.any_of[0]'"),
                "{e:?}"
            );
        }
        assert!(check(&json!({"type": ["string", "null"]}), "p").is_err());
        assert!(check(&json!({"type": "str"}), "p").is_err());
        // Property *names* may be anything, including keyword names.
        assert!(check(&json!({"properties": {"const": {"type": "STRING"}}}), "p").is_ok());
    }
}
