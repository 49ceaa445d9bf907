//! Gemini wire: validation of `generateContent` requests and translation into a neutral
//! [`Conversation`]. Rejects what the Generative Language API rejects (roles, empty contents and
//! parts, unknown fields and schema keywords, non-object function payloads, misplaced
//! function-call turns, missing Gemini 3 thought signatures) with 400 `INVALID_ARGUMENT`.

use serde_json::{Map, Value};

use crate::b64::{self, Alphabet};
use crate::errors::MockError;
use crate::gemini::config;
use crate::gemini::schema::{self as schema, bad, check_fields, field, invalid_value};
use crate::reply::{Conversation, Message, Role};
use crate::signatures::Signatures;

/// Signatures Gemini documents as "skip validation" placeholders for synthetic history.
const BYPASS_SIGNATURES: [&str; 2] = [
    "skip_thought_signature_validator",
    "context_engineering_is_the_way_to_go",
];

/// Top-level fields of `GenerateContentRequest`.
const REQUEST_FIELDS: &[&str] = &[
    "model",
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
];

/// Fields of a `Part` (the first seven are the `data` oneof).
const PART_FIELDS: &[&str] = &[
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
    "thought",
    "thoughtSignature",
    "videoMetadata",
    "partMetadata",
    "mediaResolution",
];

/// Number of `data` oneof members at the start of [`PART_FIELDS`].
const DATA_FIELDS: usize = 7;

/// A validated `generateContent` request.
#[derive(Debug)]
pub(crate) struct GenerateRequest {
    /// The neutral conversation.
    pub conv: Conversation,
    /// `responseMimeType: text/x.enum`: answer with the bare enum value.
    pub enum_output: bool,
}

/// What one validated part contributes.
enum Part {
    Text { text: String, thought: bool },
    Call { signature: Option<String> },
    Response(Value),
    Other,
}

/// Parses a request body as a JSON object, with Gemini's error wording.
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, MockError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(other) => Err(MockError::invalid(
            format!("Invalid JSON payload received. Expected an object, got {other}."),
            None,
        )),
        Err(e) => Err(MockError::invalid(
            format!("Invalid JSON payload received. {e}"),
            None,
        )),
    }
}

/// Validates and translates a `generateContent` body object for `model`; `signatures` holds the
/// thought signatures this server issued (checked for `gemini-3*` models).
pub(crate) fn parse_generate(
    model: &str,
    obj: &Map<String, Value>,
    signatures: &Signatures,
) -> Result<GenerateRequest, MockError> {
    check_fields(obj, REQUEST_FIELDS, "")?;
    let mut messages = Vec::new();
    if let Some(sys) = field(obj, "systemInstruction") {
        let texts = content_texts(sys, "system_instruction")?;
        messages.push(Message {
            role: Role::System,
            text: texts,
        });
    }
    messages.extend(parse_contents(
        field(obj, "contents"),
        model.starts_with("gemini-3"),
        signatures,
    )?);
    let (tools, tool_choice) = config::parse_tools(field(obj, "tools"), field(obj, "toolConfig"))?;
    let (format, max_tokens, enum_output) =
        config::parse_generation(field(obj, "generationConfig"))?;
    Ok(GenerateRequest {
        conv: Conversation {
            messages,
            tools,
            tool_choice,
            format,
            max_tokens,
        },
        enum_output,
    })
}

/// The joined text parts of a `Content` used as `systemInstruction` or embedding input (role
/// ignored; every part is validated).
pub(crate) fn content_texts(content: &Value, at: &str) -> Result<String, MockError> {
    let obj = content
        .as_object()
        .ok_or_else(|| invalid_value(at, "Content", content))?;
    check_fields(obj, &["role", "parts"], at)?;
    let parts = match field(obj, "parts") {
        Some(Value::Array(parts)) => parts.as_slice(),
        None => &[],
        Some(other) => return Err(invalid_value(&format!("{at}.parts"), "list", other)),
    };
    let mut texts = Vec::new();
    for (j, part) in parts.iter().enumerate() {
        if let Part::Text { text, .. } = parse_part(part, &format!("{at}.parts[{j}]"))? {
            texts.push(text);
        }
    }
    Ok(texts.join("\n"))
}

/// One validated turn, for sequencing rules.
struct Turn {
    model: bool,
    calls: usize,
    responses: usize,
    /// Thought signature of each function call part, in order.
    call_signatures: Vec<Option<String>>,
}

