//! Anthropic Messages wire: validation of `messages` (roles, ordering, content blocks, tool
//! use/result pairing, thinking signatures) and translation into neutral [`Message`]s.

use serde_json::Value;

use crate::errors::MockError;
use crate::reply::{Message, Role};
use crate::signatures::Signatures;

fn bad(message: impl Into<String>) -> MockError {
    MockError::invalid(message, None)
}

/// One validated content block, reduced to what the mock needs.
#[derive(Debug)]
enum Block {
    /// Text (also counts as the message's text).
    Text(String),
    /// A tool call by the assistant.
    ToolUse(String),
    /// A tool result by the user: (tool_use_id, text).
    ToolResult(String, String),
    /// Anything else that is valid but carries no text (image, document, thinking, ...).
    Other,
}

/// Block types accepted without inspection (server tools, citations sources).
const PASSIVE_BLOCKS: [&str; 6] = [
    "document",
    "search_result",
    "server_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
];

fn str_field<'a>(block: &'a Value, key: &str, p: &str) -> Result<&'a str, MockError> {
    match block.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(bad(format!("{p}.{key}: Input should be a valid string"))),
        None => Err(bad(format!("{p}.{key}: Field required"))),
    }
}

fn check_image(block: &Value, p: &str) -> Result<(), MockError> {
    let Some(source) = block.get("source").filter(|s| s.is_object()) else {
        return Err(bad(format!("{p}.source: Field required")));
    };
    let sp = format!("{p}.source");
    match source.get("type").and_then(Value::as_str) {
        Some("base64") => {
            let media = str_field(source, "media_type", &sp)?;
            if !["image/jpeg", "image/png", "image/gif", "image/webp"].contains(&media) {
                return Err(bad(format!(
                    "{sp}.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or \
                     'image/webp'"
                )));
            }
            str_field(source, "data", &sp)?;
        }
        Some("url") => {
            str_field(source, "url", &sp)?;
        }
        Some("file") => {
            str_field(source, "file_id", &sp)?;
        }
        _ => {
            return Err(bad(format!(
                "{sp}: Input tag found using 'type' does not match any of the expected tags: \
                 'base64', 'url', 'file'"
            )));
        }
    }
    Ok(())
}

/// Text of a `tool_result.content`: a string or an array of `text`/`image` blocks.
fn tool_result_text(block: &Value, p: &str) -> Result<String, MockError> {
    match block.get("content") {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::new();
            for (k, part) in parts.iter().enumerate() {
                let pp = format!("{p}.content.{k}");
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => texts.push(str_field(part, "text", &pp)?.to_owned()),
                    Some("image") => check_image(part, &pp)?,
                    Some("document" | "search_result") => {}
                    _ => {
                        return Err(bad(format!(
                            "{pp}: Input tag found using 'type' does not match any of the \
                             expected tags: 'text', 'image', 'document', 'search_result'"
                        )));
                    }
                }
            }
            Ok(texts.join("\n"))
        }
        Some(_) => Err(bad(format!(
            "{p}.content: Input should be a valid string or a valid list"
        ))),
    }
}

fn only_in(role: Role, wanted: Role, kind: &str, p: &str) -> Result<(), MockError> {
    if role == wanted {
        return Ok(());
    }
    let who = if wanted == Role::User {
        "user"
    } else {
        "assistant"
    };
    Err(bad(format!(
        "{p}: `{kind}` blocks can only be used in `{who}` messages"
    )))
}

fn parse_block(
    block: &Value,
    p: &str,
    role: Role,
    signatures: &Signatures,
) -> Result<Block, MockError> {
    let Some(kind) = block.get("type").and_then(Value::as_str) else {
        return Err(bad(format!("{p}.type: Field required")));
    };
    match kind {
        "text" => {
            let text = str_field(block, "text", p)?;
            if text.is_empty() {
                return Err(bad("messages: text content blocks must be non-empty"));
            }
            Ok(Block::Text(text.to_owned()))
        }
        "image" => check_image(block, p).map(|()| Block::Other),
        "tool_use" => {
            only_in(role, Role::Assistant, kind, p)?;
            let id = str_field(block, "id", p)?;
            str_field(block, "name", p)?;
            if !block.get("input").is_some_and(Value::is_object) {
                return Err(bad(format!(
                    "{p}.input: Input should be a valid dictionary"
                )));
            }
            Ok(Block::ToolUse(id.to_owned()))
        }
        "tool_result" => {
            only_in(role, Role::User, kind, p)?;
            let id = str_field(block, "tool_use_id", p)?;
            if block.get("is_error").is_some_and(|e| !e.is_boolean()) {
                return Err(bad(format!(
                    "{p}.is_error: Input should be a valid boolean"
                )));
            }
            Ok(Block::ToolResult(
                id.to_owned(),
                tool_result_text(block, p)?,
            ))
        }
        "thinking" => {
            only_in(role, Role::Assistant, kind, p)?;
            str_field(block, "thinking", p)?;
            let signature = str_field(block, "signature", p)?;
            if !signatures.is_issued(signature) {
                return Err(bad(format!("{p}: Invalid `signature` in `thinking` block")));
            }
            Ok(Block::Other)
        }
        "redacted_thinking" => {
            only_in(role, Role::Assistant, kind, p)?;
            str_field(block, "data", p)?;
            Ok(Block::Other)
        }
        k if PASSIVE_BLOCKS.contains(&k) => Ok(Block::Other),
        other => Err(bad(format!(
            "{p}: Input tag '{other}' found using 'type' does not match any of the expected \
             tags: 'text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', \
             'redacted_thinking'"
        ))),
    }
}

