//! Bedrock Converse wire: validation of `messages` (roles, alternation, `ContentBlock` unions,
//! toolUse/toolResult pairing) and translation into neutral [`Message`]s: tool results become
//! `Tool` messages, the text of a turn one `User`/`Assistant` message.

use serde_json::Value;

use super::shape::{
    array, bad, base64, cache_point, constraint, malformed, member, object, one_of, only_keys,
    required, string, union, valid_tool_name,
};
use crate::errors::MockError;
use crate::reply::{Message, Role};

/// The members of the `ContentBlock` union.
const BLOCKS: [&str; 8] = [
    "text",
    "image",
    "document",
    "toolUse",
    "toolResult",
    "guardContent",
    "cachePoint",
    "reasoningContent",
];

/// Image formats.
const IMAGE_FORMATS: [&str; 4] = ["png", "jpeg", "gif", "webp"];
/// Document formats.
const DOCUMENT_FORMATS: [&str; 9] = [
    "pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md",
];
/// Longest `toolUseId`.
const MAX_TOOL_USE_ID: usize = 64;

/// Validated messages.
#[derive(Debug)]
pub(super) struct Parsed {
    /// The neutral messages, in order.
    pub messages: Vec<Message>,
    /// Whether a `cachePoint` block appears in some message.
    pub cache_points: bool,
}

/// One validated content block, reduced to what the mock needs.
#[derive(Debug)]
enum Block {
    /// Text (also the message's text).
    Text(String),
    /// A tool call by the assistant (its `toolUseId`).
    ToolUse(String),
    /// A tool result by the user: (`toolUseId`, text).
    ToolResult(String, String),
    /// A prompt-cache checkpoint.
    CachePoint,
    /// Anything else that is valid but carries no text (image, document, reasoning, guard).
    Other,
}

/// A blob `source`: one of `allowed` among `bytes` (base64), `s3Location`, `text`, `content`.
fn source(v: &Value, allowed: &[&str], p: &str) -> Result<(), MockError> {
    let (kind, inner) = union(v, allowed, p)?;
    let ip = format!("{p}.{kind}");
    match kind {
        "bytes" => base64(inner, &ip),
        "s3Location" => {
            let loc = object(inner, &ip)?;
            only_keys(loc, &["uri", "bucketOwner"], &ip)?;
            let uri = string(required(loc, "uri", &ip)?, &format!("{ip}.uri"))?;
            if uri.starts_with("s3://") {
                Ok(())
            } else {
                Err(constraint(
                    uri,
                    &format!("{ip}.uri"),
                    "satisfy regular expression pattern: s3://[a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9](/.*)?",
                ))
            }
        }
        "text" => string(inner, &ip).map(drop),
        _ => {
            for (k, part) in array(inner, &ip)?.iter().enumerate() {
                let pp = format!("{ip}.{k}");
                let (_, text) = union(part, &["text"], &pp)?;
                string(text, &format!("{pp}.text"))?;
            }
            Ok(())
        }
    }
}

/// `image`: `{format: png|jpeg|gif|webp, source: {bytes}|{s3Location}}`.
fn image(v: &Value, p: &str) -> Result<(), MockError> {
    let obj = object(v, p)?;
    only_keys(obj, &["format", "source"], p)?;
    one_of(
        required(obj, "format", p)?,
        &IMAGE_FORMATS,
        &format!("{p}.format"),
    )?;
    source(
        required(obj, "source", p)?,
        &["bytes", "s3Location"],
        &format!("{p}.source"),
    )
}

/// The real rule for document names: alphanumerics, single whitespace, hyphens, parentheses and
/// square brackets.
fn valid_document_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "-()[]".contains(c))
        && !name
            .chars()
            .zip(name.chars().skip(1))
            .any(|(a, b)| a.is_whitespace() && b.is_whitespace())
}

