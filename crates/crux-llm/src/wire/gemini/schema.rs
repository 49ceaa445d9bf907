//! JSON Schema → the OpenAPI-subset `Schema` Gemini accepts in `parameters` and `responseSchema`.
//!
//! Gemini rejects `$ref`/`$defs`, `additionalProperties`, `const`, `$schema` and most other JSON Schema keywords with
//! `400 Unknown name`. [`sanitize`] inlines local references (bounded depth for recursive ones), rewrites the
//! nullable idioms (`type: [T, "null"]`, `anyOf` with a null member) to `nullable: true`, turns `oneOf` into `anyOf`,
//! merges simple `allOf`s, rewrites string `const` to a one-value `enum`, and keeps only the keywords on the
//! allow-list below. Property *names* are never touched, only the schemas under them.

use serde_json::{Map, Value, json};

/// How many `$ref`s may be expanded along one path before the rest is replaced by `{"type":"object"}`.
pub const MAX_REF_DEPTH: usize = 6;

/// `format` values Gemini accepts (others are rejected with 400).
const FORMATS: &[&str] = &["enum", "date-time", "float", "double", "int32", "int64"];

/// Keywords copied through when their value has the right JSON type.
const STRING_KEYS: &[&str] = &["title", "description", "pattern"];
const NUMBER_KEYS: &[&str] = &[
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
];

/// Rewrite `schema` into the subset Gemini's `Schema` accepts.
pub fn sanitize(schema: &Value) -> Value {
    clean(schema, schema, 0)
}

/// Sanitize one schema node; `depth` counts the `$ref` expansions on the path from the root.
fn clean(node: &Value, root: &Value, depth: usize) -> Value {
    let Some(obj) = node.as_object() else {
        // Boolean schemas (`true` = anything) have no Gemini form; an empty schema is the closest.
        return Value::Object(Map::new());
    };
    if obj.contains_key("$ref") {
        return match expand_ref(obj, root, depth) {
            Some(expanded) => clean(&Value::Object(expanded), root, depth + 1),
            None => json!({"type": "object"}),
        };
    }
    let flat;
    let obj = if obj.contains_key("allOf") {
        flat = flatten_all_of(obj, root, depth);
        &flat
    } else {
        obj
    };

    let mut out = Map::new();
    let mut nullable = obj.get("nullable").and_then(Value::as_bool) == Some(true);
    match obj.get("type") {
        Some(Value::String(t)) => {
            out.insert("type".into(), json!(t));
        }
        Some(Value::Array(types)) => {
            let named: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            nullable |= named.contains(&"null");
            match named
                .iter()
                .filter(|t| **t != "null")
                .collect::<Vec<_>>()
                .as_slice()
            {
                [] if !named.is_empty() => {
                    out.insert("type".into(), json!("null"));
                }
                [] => {}
                [one] => {
                    out.insert("type".into(), json!(one));
                }
                many => {
                    let members = many.iter().map(|t| json!({ "type": t })).collect();
                    out.insert("anyOf".into(), Value::Array(members));
                }
            }
        }
        _ => {}
    }
    for key in STRING_KEYS {
        if let Some(v @ Value::String(_)) = obj.get(*key) {
            out.insert((*key).into(), v.clone());
        }
    }
    for key in NUMBER_KEYS {
        if let Some(v @ Value::Number(_)) = obj.get(*key) {
            out.insert((*key).into(), v.clone());
        }
    }
    if let Some(f) = obj
        .get("format")
        .and_then(Value::as_str)
        .filter(|f| FORMATS.contains(f))
    {
        out.insert("format".into(), json!(f));
    }
    if let Some(example) = obj.get("example") {
        out.insert("example".into(), example.clone());
    }
    if let Some(values) = obj.get("enum").and_then(Value::as_array) {
        nullable |= values.iter().any(Value::is_null);
        out.insert(
            "enum".into(),
            Value::Array(values.iter().filter_map(enum_value).collect()),
        );
    } else if let Some(Value::String(c)) = obj.get("const") {
        out.insert("enum".into(), json!([c]));
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        let props: Map<String, Value> = props
            .iter()
            .map(|(name, s)| (name.clone(), clean(s, root, depth)))
            .collect();
        if !props.is_empty() {
            let known = |list: &Value| -> Vec<Value> {
                list.as_array()
                    .map(|names| {
                        names
                            .iter()
                            .filter(|n| n.as_str().is_some_and(|n| props.contains_key(n)))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default()
            };
            for key in ["required", "propertyOrdering"] {
                let names = obj.get(key).map(known).unwrap_or_default();
                if !names.is_empty() {
                    out.insert(key.into(), Value::Array(names));
                }
            }
            out.insert("properties".into(), Value::Object(props));
        }
    }
    match obj.get("items") {
        Some(Value::Array(tuple)) => {
            let members = tuple.iter().map(|s| clean(s, root, depth)).collect();
            let items = match union(members, &mut nullable) {
                Union::One(one) => one,
                Union::Many(many) => json!({ "anyOf": many }),
            };
            out.insert("items".into(), items);
        }
        Some(items) => {
            out.insert("items".into(), clean(items, root, depth));
        }
        None => {}
    }
    let alternatives: Vec<Value> = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| obj.get(*k).and_then(Value::as_array))
        .flatten()
        .map(|s| clean(s, root, depth))
        .collect();
    if !alternatives.is_empty() {
        match union(alternatives, &mut nullable) {
            Union::One(Value::Object(single)) => {
                for (k, v) in single {
                    out.entry(k).or_insert(v);
                }
            }
            Union::One(_) => {}
            Union::Many(many) => {
                out.insert("anyOf".into(), Value::Array(many));
            }
        }
    }
    if nullable {
        out.insert("nullable".into(), json!(true));
    }
    infer_type(&mut out);
    Value::Object(out)
}

/// Sanitized alternatives with their null members taken out.
enum Union {
    /// One schema remains (`{"type":"null"}` when every member was null, `{}` when there were none).
    One(Value),
    /// Several schemas remain.
    Many(Vec<Value>),
}

/// Combine sanitized alternatives: null members become `nullable`, one remaining member stands alone, several stay
/// alternatives.
fn union(members: Vec<Value>, nullable: &mut bool) -> Union {
    let (nulls, mut rest): (Vec<Value>, Vec<Value>) = members
        .into_iter()
        .partition(|m| m.get("type").and_then(Value::as_str) == Some("null"));
    *nullable |= !nulls.is_empty();
    match rest.len() {
        0 if nulls.is_empty() => Union::One(Value::Object(Map::new())),
        0 => Union::One(json!({"type": "null"})),
        1 => Union::One(rest.remove(0)),
        _ => Union::Many(rest),
    }
}

/// Gemini enums are strings: keep strings, print numbers and booleans, drop `null` (it becomes `nullable`).
fn enum_value(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::String(_) => Some(v.clone()),
        other => Some(Value::String(other.to_string())),
    }
}