fn parse_contents(
    value: Option<&Value>,
    gemini3: bool,
    signatures: &Signatures,
) -> Result<Vec<Message>, MockError> {
    let list = match value {
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(Value::Array(_)) | None => {
            return Err(bad(
                "* GenerateContentRequest.contents: contents is not specified\n",
                "contents",
            ));
        }
        Some(other) => return Err(invalid_value("contents", "list", other)),
    };
    let mut messages = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    for (i, content) in list.iter().enumerate() {
        let at = format!("contents[{i}]");
        let obj = content
            .as_object()
            .ok_or_else(|| invalid_value(&at, "Content", content))?;
        check_fields(obj, &["role", "parts"], &at)?;
        let model = match field(obj, "role").map(|r| r.as_str().unwrap_or("?")) {
            None | Some("" | "user") => false,
            Some("model") => true,
            Some(_) => {
                return Err(bad(
                    "Please use a valid role: user, model.",
                    &format!("{at}.role"),
                ));
            }
        };
        let parts = match field(obj, "parts") {
            Some(Value::Array(parts)) if !parts.is_empty() => parts,
            _ => {
                return Err(bad(
                    format!(
                        "* GenerateContentRequest.{at}.parts: contents.parts must not be empty.\n"
                    ),
                    &format!("{at}.parts"),
                ));
            }
        };
        let mut turn = Turn {
            model,
            calls: 0,
            responses: 0,
            call_signatures: Vec::new(),
        };
        let mut texts = Vec::new();
        let mut results = Vec::new();
        for (j, part) in parts.iter().enumerate() {
            match parse_part(part, &format!("{at}.parts[{j}]"))? {
                Part::Text { text, thought } if !thought => texts.push(text),
                Part::Call { signature } => {
                    turn.calls += 1;
                    turn.call_signatures.push(signature);
                }
                Part::Response(response) => {
                    turn.responses += 1;
                    results.push(response.to_string());
                }
                Part::Text { .. } | Part::Other => {}
            }
        }
        check_sequence(&turns, &turn, &at)?;
        if model {
            messages.push(Message {
                role: Role::Assistant,
                text: texts.join("\n"),
            });
        } else {
            let has_results = !results.is_empty();
            messages.extend(results.into_iter().map(|text| Message {
                role: Role::Tool,
                text,
            }));
            if !texts.is_empty() || !has_results {
                messages.push(Message {
                    role: Role::User,
                    text: texts.join("\n"),
                });
            }
        }
        turns.push(turn);
    }
    if gemini3 {
        check_signatures(&turns, signatures)?;
    }
    Ok(messages)
}

/// Function-call turns must follow a user (or function-response) turn; function-response turns
/// must follow a function-call turn and answer every call in it.
fn check_sequence(turns: &[Turn], turn: &Turn, at: &str) -> Result<(), MockError> {
    let prev = turns.last();
    if turn.model && turn.calls > 0 && prev.is_none_or(|p| p.model) {
        return Err(bad(
            "Please ensure that function call turn comes immediately after a user turn or after \
             a function response turn.",
            at,
        ));
    }
    if !turn.model && turn.responses > 0 {
        match prev {
            Some(p) if p.model && p.calls > 0 => {
                if p.calls != turn.responses {
                    return Err(bad(
                        "Please ensure that the number of function response parts is equal to \
                         the number of function call parts of the function call turn.",
                        at,
                    ));
                }
            }
            _ => {
                return Err(bad(
                    "Please ensure that function response turn comes immediately after a \
                     function call turn.",
                    at,
                ));
            }
        }
    }
    Ok(())
}

