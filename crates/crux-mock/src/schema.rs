//! JSON Schema → deterministic example value (used for tool arguments and structured output).

use serde_json::{Map, Value, json};

/// Nesting limit that stops runaway recursion through self-referencing `$ref`s.
const MAX_DEPTH: usize = 24;

/// Generates a deterministic value that satisfies the common subset of `schema`:
/// objects get all properties, strings are `"mock"`, integers 42, numbers 4.2, booleans true,
/// arrays one item; `const`/`enum` win; `$ref` (`#/$defs/..`, `#/definitions/..`), `anyOf`/`oneOf`
/// (first branch) and `allOf` (merged) are followed; a missing `type` is inferred.
pub(crate) fn example(schema: &Value) -> Value {
    generate(schema, schema, 0)
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    root.pointer(pointer)
}

fn generate(schema: &Value, root: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    let Some(obj) = schema.as_object() else {
        // `true` (anything goes) or malformed schema.
        return if schema == &Value::Bool(false) {
            Value::Null
        } else {
            json!("mock")
        };
    };
    if let Some(c) = obj.get("const") {
        return c.clone();
    }
    if let Some(first) = obj
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(target) = obj
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| resolve(root, r))
    {
        return generate(target, root, depth + 1);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(first) = obj
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return generate(first, root, depth + 1);
        }
    }
    if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
        return merge_all(parts, obj, root, depth);
    }
    match type_of(obj) {
        "object" => object(obj, root, depth),
        "array" => array(obj, root, depth),
        "integer" => json!(42),
        "number" => json!(4.2),
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => json!("mock"),
    }
}

/// The schema's type: the first non-null entry of `type`, else inferred from keywords.
fn type_of(obj: &Map<String, Value>) -> &str {
    match obj.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(ts)) => {
            let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            names
                .iter()
                .find(|t| **t != "null")
                .or_else(|| names.first())
                .copied()
                .unwrap_or("string")
        }
        _ if obj.contains_key("properties") || obj.contains_key("additionalProperties") => "object",
        _ if obj.contains_key("items") || obj.contains_key("prefixItems") => "array",
        _ => "string",
    }
}

fn object(obj: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    let mut out = Map::new();
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            out.insert(name.clone(), generate(sub, root, depth + 1));
        }
    }
    Value::Object(out)
}

fn array(obj: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    if let Some(prefix) = obj.get("prefixItems").and_then(Value::as_array) {
        return Value::Array(
            prefix
                .iter()
                .map(|s| generate(s, root, depth + 1))
                .collect(),
        );
    }
    let item = match obj.get("items") {
        Some(Value::Array(tuple)) => {
            return Value::Array(tuple.iter().map(|s| generate(s, root, depth + 1)).collect());
        }
        Some(items) => generate(items, root, depth + 1),
        None => json!("mock"),
    };
    Value::Array(vec![item])
}

fn merge_all(parts: &[Value], obj: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    let mut merged = Map::new();
    let mut last = Value::Null;
    let mut own = obj.clone();
    own.remove("allOf");
    let own = Value::Object(own);
    for part in parts.iter().chain(std::iter::once(&own)) {
        match generate(part, root, depth + 1) {
            Value::Object(m) => merged.extend(m),
            other => last = other,
        }
    }
    if merged.is_empty() && !last.is_null() {
        last
    } else {
        Value::Object(merged)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn primitives_and_objects() {
        let s = json!({"type":"object","properties":{
            "s":{"type":"string"},"i":{"type":"integer"},"n":{"type":"number"},
            "b":{"type":"boolean"},"e":{"type":"string","enum":["x","y"]},"c":{"const":7},
            "a":{"type":"array","items":{"type":"integer"}},"o":{"type":["null","string"]}}});
        assert_eq!(
            example(&s),
            json!({"s":"mock","i":42,"n":4.2,"b":true,"e":"x","c":7,"a":[42],"o":"mock"})
        );
    }

    #[test]
    fn refs_any_of_and_missing_type() {
        let s = json!({"properties":{
            "p":{"$ref":"#/$defs/P"},"q":{"$ref":"#/definitions/Q"},
            "u":{"anyOf":[{"type":"integer"},{"type":"null"}]},"t":{}},
            "$defs":{"P":{"type":"object","properties":{"x":{"type":"boolean"}}}},
            "definitions":{"Q":{"oneOf":[{"type":"number"}]}}});
        assert_eq!(
            example(&s),
            json!({"p":{"x":true},"q":4.2,"u":42,"t":"mock"})
        );
    }

    #[test]
    fn recursive_ref_terminates() {
        let s = json!({"type":"object","properties":{"next":{"$ref":"#"}}});
        let v = example(&s);
        assert!(v.is_object());
    }

    #[test]
    fn all_of_merges() {
        let s = json!({"allOf":[{"properties":{"a":{"type":"integer"}}},
                                {"properties":{"b":{"type":"string"}}}]});
        assert_eq!(example(&s), json!({"a":42,"b":"mock"}));
    }
}
