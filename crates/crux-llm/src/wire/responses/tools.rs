//! Responses tools that are not plain functions, carried to other wires by one rule each, and the calls mapped back
//! to the shape the caller expects:
//!
//! - a `namespace` (a named group of tools, as Codex sends them) → each member as its own function, named
//!   `<namespace>__<name>`; a call comes back as a `function_call` item with `name` and `namespace` apart;
//! - a `custom` tool (free-form text input, e.g. a grammar-constrained `apply_patch`) → a function taking one string
//!   argument, `input` (the grammar, when there is one, goes into its description); a call comes back as a
//!   `custom_tool_call` item whose `input` is that string;
//! - any other type (`web_search`, `file_search`, `code_interpreter`, …) only runs on the Responses API: it is
//!   listed as hosted, for the gateway to pass through or leave out.
//!
//! Flattened names keep to what every wire accepts, `[a-zA-Z0-9_-]{1,64}`: other characters become `_`, and a name
//! that would be longer keeps its first 55 characters, `_` and 8 hex digits of a hash of the whole name. The map
//! from flattened names back to the originals is built from the request itself, so nothing is stored.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::types::Tool;

/// Longest tool name every wire accepts.
pub const MAX_NAME: usize = 64;

/// What a flattened tool was in the caller's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The namespace it belongs to, if any.
    pub namespace: Option<String>,
    /// Its own name.
    pub name: String,
    /// A `custom` (free-form input) tool.
    pub custom: bool,
}

/// Flattened tool name → the tool the caller sent (only tools whose calls need mapping back are listed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolNames {
    map: HashMap<String, Origin>,
}

impl ToolNames {
    /// The original of flattened name `flat`, when it is a namespaced or custom tool.
    pub fn origin(&self, flat: &str) -> Option<&Origin> {
        self.map.get(flat)
    }

    /// Whether `flat` names a custom tool.
    pub fn is_custom(&self, flat: &str) -> bool {
        self.origin(flat).is_some_and(|o| o.custom)
    }
}

/// The name a tool `name` inside `namespace` (if any) gets on other wires.
pub fn flat_name(namespace: Option<&str>, name: &str) -> String {
    let joined = match namespace {
        Some(ns) => format!("{ns}__{name}"),
        None => name.to_owned(),
    };
    let clean: String = joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.len() <= MAX_NAME && !clean.is_empty() {
        return clean;
    }
    // FNV-1a: stable across runs and builds (the name must be the same on every turn).
    let hash = joined.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}_{:08x}", &clean[..clean.len().min(55)], hash as u32)
}

/// Tools parsed from a request's `tools`.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub functions: Vec<Tool>,
    pub names: ToolNames,
    pub hosted: Vec<String>,
}

/// Sort the request's tools: functions (namespaces flattened, custom tools as one-string functions), and the
/// types only the Responses API runs.
pub(crate) fn parse(tools: &[Value]) -> Result<Parsed, String> {
    let mut out = Parsed::default();
    for tool in tools {
        match tool["type"].as_str() {
            Some("namespace") => {
                let ns = tool["name"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .ok_or("a namespace tool needs 'name'")?;
                let members = tool["tools"]
                    .as_array()
                    .ok_or("a namespace tool needs 'tools'")?;
                for member in members {
                    member_tool(Some(ns), member, &mut out)?;
                }
            }
            Some("function" | "custom") => member_tool(None, tool, &mut out)?,
            Some(kind) => out.hosted.push(kind.to_owned()),
            None => return Err("every tool needs a 'type'".into()),
        }
    }
    Ok(out)
}

fn member_tool(namespace: Option<&str>, t: &Value, out: &mut Parsed) -> Result<(), String> {
    let custom = match t["type"].as_str() {
        Some("function") => false,
        Some("custom") => true,
        Some(kind) => {
            out.hosted.push(kind.to_owned());
            return Ok(());
        }
        None => return Err("every tool needs a 'type'".into()),
    };
    let name = t["name"].as_str().filter(|n| !n.is_empty()).ok_or(
        "a function tool needs 'name' (Responses tools are flat, not nested under 'function')",
    )?;
    let flat = flat_name(namespace, name);
    let mut description = t["description"].as_str().map(str::to_owned);
    let parameters = if custom {
        if let Some(grammar) = t["format"]["definition"].as_str() {
            let syntax = t["format"]["syntax"].as_str().unwrap_or("lark");
            let d = description.get_or_insert_with(String::new);
            d.push_str(&format!(
                "\n\nPut the whole input in `input`; it must follow this {syntax} grammar:\n{grammar}"
            ));
        }
        json!({"type": "object", "properties": {"input": {"type": "string",
            "description": "The tool's free-form input."}}, "required": ["input"],
            "additionalProperties": false})
    } else {
        t.get("parameters")
            .filter(|p| !p.is_null())
            .cloned()
            .unwrap_or_else(|| json!({"type": "object", "properties": {}}))
    };
    if custom || namespace.is_some() || flat != name {
        out.names.map.insert(
            flat.clone(),
            Origin {
                namespace: namespace.map(str::to_owned),
                name: name.to_owned(),
                custom,
            },
        );
    }
    out.functions.push(Tool {
        name: flat,
        description,
        parameters,
        strict: if custom { None } else { t["strict"].as_bool() },
    });
    Ok(())
}

/// The arguments text a custom tool's `input` travels as on other wires.
pub fn custom_arguments(input: &str) -> String {
    json!({ "input": input }).to_string()
}

/// A custom tool's `input`, back from the arguments the model wrote (the raw text when they are not the expected
/// object).
pub fn custom_input(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(o)) => match o.get("input") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => arguments.to_owned(),
        },
        _ => arguments.to_owned(),
    }
}

/// The output item of a call to flattened tool `name`: a `function_call` (with `namespace` for a namespaced
/// tool) or a `custom_tool_call`.
pub fn call_item(
    names: &ToolNames,
    id: &str,
    status: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
) -> Value {
    let Some(origin) = names.origin(name) else {
        return json!({"id": id, "type": "function_call", "status": status, "call_id": call_id,
            "name": name, "arguments": arguments});
    };
    let mut item = if origin.custom {
        json!({"id": id, "type": "custom_tool_call", "status": status, "call_id": call_id,
            "name": origin.name, "input": if arguments.is_empty() { String::new() } else { custom_input(arguments) }})
    } else {
        json!({"id": id, "type": "function_call", "status": status, "call_id": call_id,
            "name": origin.name, "arguments": arguments})
    };
    if let Some(ns) = &origin.namespace {
        item["namespace"] = json!(ns);
    }
    item
}

#[cfg(test)]
#[path = "tools_tests.rs"]
mod tests;
