//! Gemini wire: validation and translation of the request's configuration — `tools`
//! (function declarations with schema checks), `toolConfig.functionCallingConfig` and
//! `generationConfig` (output limit, JSON / enum output, response schemas, thinking config).

use serde_json::{Value, json};

use crate::errors::MockError;
use crate::gemini::schema::{self as schema, bad, check_fields, field, invalid_value};
use crate::reply::{OutputFormat, ToolChoice, ToolDef};

/// Fields of `GenerationConfig`.
const GENERATION_FIELDS: &[&str] = &[
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "enableEnhancedCivicAnswers",
    "speechConfig",
    "thinkingConfig",
    "imageConfig",
    "mediaResolution",
];

/// Gemini's function-name rule: `[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}`.
fn valid_function_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'))
        && name.len() <= 64
}

/// `tools` and `toolConfig` → neutral tool definitions and tool choice.
pub(crate) fn parse_tools(
    tools: Option<&Value>,
    config: Option<&Value>,
) -> Result<(Vec<ToolDef>, ToolChoice), MockError> {
    let list = match tools {
        None => &[][..],
        Some(Value::Array(list)) => list.as_slice(),
        Some(other) => return Err(invalid_value("tools", "list", other)),
    };
    let mut defs = Vec::new();
    for (i, tool) in list.iter().enumerate() {
        let at = format!("tools[{i}]");
        let obj = tool
            .as_object()
            .ok_or_else(|| invalid_value(&at, "Tool", tool))?;
        check_fields(
            obj,
            &[
                "functionDeclarations",
                "googleSearch",
                "googleSearchRetrieval",
                "codeExecution",
                "urlContext",
                "computerUse",
                "fileSearch",
                "googleMaps",
            ],
            &at,
        )?;
        let decls = match field(obj, "functionDeclarations") {
            None => &[][..],
            Some(Value::Array(d)) => d.as_slice(),
            Some(other) => {
                return Err(invalid_value(
                    &format!("{at}.function_declarations"),
                    "list",
                    other,
                ));
            }
        };
        for (k, decl) in decls.iter().enumerate() {
            defs.push(parse_declaration(
                decl,
                &format!("{at}.function_declarations[{k}]"),
            )?);
        }
    }
    let choice = parse_tool_config(config, &mut defs)?;
    Ok((defs, choice))
}

fn parse_declaration(decl: &Value, at: &str) -> Result<ToolDef, MockError> {
    let obj = decl
        .as_object()
        .ok_or_else(|| invalid_value(at, "FunctionDeclaration", decl))?;
    check_fields(
        obj,
        &[
            "name",
            "description",
            "parameters",
            "parametersJsonSchema",
            "response",
            "responseJsonSchema",
            "behavior",
        ],
        at,
    )?;
    let name = field(obj, "name").and_then(Value::as_str).unwrap_or("");
    if !valid_function_name(name) {
        return Err(bad(
            format!(
                "* GenerateContentRequest.{at}.name: Invalid function name. Must start with a \
                 letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), \
                 dots (.), colons (:), or dashes (-), with a maximum length of 64.\n"
            ),
            &format!("{at}.name"),
        ));
    }
    let parameters = match (field(obj, "parameters"), field(obj, "parametersJsonSchema")) {
        (Some(_), Some(_)) => {
            return Err(bad(
                format!(
                    "* GenerateContentRequest.{at}.parameters: parameters and \
                     parameters_json_schema cannot both be set.\n"
                ),
                &format!("{at}.parameters"),
            ));
        }
        (Some(p), None) => schema::check(p, &format!("{at}.parameters"))?,
        (None, Some(js)) => js.clone(),
        (None, None) => json!({"type": "object", "properties": {}}),
    };
    Ok(ToolDef {
        name: name.to_owned(),
        parameters,
    })
}