/// Gemini 3: in the current turn (after the last user prompt), the first function call of each
/// model turn must carry a thought signature, and every signature must be one this server issued.
fn check_signatures(turns: &[Turn], signatures: &Signatures) -> Result<(), MockError> {
    let start = turns
        .iter()
        .rposition(|t| !t.model && t.responses == 0)
        .map_or(0, |i| i + 1);
    for (i, turn) in turns.iter().enumerate().skip(start) {
        for (j, sig) in turn.call_signatures.iter().enumerate() {
            let at = format!("contents[{i}]");
            match sig {
                None if j == 0 => {
                    return Err(bad(
                        format!(
                            "Function call is missing a thought_signature in functionCall parts. \
                             This is required for tools to work correctly, and missing \
                             thought_signature may lead to degraded model performance. \
                             Additional data, function call position {}. Please refer to \
                             https://ai.google.dev/gemini-api/docs/thought-signatures for more \
                             details.",
                            j + 1
                        ),
                        &at,
                    ));
                }
                Some(s) if !BYPASS_SIGNATURES.contains(&s.as_str()) && !signatures.is_issued(s) => {
                    return Err(bad("Corrupted thought signature.", &at));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn parse_part(part: &Value, at: &str) -> Result<Part, MockError> {
    let obj = part
        .as_object()
        .ok_or_else(|| invalid_value(at, "Part", part))?;
    check_fields(obj, PART_FIELDS, at)?;
    let data: Vec<&str> = PART_FIELDS[..DATA_FIELDS]
        .iter()
        .copied()
        .filter(|k| field(obj, k).is_some())
        .collect();
    let kind = match data.as_slice() {
        [] => {
            return Err(bad(
                format!(
                    "* GenerateContentRequest.{at}.data: required oneof field 'data' must have \
                     one initialized field\n"
                ),
                &format!("{at}.data"),
            ));
        }
        [kind] => *kind,
        [_, second, ..] => {
            return Err(bad(
                format!(
                    "Invalid value at '{at}': oneof field 'data' is already set. Cannot set \
                     '{second}'"
                ),
                at,
            ));
        }
    };
    let signature = match field(obj, "thoughtSignature") {
        None => None,
        Some(Value::String(s)) if b64::invalid_at(s, Alphabet::Lenient).is_none() => {
            Some(s.clone())
        }
        Some(other) => {
            return Err(invalid_value(
                &format!("{at}.thought_signature"),
                "TYPE_BYTES",
                other,
            ));
        }
    };
    let value = field(obj, kind).unwrap_or(&Value::Null);
    let path = format!("{at}.{}", schema::snake(kind));
    match kind {
        "text" => match value {
            Value::String(text) => Ok(Part::Text {
                text: text.clone(),
                thought: field(obj, "thought") == Some(&Value::Bool(true)),
            }),
            other => Err(invalid_value(&path, "TYPE_STRING", other)),
        },
        "inlineData" => {
            let blob = value
                .as_object()
                .ok_or_else(|| invalid_value(&path, "Blob", value))?;
            check_fields(blob, &["mimeType", "data", "displayName"], &path)?;
            if !field(blob, "mimeType").is_some_and(Value::is_string) {
                return Err(bad(
                    format!(
                        "* GenerateContentRequest.{path}.mime_type: required field is not set\n"
                    ),
                    &format!("{path}.mime_type"),
                ));
            }
            match field(blob, "data") {
                Some(Value::String(d)) if b64::invalid_at(d, Alphabet::Lenient).is_none() => {
                    Ok(Part::Other)
                }
                Some(Value::String(d)) => Err(bad(
                    format!(
                        "Invalid value at '{path}.data' (TYPE_BYTES), Base64 decoding failed for \
                         \"{}\"",
                        d.chars().take(40).collect::<String>()
                    ),
                    &format!("{path}.data"),
                )),
                _ => Err(bad(
                    format!("* GenerateContentRequest.{path}.data: required field is not set\n"),
                    &format!("{path}.data"),
                )),
            }
        }
        "functionCall" => {
            let call = value
                .as_object()
                .ok_or_else(|| invalid_value(&path, "FunctionCall", value))?;
            check_fields(call, &["id", "name", "args"], &path)?;
            require_name(call, &path)?;
            match field(call, "args") {
                None | Some(Value::Object(_)) => Ok(Part::Call { signature }),
                Some(other) => Err(invalid_value(
                    &format!("{path}.args"),
                    "type.googleapis.com/google.protobuf.Struct",
                    other,
                )),
            }
        }
        "functionResponse" => {
            let resp = value
                .as_object()
                .ok_or_else(|| invalid_value(&path, "FunctionResponse", value))?;
            check_fields(
                resp,
                &[
                    "id",
                    "name",
                    "response",
                    "parts",
                    "willContinue",
                    "scheduling",
                ],
                &path,
            )?;
            require_name(resp, &path)?;
            match field(resp, "response") {
                Some(Value::Object(r)) => Ok(Part::Response(Value::Object(r.clone()))),
                None => Err(bad(
                    format!(
                        "* GenerateContentRequest.{path}.response: required field is not set\n"
                    ),
                    &format!("{path}.response"),
                )),
                Some(other) => Err(invalid_value(
                    &format!("{path}.response"),
                    "type.googleapis.com/google.protobuf.Struct",
                    other,
                )),
            }
        }
        _ => Ok(Part::Other),
    }
}

fn require_name(obj: &Map<String, Value>, at: &str) -> Result<(), MockError> {
    match field(obj, "name") {
        Some(Value::String(n)) if !n.is_empty() => Ok(()),
        _ => Err(bad(
            format!("* GenerateContentRequest.{at}.name: Name cannot be empty.\n"),
            &format!("{at}.name"),
        )),
    }
}