/// `document`: `{format?, name, source, context?, citations?}`, with the real name rule.
fn document(v: &Value, p: &str) -> Result<(), MockError> {
    let obj = object(v, p)?;
    only_keys(
        obj,
        &["format", "name", "source", "context", "citations"],
        p,
    )?;
    if let Some(f) = member(obj, "format") {
        one_of(f, &DOCUMENT_FORMATS, &format!("{p}.format"))?;
    }
    let name = string(required(obj, "name", p)?, &format!("{p}.name"))?;
    if !valid_document_name(name) {
        return Err(bad(
            "The document file name can only contain alphanumeric characters, whitespace \
             characters, hyphens, parentheses, and square brackets. The name can't contain more \
             than one consecutive whitespace character.",
        ));
    }
    if let Some(c) = member(obj, "context") {
        string(c, &format!("{p}.context"))?;
    }
    if let Some(c) = member(obj, "citations") {
        let cp = format!("{p}.citations");
        let citations = object(c, &cp)?;
        only_keys(citations, &["enabled"], &cp)?;
        if !required(citations, "enabled", &cp)?.is_boolean() {
            return Err(malformed(
                &format!("{cp}.enabled"),
                "expected type: Boolean",
            ));
        }
    }
    source(
        required(obj, "source", p)?,
        &["bytes", "s3Location", "text", "content"],
        &format!("{p}.source"),
    )
}

/// `guardContent`: guarded `text` (with optional qualifiers) or a `png`/`jpeg` image.
pub(super) fn guard_content(v: &Value, p: &str) -> Result<(), MockError> {
    let (kind, inner) = union(v, &["text", "image"], p)?;
    let ip = format!("{p}.{kind}");
    let obj = object(inner, &ip)?;
    if kind == "image" {
        only_keys(obj, &["format", "source"], &ip)?;
        one_of(
            required(obj, "format", &ip)?,
            &["png", "jpeg"],
            &format!("{ip}.format"),
        )?;
        return source(
            required(obj, "source", &ip)?,
            &["bytes"],
            &format!("{ip}.source"),
        );
    }
    only_keys(obj, &["text", "qualifiers"], &ip)?;
    string(required(obj, "text", &ip)?, &format!("{ip}.text"))?;
    if let Some(q) = member(obj, "qualifiers") {
        for (k, qualifier) in array(q, &format!("{ip}.qualifiers"))?.iter().enumerate() {
            let allowed = ["grounding_source", "query", "guard_content"];
            one_of(qualifier, &allowed, &format!("{ip}.qualifiers.{k}"))?;
        }
    }
    Ok(())
}

/// `toolUse`: returns its `toolUseId`.
fn tool_use(v: &Value, p: &str) -> Result<String, MockError> {
    let obj = object(v, p)?;
    only_keys(obj, &["toolUseId", "name", "input"], p)?;
    let id = tool_use_id(obj, p)?;
    let name = string(required(obj, "name", p)?, &format!("{p}.name"))?;
    if !valid_tool_name(name) {
        return Err(constraint(
            name,
            &format!("{p}.name"),
            "satisfy regular expression pattern: ^[a-zA-Z0-9_-]{1,64}$",
        ));
    }
    if !required(obj, "input", p)?.is_object() {
        return Err(bad(format!(
            "The format of the value at {p}.input is invalid. Provide a json object for the \
             field and try again."
        )));
    }
    Ok(id)
}

/// A `toolUseId` member: `^[a-zA-Z0-9_-]+$`, at most 64 characters.
fn tool_use_id(obj: &serde_json::Map<String, Value>, p: &str) -> Result<String, MockError> {
    let id = string(required(obj, "toolUseId", p)?, &format!("{p}.toolUseId"))?;
    let valid = (1..=MAX_TOOL_USE_ID).contains(&id.len())
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if valid {
        Ok(id.to_owned())
    } else {
        Err(constraint(
            id,
            &format!("{p}.toolUseId"),
            "satisfy regular expression pattern: ^[a-zA-Z0-9_-]+$",
        ))
    }
}

