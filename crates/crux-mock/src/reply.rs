//! Wire-neutral conversation model and deterministic reply generation.

use serde_json::{Value, json};

use crate::schema;

/// Role of a conversation message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// System / developer instructions.
    System,
    /// End-user turn.
    User,
    /// Model turn (text and/or tool calls).
    Assistant,
    /// Tool result.
    Tool,
}

/// A tool call made by the assistant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ToolCall {
    /// Call id.
    pub id: String,
    /// Function name.
    pub name: String,
    /// JSON-encoded arguments.
    pub arguments: String,
}

impl ToolCall {
    /// The arguments as a JSON object, for wires that send them decoded (Gemini `args`,
    /// Ollama `arguments`, Anthropic `input`); `{}` if they are not a JSON object.
    pub(crate) fn arguments_object(&self) -> Value {
        match serde_json::from_str::<Value>(&self.arguments) {
            Ok(v @ Value::Object(_)) => v,
            _ => json!({}),
        }
    }
}

/// One message of a conversation, reduced to what the mock needs.
#[derive(Clone, Debug)]
pub(crate) struct Message {
    /// Who spoke.
    pub role: Role,
    /// All text parts joined with `\n`.
    pub text: String,
}

/// A tool the model may call.
#[derive(Clone, Debug)]
pub(crate) struct ToolDef {
    /// Function name.
    pub name: String,
    /// JSON schema of the arguments.
    pub parameters: Value,
}

/// How the model may use tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ToolChoice {
    /// Model decides.
    Auto,
    /// Never call tools.
    None,
    /// Must call some tool.
    Required,
    /// Must call this tool.
    Named(String),
}

/// Requested output format.
#[derive(Clone, Debug)]
pub(crate) enum OutputFormat {
    /// Free text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching this schema.
    JsonSchema(Value),
}

/// A provider-independent chat request.
#[derive(Clone, Debug)]
pub(crate) struct Conversation {
    /// Messages in order.
    pub messages: Vec<Message>,
    /// Available tools.
    pub tools: Vec<ToolDef>,
    /// Tool policy.
    pub tool_choice: ToolChoice,
    /// Output format.
    pub format: OutputFormat,
    /// Output limit in (mock) tokens = words.
    pub max_tokens: Option<u64>,
}

impl Conversation {
    /// Text of the last `user` message (mutable, so directives can be stripped).
    pub(crate) fn last_user_text_mut(&mut self) -> Option<&mut String> {
        self.messages
            .iter_mut()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| &mut m.text)
    }

    /// Text of the last `user` message (empty if none).
    pub(crate) fn last_user_text(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map_or("", |m| m.text.as_str())
    }
}

/// What the model produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReplyContent {
    /// A text answer.
    Text(String),
    /// A single tool call.
    ToolCall(ToolCall),
}

/// Why generation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Finish {
    /// Natural end.
    Stop,
    /// Output limit reached.
    Length,
    /// The model called a tool.
    ToolCalls,
}

/// Token accounting (mock tokens are whitespace-separated words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Input tokens.
    pub prompt: u64,
    /// Output tokens.
    pub completion: u64,
}

impl Usage {
    /// Input plus output.
    pub(crate) fn total(self) -> u64 {
        self.prompt + self.completion
    }
}

/// A complete deterministic reply.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    /// The content.
    pub content: ReplyContent,
    /// Stop reason.
    pub finish: Finish,
    /// Usage.
    pub usage: Usage,
}

/// Number of whitespace-separated words.
pub(crate) fn word_count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Splits text into chunks of one word plus its following whitespace (leading whitespace goes
/// with the first chunk), so concatenating the chunks reproduces `text` exactly.
pub(crate) fn word_chunks(text: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut seen_word = false;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = true;
        } else {
            if in_space && seen_word {
                chunks.push(&text[start..i]);
                start = i;
            }
            in_space = false;
            seen_word = true;
        }
    }
    if start < text.len() {
        chunks.push(&text[start..]);
    }
    chunks
}

/// Splits a string into at least 3 fragments (empty fragments pad very short strings), each at
/// most 8 characters, on char boundaries.
pub(crate) fn fragments(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let size = chars.len().div_ceil(3).clamp(1, 8);
    let mut out: Vec<String> = chars.chunks(size).map(|c| c.iter().collect()).collect();
    while out.len() < 3 {
        out.push(String::new());
    }
    out
}

