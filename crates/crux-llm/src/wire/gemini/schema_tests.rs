//! Unit tests for the Gemini schema sanitizer.

use serde_json::json;

use super::*;

/// Every keyword Gemini rejects, each placed at the root, inside a property, inside array items and inside an
/// `anyOf` member.
#[test]
fn dropped_keywords_at_every_depth() {
    let dropped = [
        (
            "$schema",
            json!("https://json-schema.org/draft/2020-12/schema"),
        ),
        ("$id", json!("urn:x")),
        ("$comment", json!("c")),
        ("additionalProperties", json!(false)),
        ("propertyNames", json!({"pattern": "^a"})),
        ("patternProperties", json!({"^x": {"type": "string"}})),
        ("unevaluatedProperties", json!(false)),
        ("exclusiveMinimum", json!(0)),
        ("exclusiveMaximum", json!(10)),
        ("examples", json!(["a"])),
        ("default", json!("d")),
        ("prefixItems", json!([{"type": "string"}])),
        ("contains", json!({"type": "string"})),
        ("uniqueItems", json!(true)),
        ("multipleOf", json!(2)),
        ("dependentRequired", json!({})),
        ("if", json!({})),
        ("not", json!({})),
        ("readOnly", json!(true)),
        ("deprecated", json!(true)),
        ("contentEncoding", json!("base64")),
    ];
    for (kw, value) in dropped {
        let leaf = |v: &serde_json::Value| {
            let mut s = json!({"type": "object", "properties": {"x": {"type": "string"}}});
            s[kw] = v.clone();
            s
        };
        let mut schema = json!({
            "type": "object",
            "properties": {
                "nested": leaf(&value),
                "list": {"type": "array", "items": leaf(&value)},
                "either": {"anyOf": [leaf(&value), {"type": "integer"}]}
            }
        });
        schema[kw] = value.clone();
        let out = sanitize(&schema).to_string();
        assert!(!out.contains(&format!("\"{kw}\"")), "{kw} survived: {out}");
        let out = sanitize(&schema);
        assert_eq!(
            out["properties"]["nested"]["properties"]["x"]["type"], "string",
            "{kw}"
        );
        assert_eq!(out["properties"]["list"]["items"]["type"], "object", "{kw}");
        assert_eq!(
            out["properties"]["either"]["anyOf"][1]["type"], "integer",
            "{kw}"
        );
    }
}

#[test]
fn allowed_keywords_survive() {
    let schema = json!({
        "type": "object", "title": "T", "description": "D", "minProperties": 1, "maxProperties": 3,
        "propertyOrdering": ["b", "a", "ghost"], "required": ["a", "ghost"],
        "properties": {
            "a": {"type": "string", "minLength": 1, "maxLength": 9, "pattern": "^x", "format": "date-time",
                  "example": "x1"},
            "b": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "number", "minimum": 0,
                  "maximum": 1, "format": "double"}}
        }
    });
    let out = sanitize(&schema);
    assert_eq!(out["title"], "T");
    assert_eq!(out["description"], "D");
    assert_eq!(out["minProperties"], 1);
    assert_eq!(out["propertyOrdering"], json!(["b", "a"]));
    assert_eq!(out["required"], json!(["a"]));
    assert_eq!(out["properties"]["a"]["format"], "date-time");
    assert_eq!(out["properties"]["a"]["example"], "x1");
    assert_eq!(out["properties"]["b"]["items"]["maximum"], 1);
    assert_eq!(out["properties"]["b"]["maxItems"], 2);
}

#[test]
fn property_names_that_look_like_keywords_are_kept() {
    let schema = json!({"type": "object", "properties": {
        "default": {"type": "string"}, "$ref": {"type": "integer"}, "additionalProperties": {"type": "boolean"}},
        "required": ["default"]});
    let out = sanitize(&schema);
    let props = out["properties"].as_object().unwrap();
    assert_eq!(props.len(), 3);
    assert_eq!(props["$ref"]["type"], "integer");
    assert_eq!(out["required"], json!(["default"]));
}

#[test]
fn unsupported_formats_are_dropped() {
    let out = sanitize(&json!({"type": "string", "format": "uri"}));
    assert_eq!(out, json!({"type": "string"}));
    let out = sanitize(&json!({"type": "integer", "format": "int64"}));
    assert_eq!(out["format"], "int64");
}