/// `toolResult`: returns (`toolUseId`, text of its `text` and `json` parts).
fn tool_result(v: &Value, p: &str) -> Result<(String, String), MockError> {
    let obj = object(v, p)?;
    only_keys(obj, &["toolUseId", "content", "status"], p)?;
    let id = tool_use_id(obj, p)?;
    if let Some(s) = member(obj, "status") {
        one_of(s, &["success", "error"], &format!("{p}.status"))?;
    }
    let cp = format!("{p}.content");
    let mut texts = Vec::new();
    for (k, part) in array(required(obj, "content", p)?, &cp)?.iter().enumerate() {
        let pp = format!("{cp}.{k}");
        match union(part, &["text", "json", "image", "document"], &pp)? {
            ("text", t) => texts.push(string(t, &format!("{pp}.text"))?.to_owned()),
            ("json", j) if j.is_object() => texts.push(j.to_string()),
            ("json", _) => {
                return Err(bad(format!(
                    "The format of the value at {pp}.json is invalid. Provide a json object for \
                     the field and try again."
                )));
            }
            ("image", i) => image(i, &format!("{pp}.image"))?,
            (_, d) => document(d, &format!("{pp}.document"))?,
        }
    }
    Ok((id, texts.join("\n")))
}

/// `reasoningContent`: `reasoningText {text, signature?}` or `redactedContent` (base64).
fn reasoning(v: &Value, p: &str) -> Result<(), MockError> {
    let (kind, inner) = union(v, &["reasoningText", "redactedContent"], p)?;
    let ip = format!("{p}.{kind}");
    if kind == "redactedContent" {
        return base64(inner, &ip);
    }
    let obj = object(inner, &ip)?;
    only_keys(obj, &["text", "signature"], &ip)?;
    string(required(obj, "text", &ip)?, &format!("{ip}.text"))?;
    if let Some(s) = member(obj, "signature") {
        string(s, &format!("{ip}.signature"))?;
    }
    Ok(())
}

/// Rejects a `kind` block outside a `wanted` message.
fn only_in(role: Role, wanted: Role, kind: &str, p: &str) -> Result<(), MockError> {
    if role == wanted {
        return Ok(());
    }
    let (here, there) = if wanted == Role::User {
        ("assistant", "user")
    } else {
        ("user", "assistant")
    };
    Err(bad(format!(
        "The {kind} block at {p} isn't allowed in a {here} message. {kind} blocks can only be \
         used in {there} messages."
    )))
}

/// One `ContentBlock` of a `role` message at `p`.
fn parse_block(v: &Value, p: &str, role: Role) -> Result<Block, MockError> {
    let (kind, inner) = union(v, &BLOCKS, p)?;
    let ip = format!("{p}.{kind}");
    match kind {
        "text" => {
            let text = string(inner, &ip)?;
            if text.trim().is_empty() {
                return Err(bad(format!(
                    "The text field in the ContentBlock object at {p} is blank. Add text to the \
                     text field, and try again."
                )));
            }
            Ok(Block::Text(text.to_owned()))
        }
        "image" => image(inner, &ip).map(|()| Block::Other),
        "document" => document(inner, &ip).map(|()| Block::Other),
        "toolUse" => {
            only_in(role, Role::Assistant, kind, p)?;
            tool_use(inner, &ip).map(Block::ToolUse)
        }
        "toolResult" => {
            only_in(role, Role::User, kind, p)?;
            tool_result(inner, &ip).map(|(id, text)| Block::ToolResult(id, text))
        }
        "reasoningContent" => {
            only_in(role, Role::Assistant, kind, p)?;
            reasoning(inner, &ip).map(|()| Block::Other)
        }
        "cachePoint" => cache_point(inner, &ip).map(|()| Block::CachePoint),
        _ => guard_content(inner, &ip).map(|()| Block::Other),
    }
}

/// Checks the tool results of user message `i` against the `pending` toolUse ids of the previous
/// assistant message.
fn check_results(i: usize, blocks: &[Block], pending: &[String]) -> Result<(), MockError> {
    let results: Vec<&String> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::ToolResult(id, _) => Some(id),
            _ => None,
        })
        .collect();
    if results.len() > pending.len() {
        return Err(bad(format!(
            "The number of toolResult blocks at messages.{i}.content exceeds the number of \
             toolUse blocks of previous turn."
        )));
    }
    let missing: Vec<&str> = pending
        .iter()
        .filter(|id| !results.contains(id))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(bad(format!(
            "Expected toolResult blocks at messages.{i}.content for the following Ids: {}",
            missing.join(", ")
        )))
    }
}

