//! Bedrock Converse wire: validation of a `Converse` / `ConverseStream` body (top-level members,
//! `system`, `inferenceConfig`, `toolConfig` and the pass-through members) and translation into a
//! neutral [`Conversation`]. Messages and their content blocks are checked in `content`, with the
//! shape checks and wordings of `shape`.

use serde_json::{Map, Value};

use super::content::parse_messages;
use super::shape::{
    array, bad, cache_point, constraint, member, object, one_of, only_keys, required, string,
    union, valid_tool_name, wrong_type,
};
use crate::errors::MockError;
use crate::http::json_object;
use crate::reply::{Conversation, Message, OutputFormat, Role, ToolChoice, ToolDef};

/// Top-level members of a Converse request (`modelId` travels in the path).
const TOP_LEVEL: [&str; 10] = [
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "promptVariables",
    "requestMetadata",
    "performanceConfig",
];

/// Most `stopSequences` one request may set.
const MAX_STOP_SEQUENCES: usize = 4;
/// Most `requestMetadata` entries.
const MAX_METADATA: usize = 16;
/// Most `additionalModelResponseFieldPaths`.
const MAX_RESPONSE_FIELD_PATHS: usize = 10;

/// A validated Converse request.
#[derive(Debug)]
pub(crate) struct ConverseRequest {
    /// The neutral conversation.
    pub conv: Conversation,
    /// Whether any `cachePoint` marks the prompt (the usage then reports cache reads/writes).
    pub cache_points: bool,
}

/// A number in `0..=1` at `path` (`inferenceConfig.temperature`, `inferenceConfig.topP`).
fn unit_interval(v: &Value, path: &str) -> Result<(), MockError> {
    let x = v.as_f64().ok_or_else(|| wrong_type(v, path, "Number"))?;
    if x < 0.0 {
        Err(constraint(
            &v.to_string(),
            path,
            "have value greater than or equal to 0",
        ))
    } else if x > 1.0 {
        Err(constraint(
            &v.to_string(),
            path,
            "have value less than or equal to 1",
        ))
    } else {
        Ok(())
    }
}

/// `inferenceConfig`; returns `maxTokens`.
fn parse_inference(v: &Value) -> Result<Option<u64>, MockError> {
    let p = "inferenceConfig";
    let obj = object(v, p)?;
    only_keys(
        obj,
        &["maxTokens", "temperature", "topP", "stopSequences"],
        p,
    )?;
    for key in ["temperature", "topP"] {
        if let Some(x) = member(obj, key) {
            unit_interval(x, &format!("{p}.{key}"))?;
        }
    }
    if let Some(stops) = member(obj, "stopSequences") {
        let list = array(stops, &format!("{p}.stopSequences"))?;
        for (i, s) in list.iter().enumerate() {
            string(s, &format!("{p}.stopSequences.{i}"))?;
        }
        if list.len() > MAX_STOP_SEQUENCES {
            return Err(constraint(
                &stops.to_string(),
                "inferenceConfig.stopSequences",
                &format!("have length less than or equal to {MAX_STOP_SEQUENCES}"),
            ));
        }
    }
    let Some(max) = member(obj, "maxTokens") else {
        return Ok(None);
    };
    let Some(n) = max.as_i64() else {
        return Err(wrong_type(max, &format!("{p}.maxTokens"), "Integer"));
    };
    match u64::try_from(n) {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(constraint(
            &n.to_string(),
            "inferenceConfig.maxTokens",
            "have value greater than or equal to 1",
        )),
    }
}