/// Keeps the first `n` words of `text` (and the whitespace between them).
fn truncate_words(text: &str, n: usize) -> String {
    let kept: String = word_chunks(text).into_iter().take(n).collect();
    if n == 0 {
        String::new()
    } else {
        kept.trim_end().to_owned()
    }
}

/// Marker in the last user message that turns on tool chaining: the mock calls the tools named in that message one
/// per turn, in the order they are first named, before it answers (see [`chained_tool`]).
pub(crate) const CHAIN_MARKER: &str = "[[chain]]";

/// With [`CHAIN_MARKER`] in the last user message (and `tool_choice` auto or required): the index of the next tool
/// to call — the `k`-th tool named in that message, `k` being the number of tool results since it — or `None` once
/// every named tool has answered (the mock then replies to the last result as usual).
fn chained_tool(conv: &Conversation) -> Option<usize> {
    if !matches!(conv.tool_choice, ToolChoice::Auto | ToolChoice::Required) {
        return None;
    }
    let user = conv.last_user_text();
    if !user.contains(CHAIN_MARKER) {
        return None;
    }
    let lower = user.to_lowercase();
    let mut named: Vec<(usize, usize)> = conv
        .tools
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.name.is_empty())
        .filter_map(|(i, t)| lower.find(&t.name.to_lowercase()).map(|pos| (pos, i)))
        .collect();
    named.sort_unstable();
    let since_user = conv.messages.iter().rposition(|m| m.role == Role::User)? + 1;
    let answered = conv.messages[since_user..]
        .iter()
        .filter(|m| m.role == Role::Tool)
        .count();
    named.get(answered).map(|&(_, i)| i)
}

fn wants_tool(conv: &Conversation, text: &str) -> Option<usize> {
    if conv.tools.is_empty() || conv.tool_choice == ToolChoice::None {
        return None;
    }
    let lower = text.to_lowercase();
    let by_text = conv
        .tools
        .iter()
        .position(|t| !t.name.is_empty() && lower.contains(&t.name.to_lowercase()));
    match &conv.tool_choice {
        ToolChoice::Named(name) => conv.tools.iter().position(|t| &t.name == name).or(Some(0)),
        ToolChoice::Required => Some(by_text.unwrap_or(0)),
        _ if by_text.is_some() => by_text,
        _ if lower.contains("tool") => Some(0),
        _ => None,
    }
}

fn format_text(format: &OutputFormat, plain: String, echo: &str) -> String {
    match format {
        OutputFormat::Text => plain,
        OutputFormat::JsonObject => json!({ "reply": echo }).to_string(),
        OutputFormat::JsonSchema(s) => schema::example(s).to_string(),
    }
}

/// Generates the deterministic reply to `conv`; `next_call_id` mints tool call ids.
pub(crate) fn generate(conv: &Conversation, next_call_id: impl FnOnce() -> String) -> Reply {
    let prompt = conv
        .messages
        .iter()
        .map(|m| word_count(&m.text) + 1)
        .sum::<u64>();
    if let Some(i) = chained_tool(conv) {
        return tool_call_reply(&conv.tools[i], prompt, next_call_id);
    }
    let last = conv.messages.last();
    if last.is_some_and(|m| m.role == Role::Tool) {
        let result = last.map_or("", |m| m.text.as_str());
        let text = format_text(
            &conv.format,
            format!("Tool result received: {result}"),
            result,
        );
        return text_reply(conv, text, prompt);
    }
    let user = conv.last_user_text();
    if let Some(i) = wants_tool(conv, user) {
        return tool_call_reply(&conv.tools[i], prompt, next_call_id);
    }
    let text = format_text(&conv.format, format!("Mock reply: {user}"), user);
    text_reply(conv, text, prompt)
}

fn tool_call_reply(tool: &ToolDef, prompt: u64, next_call_id: impl FnOnce() -> String) -> Reply {
    let arguments = schema::example(&tool.parameters).to_string();
    let completion = word_count(&arguments).max(1);
    Reply {
        content: ReplyContent::ToolCall(ToolCall {
            id: next_call_id(),
            name: tool.name.clone(),
            arguments,
        }),
        finish: Finish::ToolCalls,
        usage: Usage { prompt, completion },
    }
}