/// Give a typeless node the type its keywords imply (Gemini wants a type on object and array schemas).
fn infer_type(out: &mut Map<String, Value>) {
    if out.contains_key("type") || out.contains_key("anyOf") {
        return;
    }
    let implied = if out.contains_key("properties") {
        "object"
    } else if out.contains_key("items") {
        "array"
    } else if out.contains_key("enum") {
        "string"
    } else {
        return;
    };
    out.insert("type".into(), json!(implied));
}

/// Resolve a local reference (`#`, `#/$defs/X`, `#/definitions/X`, any `#/json/pointer`).
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    match reference {
        "#" => Some(root),
        r => r.strip_prefix('#').and_then(|ptr| root.pointer(ptr)),
    }
}

/// The target of `obj`'s `$ref` with `obj`'s sibling keywords laid over it; `None` when the depth limit is reached
/// or the reference cannot be resolved.
fn expand_ref(obj: &Map<String, Value>, root: &Value, depth: usize) -> Option<Map<String, Value>> {
    if depth >= MAX_REF_DEPTH {
        return None;
    }
    let target = obj
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| resolve(root, r))?;
    let mut merged = target.as_object().cloned().unwrap_or_default();
    for (k, v) in obj {
        if k != "$ref" {
            merged.insert(k.clone(), v.clone());
        }
    }
    Some(merged)
}

/// Merge the members of `allOf` into one object schema: `properties` and `required` are unions, other keywords are
/// taken from the first schema that sets them (the node itself first).
fn flatten_all_of(obj: &Map<String, Value>, root: &Value, depth: usize) -> Map<String, Value> {
    let mut merged: Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| *k != "allOf")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let members = obj
        .get("allOf")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for member in members {
        let Some(mut member) = member.as_object().cloned() else {
            continue;
        };
        let mut expansions = 0;
        while member.contains_key("$ref") {
            match expand_ref(&member, root, depth + expansions) {
                Some(expanded) => member = expanded,
                None => {
                    member = Map::new();
                    member.insert("type".into(), json!("object"));
                }
            }
            expansions += 1;
        }
        if member.contains_key("allOf") {
            member = flatten_all_of(&member, root, depth + expansions + 1);
        }
        for (k, v) in member {
            match (k.as_str(), merged.get_mut(&k), v) {
                ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                    for (name, s) in theirs {
                        mine.entry(name).or_insert(s);
                    }
                }
                ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                    for name in theirs {
                        if !mine.contains(&name) {
                            mine.push(name);
                        }
                    }
                }
                (_, Some(_), _) => {}
                (_, None, v) => {
                    merged.insert(k, v);
                }
            }
        }
    }
    merged
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