/// One `toolConfig.tools` entry: a `toolSpec` (returned) or a `cachePoint`.
fn parse_tool(v: &Value, i: usize) -> Result<Option<ToolDef>, MockError> {
    let p = format!("toolConfig.tools.{i}");
    let (kind, inner) = union(v, &["toolSpec", "cachePoint"], &p)?;
    if kind == "cachePoint" {
        return cache_point(inner, &format!("{p}.cachePoint")).map(|()| None);
    }
    let p = format!("{p}.toolSpec");
    let spec = object(inner, &p)?;
    only_keys(spec, &["name", "description", "inputSchema"], &p)?;
    let name = string(required(spec, "name", &p)?, &format!("{p}.name"))?;
    if !valid_tool_name(name) {
        return Err(constraint(
            name,
            &format!("toolConfig.tools.{i}.member.toolSpec.name"),
            "satisfy regular expression pattern: ^[a-zA-Z0-9_-]{1,64}$",
        ));
    }
    if let Some(d) = member(spec, "description")
        && string(d, &format!("{p}.description"))?.is_empty()
    {
        return Err(constraint(
            "",
            &format!("toolConfig.tools.{i}.member.toolSpec.description"),
            "have length greater than or equal to 1",
        ));
    }
    let sp = format!("{p}.inputSchema");
    let (_, schema) = union(required(spec, "inputSchema", &p)?, &["json"], &sp)?;
    let schema_obj = object(schema, &format!("{sp}.json"))?;
    if schema_obj.get("type").and_then(Value::as_str) != Some("object") {
        return Err(bad(format!(
            "The value at {sp}.json.type must be one of the following: object."
        )));
    }
    Ok(Some(ToolDef {
        name: name.to_owned(),
        parameters: schema.clone(),
    }))
}

/// `toolConfig`: the tools and the tool choice.
fn parse_tool_config(v: &Value) -> Result<(Vec<ToolDef>, ToolChoice), MockError> {
    let p = "toolConfig";
    let obj = object(v, p)?;
    only_keys(obj, &["tools", "toolChoice"], p)?;
    let list = array(required(obj, "tools", p)?, "toolConfig.tools")?;
    if list.is_empty() {
        return Err(constraint(
            "[]",
            "toolConfig.tools",
            "have length greater than or equal to 1",
        ));
    }
    let mut tools: Vec<ToolDef> = Vec::new();
    for (i, t) in list.iter().enumerate() {
        if let Some(tool) = parse_tool(t, i)? {
            if tools.iter().any(|known| known.name == tool.name) {
                return Err(bad(format!(
                    "The tool name {} is duplicated in toolConfig.tools. Tool names must be \
                     unique.",
                    tool.name
                )));
            }
            tools.push(tool);
        }
    }
    let Some(choice) = member(obj, "toolChoice") else {
        return Ok((tools, ToolChoice::Auto));
    };
    let cp = "toolConfig.toolChoice";
    let (kind, inner) = union(choice, &["auto", "any", "tool"], cp)?;
    let ip = format!("{cp}.{kind}");
    let inner = object(inner, &ip)?;
    let choice = match kind {
        "tool" => {
            only_keys(inner, &["name"], &ip)?;
            let name = string(required(inner, "name", &ip)?, &format!("{ip}.name"))?;
            if !tools.iter().any(|t| t.name == name) {
                return Err(bad(format!(
                    "The tool {name} specified in toolConfig.toolChoice isn't defined in \
                     toolConfig.tools. Add the tool to toolConfig.tools and try again."
                )));
            }
            ToolChoice::Named(name.to_owned())
        }
        _ => {
            only_keys(inner, &[], &ip)?;
            if kind == "any" {
                ToolChoice::Required
            } else {
                ToolChoice::Auto
            }
        }
    };
    Ok((tools, choice))
}

/// `system`: text, `cachePoint` and `guardContent` blocks; returns the joined text and whether a
/// cache point was set.
fn parse_system(v: &Value) -> Result<(Option<String>, bool), MockError> {
    let mut texts = Vec::new();
    let mut cache = false;
    for (i, block) in array(v, "system")?.iter().enumerate() {
        let p = format!("system.{i}");
        match union(block, &["text", "cachePoint", "guardContent"], &p)? {
            ("text", t) => {
                let text = string(t, &format!("{p}.text"))?;
                if text.trim().is_empty() {
                    return Err(bad(format!(
                        "The text field in the SystemContentBlock object at {p} is blank. Add \
                         text to the text field, and try again."
                    )));
                }
                texts.push(text);
            }
            ("cachePoint", c) => {
                cache_point(c, &format!("{p}.cachePoint"))?;
                cache = true;
            }
            (_, g) => super::content::guard_content(g, &format!("{p}.guardContent"))?,
        }
    }
    Ok(((!texts.is_empty()).then(|| texts.join("\n")), cache))
}