/// Neutral messages for one validated message: tool results become `Tool` messages, the text one
/// `User`/`Assistant` message (a user turn of tool results only adds no `User` message).
fn to_neutral(role: Role, blocks: Vec<Block>, out: &mut Vec<Message>) {
    let mut texts = Vec::new();
    let mut results = false;
    for b in blocks {
        match b {
            Block::ToolResult(_, text) => {
                results = true;
                out.push(Message {
                    role: Role::Tool,
                    text,
                });
            }
            Block::Text(t) => texts.push(t),
            Block::ToolUse(_) | Block::CachePoint | Block::Other => {}
        }
    }
    if role == Role::Assistant || !texts.is_empty() || !results {
        out.push(Message {
            role,
            text: texts.join("\n"),
        });
    }
}

/// The `role` of message `i`: `user` or `assistant`.
fn role_of(msg: &serde_json::Map<String, Value>, i: usize) -> Result<Role, MockError> {
    let p = format!("messages.{i}");
    match string(required(msg, "role", &p)?, &format!("{p}.role"))? {
        "user" => Ok(Role::User),
        "assistant" => Ok(Role::Assistant),
        other => Err(constraint(
            other,
            &format!("messages.{i}.member.role"),
            "satisfy enum value set: [user, assistant]",
        )),
    }
}

/// Validates `messages` (given `toolConfig` or not) and translates them.
pub(super) fn parse_messages(v: &Value, tool_config: bool) -> Result<Parsed, MockError> {
    let list = array(v, "messages")?;
    if list.is_empty() {
        return Err(constraint(
            "[]",
            "messages",
            "have length greater than or equal to 1",
        ));
    }
    let mut out = Vec::new();
    let mut cache_points = false;
    let mut pending: Vec<String> = Vec::new();
    let mut prev: Option<Role> = None;
    for (i, msg) in list.iter().enumerate() {
        let p = format!("messages.{i}");
        let obj = object(msg, &p)?;
        only_keys(obj, &["role", "content"], &p)?;
        let role = role_of(obj, i)?;
        if prev.is_none() && role != Role::User {
            return Err(bad(
                "A conversation must start with a user message. Try again with a conversation \
                 that starts with a user message.",
            ));
        }
        if prev == Some(role) {
            return Err(bad(
                "A conversation must alternate between user and assistant roles. Make sure the \
                 conversation alternates between user and assistant roles and try again.",
            ));
        }
        prev = Some(role);
        let content = array(required(obj, "content", &p)?, &format!("{p}.content"))?;
        if content.is_empty() {
            return Err(bad(format!(
                "The content field in the Message object at {p} is empty. Add a ContentBlock \
                 object to the content field and try again."
            )));
        }
        let blocks = content
            .iter()
            .enumerate()
            .map(|(j, b)| parse_block(b, &format!("{p}.content.{j}"), role))
            .collect::<Result<Vec<_>, _>>()?;
        let uses_tools = blocks
            .iter()
            .any(|b| matches!(b, Block::ToolUse(_) | Block::ToolResult(..)));
        if uses_tools && !tool_config {
            return Err(bad(
                "The toolConfig field must be defined when using toolUse and toolResult content \
                 blocks.",
            ));
        }
        cache_points |= blocks.iter().any(|b| matches!(b, Block::CachePoint));
        if role == Role::User {
            check_results(i, &blocks, &pending)?;
            pending.clear();
        } else {
            pending = blocks
                .iter()
                .filter_map(|b| match b {
                    Block::ToolUse(id) => Some(id.clone()),
                    _ => None,
                })
                .collect();
        }
        to_neutral(role, blocks, &mut out);
    }
    Ok(Parsed {
        messages: out,
        cache_points,
    })
}