/// `toolConfig.functionCallingConfig` → neutral tool choice (`ANY` with allowed names narrows
/// `tools`).
fn parse_tool_config(
    config: Option<&Value>,
    tools: &mut Vec<ToolDef>,
) -> Result<ToolChoice, MockError> {
    let Some(config) = config else {
        return Ok(ToolChoice::Auto);
    };
    let obj = config
        .as_object()
        .ok_or_else(|| invalid_value("tool_config", "ToolConfig", config))?;
    check_fields(
        obj,
        &["functionCallingConfig", "retrievalConfig"],
        "tool_config",
    )?;
    let Some(fcc) = field(obj, "functionCallingConfig") else {
        return Ok(ToolChoice::Auto);
    };
    let at = "tool_config.function_calling_config";
    let fcc = fcc
        .as_object()
        .ok_or_else(|| invalid_value(at, "FunctionCallingConfig", fcc))?;
    check_fields(fcc, &["mode", "allowedFunctionNames"], at)?;
    let mode = field(fcc, "mode").and_then(Value::as_str).unwrap_or("AUTO");
    let allowed: Vec<String> = match field(fcc, "allowedFunctionNames") {
        None => Vec::new(),
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(other) => {
            return Err(invalid_value(
                &format!("{at}.allowed_function_names"),
                "list",
                other,
            ));
        }
    };
    match mode.to_ascii_uppercase().as_str() {
        "AUTO" | "MODE_UNSPECIFIED" | "VALIDATED" => Ok(ToolChoice::Auto),
        "NONE" => Ok(ToolChoice::None),
        "ANY" => match allowed.as_slice() {
            [one] => Ok(ToolChoice::Named(one.clone())),
            [] => Ok(ToolChoice::Required),
            names => {
                tools.retain(|t| names.contains(&t.name));
                Ok(ToolChoice::Required)
            }
        },
        _ => Err(invalid_value(
            &format!("{at}.mode"),
            "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode",
            &Value::String(mode.to_owned()),
        )),
    }
}

/// `generationConfig` → (output format, output limit, `text/x.enum` output).
pub(crate) fn parse_generation(
    config: Option<&Value>,
) -> Result<(OutputFormat, Option<u64>, bool), MockError> {
    let at = "generation_config";
    let Some(config) = config else {
        return Ok((OutputFormat::Text, None, false));
    };
    let obj = config
        .as_object()
        .ok_or_else(|| invalid_value(at, "GenerationConfig", config))?;
    check_fields(obj, GENERATION_FIELDS, at)?;
    let max_tokens =
        match field(obj, "maxOutputTokens") {
            None => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| {
                invalid_value(&format!("{at}.max_output_tokens"), "TYPE_INT32", v)
            })?),
        };
    if let Some(stops) = field(obj, "stopSequences") {
        match stops.as_array() {
            Some(list) if list.iter().all(Value::is_string) && list.len() <= 5 => {}
            Some(list) if list.len() > 5 => {
                return Err(bad(
                    format!(
                        "* GenerateContentRequest.{at}.stop_sequences: stop_sequences must not \
                         have more than 5 elements.\n"
                    ),
                    &format!("{at}.stop_sequences"),
                ));
            }
            _ => {
                return Err(invalid_value(
                    &format!("{at}.stop_sequences"),
                    "list",
                    stops,
                ));
            }
        }
    }
    if let Some(thinking) = field(obj, "thinkingConfig") {
        let t = thinking.as_object().ok_or_else(|| {
            invalid_value(&format!("{at}.thinking_config"), "ThinkingConfig", thinking)
        })?;
        check_fields(
            t,
            &["thinkingBudget", "includeThoughts", "thinkingLevel"],
            &format!("{at}.thinking_config"),
        )?;
    }
    let mime = field(obj, "responseMimeType")
        .and_then(Value::as_str)
        .unwrap_or("text/plain");
    let json_out = mime == "application/json";
    let enum_out = mime == "text/x.enum";
    if !json_out
        && !enum_out
        && !["text/plain", "application/xml", "application/yaml"].contains(&mime)
    {
        return Err(bad(
            format!(
                "* GenerateContentRequest.{at}.response_mime_type: allowed mimetypes are \
                 `text/plain`, `application/json`, `application/xml`, `application/yaml` and \
                 `text/x.enum`.\n"
            ),
            &format!("{at}.response_mime_type"),
        ));
    }
    let schema = match (
        field(obj, "responseSchema"),
        field(obj, "responseJsonSchema"),
    ) {
        (Some(_), Some(_)) => {
            return Err(bad(
                format!(
                    "* GenerateContentRequest.{at}.response_schema: response_schema and \
                     response_json_schema cannot both be set.\n"
                ),
                &format!("{at}.response_schema"),
            ));
        }
        (Some(s), None) => Some(schema::check(s, &format!("{at}.response_schema"))?),
        (None, Some(js)) => Some(js.clone()),
        (None, None) => None,
    };
    let format = match schema {
        Some(_) if !json_out && !enum_out => {
            return Err(bad(
                format!(
                    "* GenerateContentRequest.{at}.response_mime_type: response_mime_type must \
                     be one of [application/json, text/x.enum] when a response schema is set.\n"
                ),
                &format!("{at}.response_mime_type"),
            ));
        }
        Some(s) => OutputFormat::JsonSchema(s),
        None if json_out => OutputFormat::JsonObject,
        None => OutputFormat::Text,
    };
    Ok((format, max_tokens, enum_out))
}