/// The pass-through members: checked for shape only.
fn check_passthrough(obj: &Map<String, Value>) -> Result<(), MockError> {
    if let Some(v) = member(obj, "additionalModelRequestFields") {
        object(v, "additionalModelRequestFields")?;
    }
    if let Some(v) = member(obj, "additionalModelResponseFieldPaths") {
        let p = "additionalModelResponseFieldPaths";
        let list = array(v, p)?;
        for (i, s) in list.iter().enumerate() {
            string(s, &format!("{p}.{i}"))?;
        }
        if list.len() > MAX_RESPONSE_FIELD_PATHS {
            return Err(constraint(
                &v.to_string(),
                p,
                "have length less than or equal to 10",
            ));
        }
    }
    if let Some(v) = member(obj, "promptVariables") {
        for (name, var) in object(v, "promptVariables")? {
            let p = format!("promptVariables.{name}");
            let (_, text) = union(var, &["text"], &p)?;
            string(text, &format!("{p}.text"))?;
        }
    }
    if let Some(v) = member(obj, "requestMetadata") {
        let map = object(v, "requestMetadata")?;
        for (k, value) in map {
            string(value, &format!("requestMetadata.{k}"))?;
        }
        if map.len() > MAX_METADATA {
            return Err(constraint(
                &v.to_string(),
                "requestMetadata",
                "have length less than or equal to 16",
            ));
        }
    }
    if let Some(v) = member(obj, "performanceConfig") {
        let p = "performanceConfig";
        let perf = object(v, p)?;
        only_keys(perf, &["latency"], p)?;
        if let Some(l) = member(perf, "latency") {
            one_of(l, &["standard", "optimized"], "performanceConfig.latency")?;
        }
    }
    if let Some(v) = member(obj, "guardrailConfig") {
        let p = "guardrailConfig";
        let g = object(v, p)?;
        only_keys(
            g,
            &[
                "guardrailIdentifier",
                "guardrailVersion",
                "trace",
                "streamProcessingMode",
            ],
            p,
        )?;
        string(
            required(g, "guardrailIdentifier", p)?,
            "guardrailConfig.guardrailIdentifier",
        )?;
        string(
            required(g, "guardrailVersion", p)?,
            "guardrailConfig.guardrailVersion",
        )?;
        if let Some(t) = member(g, "trace") {
            one_of(
                t,
                &["enabled", "disabled", "enabled_full"],
                "guardrailConfig.trace",
            )?;
        }
        if let Some(m) = member(g, "streamProcessingMode") {
            one_of(
                m,
                &["sync", "async"],
                "guardrailConfig.streamProcessingMode",
            )?;
        }
    }
    Ok(())
}

/// Validates and translates a Converse request body.
pub(crate) fn parse_request(body: &[u8]) -> Result<ConverseRequest, MockError> {
    let obj = json_object(body)
        .map_err(|_| bad("Malformed input request, please reformat your input and try again."))?;
    only_keys(&obj, &TOP_LEVEL, "")?;
    let (tools, tool_choice) = match member(&obj, "toolConfig") {
        Some(v) => parse_tool_config(v)?,
        None => (Vec::new(), ToolChoice::Auto),
    };
    let max_tokens = member(&obj, "inferenceConfig")
        .map(parse_inference)
        .transpose()?
        .flatten();
    let (system, system_cache) = match member(&obj, "system") {
        Some(v) => parse_system(v)?,
        None => (None, false),
    };
    check_passthrough(&obj)?;
    let parsed = parse_messages(
        required(&obj, "messages", "")?,
        member(&obj, "toolConfig").is_some(),
    )?;
    let mut messages: Vec<Message> = system
        .map(|text| Message {
            role: Role::System,
            text,
        })
        .into_iter()
        .collect();
    messages.extend(parsed.messages);
    Ok(ConverseRequest {
        conv: Conversation {
            messages,
            tools,
            tool_choice,
            format: OutputFormat::Text,
            max_tokens,
        },
        cache_points: system_cache || parsed.cache_points || tools_cache(&obj),
    })
}

/// Whether `toolConfig.tools` holds a `cachePoint`.
fn tools_cache(obj: &Map<String, Value>) -> bool {
    obj.get("toolConfig")
        .and_then(|c| c.get("tools"))
        .and_then(Value::as_array)
        .is_some_and(|tools| tools.iter().any(|t| t.get("cachePoint").is_some()))
}