#[test]
fn refs_are_inlined() {
    let schema = json!({
        "$defs": {"City": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
        "definitions": {"Unit": {"type": "string", "enum": ["c", "f"]}},
        "type": "object",
        "properties": {
            "city": {"$ref": "#/$defs/City", "description": "where"},
            "unit": {"$ref": "#/definitions/Unit"},
            "cities": {"type": "array", "items": {"$ref": "#/$defs/City"}}
        }
    });
    let out = sanitize(&schema);
    assert!(out.get("$defs").is_none() && out.get("definitions").is_none());
    assert_eq!(
        out["properties"]["city"]["properties"]["name"]["type"],
        "string"
    );
    assert_eq!(out["properties"]["city"]["description"], "where");
    assert_eq!(out["properties"]["city"]["required"], json!(["name"]));
    assert_eq!(
        out["properties"]["unit"],
        json!({"type": "string", "enum": ["c", "f"]})
    );
    assert_eq!(out["properties"]["cities"]["items"]["type"], "object");
    assert!(!out.to_string().contains("$ref"));
}

#[test]
fn recursive_refs_stop_at_the_depth_limit() {
    let schema = json!({
        "$defs": {"Node": {"type": "object", "properties": {
            "value": {"type": "integer"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}},
        "$ref": "#/$defs/Node"
    });
    let out = sanitize(&schema);
    assert!(!out.to_string().contains("$ref"));
    let mut node = &out;
    for _ in 0..MAX_REF_DEPTH {
        assert_eq!(node["properties"]["value"]["type"], "integer");
        node = &node["properties"]["children"]["items"];
    }
    assert_eq!(*node, json!({"type": "object"}));
    // A self-reference through the root and an unresolvable reference terminate too.
    let root = sanitize(&json!({"type": "object", "properties": {"next": {"$ref": "#"}}}));
    assert!(root.to_string().len() < 2_000);
    assert_eq!(
        sanitize(&json!({"$ref": "https://example.com/x.json"})),
        json!({"type": "object"})
    );
}

#[test]
fn nullable_rewrites() {
    assert_eq!(
        sanitize(&json!({"type": ["string", "null"], "description": "d"})),
        json!({"type": "string", "nullable": true, "description": "d"})
    );
    // pydantic's Optional[int]: anyOf with a null member, keywords beside it.
    assert_eq!(
        sanitize(
            &json!({"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Age"})
        ),
        json!({"type": "integer", "nullable": true, "title": "Age"})
    );
    let two =
        sanitize(&json!({"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]}));
    assert_eq!(
        two,
        json!({"anyOf": [{"type": "integer"}, {"type": "string"}], "nullable": true})
    );
    let multi = sanitize(&json!({"type": ["integer", "string"]}));
    assert_eq!(
        multi,
        json!({"anyOf": [{"type": "integer"}, {"type": "string"}]})
    );
    let nested = sanitize(
        &json!({"type": "object", "properties": {"x": {"anyOf": [{"$ref": "#/$defs/A"},
        {"type": "null"}]}}, "$defs": {"A": {"type": "object", "properties": {"y": {"type": "string"}}}}}),
    );
    assert_eq!(nested["properties"]["x"]["nullable"], true);
    assert_eq!(
        nested["properties"]["x"]["properties"]["y"]["type"],
        "string"
    );
    assert_eq!(
        sanitize(&json!({"enum": ["a", null]})),
        json!({"type": "string", "enum": ["a"], "nullable": true})
    );
}

#[test]
fn one_of_becomes_any_of() {
    let out = sanitize(
        &json!({"oneOf": [{"type": "string", "const": "a"}, {"type": "integer", "exclusiveMinimum": 0}]}),
    );
    assert_eq!(
        out,
        json!({"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "integer"}]})
    );
}

#[test]
fn const_becomes_enum_for_strings() {
    assert_eq!(
        sanitize(&json!({"const": "fixed"})),
        json!({"type": "string", "enum": ["fixed"]})
    );
    assert_eq!(
        sanitize(&json!({"type": "integer", "const": 3})),
        json!({"type": "integer"})
    );
    assert_eq!(
        sanitize(&json!({"type": "integer", "enum": [1, 2]})),
        json!({"type": "integer", "enum": ["1", "2"]})
    );
}

#[test]
fn all_of_is_merged() {
    let schema = json!({
        "$defs": {"Base": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}},
        "allOf": [
            {"$ref": "#/$defs/Base"},
            {"properties": {"n": {"type": "integer"}}, "required": ["n"], "additionalProperties": false}
        ],
        "description": "merged"
    });
    let out = sanitize(&schema);
    assert_eq!(out["type"], "object");
    assert_eq!(out["description"], "merged");
    assert_eq!(out["required"], json!(["id", "n"]));
    assert_eq!(out["properties"]["n"]["type"], "integer");
    assert!(out.get("allOf").is_none());
}

#[test]
fn types_are_inferred_and_empty_objects_lose_properties() {
    assert_eq!(
        sanitize(&json!({"properties": {"a": {"type": "string"}}}))["type"],
        "object"
    );
    assert_eq!(
        sanitize(&json!({"items": {"type": "string"}}))["type"],
        "array"
    );
    assert_eq!(
        sanitize(
            &json!({"type": "object", "properties": {}, "additionalProperties": {"type": "string"}})
        ),
        json!({"type": "object"})
    );
    assert_eq!(sanitize(&json!(true)), json!({}));
    assert_eq!(
        sanitize(&json!({"type": "array", "items": [{"type": "string"}]}))["items"]["type"],
        "string"
    );
}