fn text_reply(conv: &Conversation, text: String, prompt: u64) -> Reply {
    let words = word_count(&text);
    let (text, finish) = match conv.max_tokens {
        Some(limit) if limit < words => (
            truncate_words(&text, usize::try_from(limit).unwrap_or(usize::MAX)),
            Finish::Length,
        ),
        _ => (text, Finish::Stop),
    };
    let completion = word_count(&text);
    Reply {
        content: ReplyContent::Text(text),
        finish,
        usage: Usage { prompt, completion },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn conv(messages: Vec<(Role, &str)>) -> Conversation {
        Conversation {
            messages: messages
                .into_iter()
                .map(|(role, t)| Message {
                    role,
                    text: t.to_owned(),
                })
                .collect(),
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
            format: OutputFormat::Text,
            max_tokens: None,
        }
    }

    #[test]
    fn chunks_reassemble() {
        for t in ["", " a", "a  b\n\nc ", "\t x y\r\n", "one"] {
            assert_eq!(word_chunks(t).concat(), t);
        }
        assert_eq!(word_chunks("a b  c"), vec!["a ", "b  ", "c"]);
    }

    #[test]
    fn fragments_at_least_three() {
        assert_eq!(fragments("{}").len(), 3);
        assert_eq!(fragments("{}").concat(), "{}");
        let long = "{\"city\":\"mock\",\"days\":42}";
        assert!(fragments(long).len() >= 3);
        assert_eq!(fragments(long).concat(), long);
    }

    #[test]
    fn echo_and_usage() {
        let r = generate(
            &conv(vec![
                (Role::System, "be terse"),
                (Role::User, "hi  there\n"),
            ]),
            || "call00001".into(),
        );
        assert_eq!(
            r.content,
            ReplyContent::Text("Mock reply: hi  there\n".into())
        );
        assert_eq!(
            r.usage,
            Usage {
                prompt: 6,
                completion: 4
            }
        );
        assert_eq!(r.finish, Finish::Stop);
    }

    #[test]
    fn length_truncates() {
        let mut c = conv(vec![(Role::User, "one two three four")]);
        c.max_tokens = Some(3);
        let r = generate(&c, String::new);
        assert_eq!(r.content, ReplyContent::Text("Mock reply: one".into()));
        assert_eq!(r.finish, Finish::Length);
    }

    #[test]
    fn chain_calls_named_tools_in_order_then_answers() {
        let tools = vec![
            ToolDef {
                name: "alpha".into(),
                parameters: json!({}),
            },
            ToolDef {
                name: "beta".into(),
                parameters: json!({}),
            },
        ];
        let user = "use beta, then alpha [[chain]]";
        let mut c = conv(vec![(Role::User, user)]);
        c.tools = tools;
        let called = |c: &Conversation| match generate(c, || "id".into()).content {
            ReplyContent::ToolCall(call) => Some(call.name),
            ReplyContent::Text(_) => None,
        };
        assert_eq!(called(&c).as_deref(), Some("beta"));
        c.messages.push(Message {
            role: Role::Assistant,
            text: String::new(),
        });
        c.messages.push(Message {
            role: Role::Tool,
            text: "b-result".into(),
        });
        assert_eq!(called(&c).as_deref(), Some("alpha"));
        c.messages.push(Message {
            role: Role::Assistant,
            text: String::new(),
        });
        c.messages.push(Message {
            role: Role::Tool,
            text: "a-result".into(),
        });
        assert_eq!(
            generate(&c, String::new).content,
            ReplyContent::Text("Tool result received: a-result".into())
        );
        // Without the marker a tool result is answered at once, as before.
        c.messages[0].text = "use beta, then alpha".into();
        c.messages.truncate(3);
        assert_eq!(called(&c), None);
    }

    #[test]
    fn tool_selection() {
        let mut c = conv(vec![(Role::User, "what is the WEATHER")]);
        c.tools = vec![
            ToolDef {
                name: "time".into(),
                parameters: json!({}),
            },
            ToolDef {
                name: "weather".into(),
                parameters: json!({"type":"object","properties":{"city":{"type":"string"}}}),
            },
        ];
        let r = generate(&c, || "call00001".into());
        let ReplyContent::ToolCall(call) = r.content else {
            panic!("no tool call")
        };
        assert_eq!(call.name, "weather");
        assert_eq!(call.arguments, r#"{"city":"mock"}"#);
        c.tool_choice = ToolChoice::None;
        assert!(matches!(
            generate(&c, String::new).content,
            ReplyContent::Text(_)
        ));
    }
}