/// The blocks of one message's `content` (a string is one text block).
fn blocks(
    content: Option<&Value>,
    p: &str,
    role: Role,
    signatures: &Signatures,
) -> Result<Vec<Block>, MockError> {
    match content {
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![Block::Text(s.clone())]),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(j, b)| parse_block(b, &format!("{p}.content.{j}"), role, signatures))
            .collect(),
        Some(_) => Err(bad(format!(
            "{p}.content: Input should be a valid string or a valid list"
        ))),
        None => Err(bad(format!("{p}.content: Field required"))),
    }
}

fn role_of(msg: &Value, p: &str) -> Result<Role, MockError> {
    match msg.get("role").and_then(Value::as_str) {
        Some("user") => Ok(Role::User),
        Some("assistant") => Ok(Role::Assistant),
        Some(other) => Err(bad(format!(
            "{p}.role: Input should be 'user' or 'assistant' (got '{other}'; system prompts go \
             in the top-level `system` parameter)"
        ))),
        None => Err(bad(format!("{p}.role: Field required"))),
    }
}

fn role_name(role: Role) -> &'static str {
    if role == Role::User {
        "user"
    } else {
        "assistant"
    }
}

fn unanswered(i: usize, ids: &[String]) -> MockError {
    bad(format!(
        "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: \
         {}. Each `tool_use` block must have a corresponding `tool_result` block in the next \
         message.",
        ids.join(", ")
    ))
}

/// Checks a user message's tool results against the previous assistant's `tool_use` ids.
fn check_results(i: usize, blocks: &[Block], pending: &[String]) -> Result<(), MockError> {
    for (j, b) in blocks.iter().enumerate() {
        if let Block::ToolResult(id, _) = b
            && !pending.contains(id)
        {
            return Err(bad(format!(
                "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` \
                 blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` \
                 block in the previous message."
            )));
        }
    }
    let leading: Vec<&String> = blocks
        .iter()
        .map_while(|b| match b {
            Block::ToolResult(id, _) => Some(id),
            _ => None,
        })
        .collect();
    let missing: Vec<String> = pending
        .iter()
        .filter(|id| !leading.contains(id))
        .cloned()
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(unanswered(i.saturating_sub(1), &missing))
    }
}

/// Neutral messages for one validated message: tool results become `Tool` messages, the rest
/// of the text one `User`/`Assistant` message.
fn to_neutral(role: Role, blocks: Vec<Block>, string_content: bool, out: &mut Vec<Message>) {
    let mut texts = Vec::new();
    let mut has_other = string_content;
    for b in blocks {
        match b {
            Block::ToolResult(_, text) => out.push(Message {
                role: Role::Tool,
                text,
            }),
            Block::Text(t) => {
                texts.push(t);
                has_other = true;
            }
            Block::ToolUse(_) | Block::Other => has_other = true,
        }
    }
    if role == Role::Assistant || has_other {
        out.push(Message {
            role,
            text: texts.join("\n"),
        });
    }
}

/// Validates `messages` and translates them into neutral messages.
pub(crate) fn parse_messages(
    value: Option<&Value>,
    signatures: &Signatures,
    mid_conversation_system: bool,
) -> Result<Vec<Message>, MockError> {
    let list = match value {
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(Value::Array(_)) => return Err(bad("messages: at least one message is required")),
        Some(_) => return Err(bad("messages: Input should be a valid list")),
        None => return Err(bad("messages: Field required")),
    };
    let mut out = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let mut prev: Option<Role> = None;
    for (i, msg) in list.iter().enumerate() {
        let p = format!("messages.{i}");
        // Under the `mid-conversation-system-*` beta a `system` item may stand between turns; it does not take
        // part in the user/assistant alternation.
        if mid_conversation_system && msg.get("role").and_then(Value::as_str) == Some("system") {
            let text = match msg.get("content") {
                Some(Value::String(t)) => t.clone(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => return Err(bad(format!("{p}.content: Field required"))),
            };
            out.push(Message {
                role: Role::System,
                text,
            });
            continue;
        }
        let role = role_of(msg, &p)?;
        if prev.is_none() && role != Role::User {
            return Err(bad("messages.0: first message must use the \"user\" role"));
        }
        if prev == Some(role) {
            return Err(bad(format!(
                "messages: roles must alternate between \"user\" and \"assistant\", but found \
                 multiple \"{}\" roles in a row",
                role_name(role)
            )));
        }
        prev = Some(role);
        let last = i + 1 == list.len();
        let content = msg.get("content");
        let blocks = blocks(content, &p, role, signatures)?;
        if blocks.is_empty() && !(last && role == Role::Assistant) {
            return Err(bad(format!(
                "messages.{i}: all messages must have non-empty content except for the optional \
                 final assistant message"
            )));
        }
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
            if last
                && let Some(Block::Text(t)) = blocks.last()
                && t.ends_with(char::is_whitespace)
            {
                return Err(bad(
                    "messages: final assistant content cannot end with trailing whitespace",
                ));
            }
        }
        to_neutral(
            role,
            blocks,
            content.is_some_and(Value::is_string),
            &mut out,
        );
    }
    if !pending.is_empty() {
        return Err(unanswered(list.len() - 1, &pending));
    }
    Ok(out)
}
