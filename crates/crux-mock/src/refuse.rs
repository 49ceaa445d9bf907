//! Models that lack a capability and reject it the way the real APIs do, chosen by the model id: an id containing
//! the segment `no-tools`, `no-json`, `no-system` or `no-stream-usage` (e.g. `mock-no-tools`, `gpt-x-no-json`)
//! answers a request using that capability with the provider's own 400 — OpenAI's `invalid_request_error` with
//! `param` and `code: "unsupported_parameter"` / `"unsupported_value"`, Gemini's `INVALID_ARGUMENT` sentence
//! (`Function calling is not enabled for models/...`), Ollama's `"<model> does not support tools"`, Bedrock's
//! `ValidationException` `This model doesn't support tool use.` / `… system messages.`. Every request, not only the
//! first: a real model does not learn.

use crate::errors::MockError;
use crate::reply::{Conversation, OutputFormat, Role};

/// Whether `model` lacks the capability named by `segment` (`no-tools`, ...).
fn lacks(model: &str, segment: &str) -> bool {
    model == segment
        || model.starts_with(&format!("{segment}-"))
        || model.ends_with(&format!("-{segment}"))
        || model.contains(&format!("-{segment}-"))
}

fn index_of_system(conv: &Conversation) -> Option<usize> {
    conv.messages.iter().position(|m| m.role == Role::System)
}

fn openai_error(message: String, param: String, code: &'static str) -> MockError {
    MockError {
        code: Some(code),
        ..MockError::invalid(message, Some(&param))
    }
}

fn unsupported_parameter(param: &str) -> MockError {
    openai_error(
        format!("Unsupported parameter: '{param}' is not supported with this model."),
        param.to_owned(),
        "unsupported_parameter",
    )
}

/// The OpenAI Chat Completions rejection for `model`, if it lacks something the request uses.
pub(crate) fn openai(model: &str, conv: &Conversation, stream_options: bool) -> Option<MockError> {
    if lacks(model, "no-tools") && !conv.tools.is_empty() {
        return Some(unsupported_parameter("tools"));
    }
    if lacks(model, "no-json") && !matches!(conv.format, OutputFormat::Text) {
        return Some(unsupported_parameter("response_format"));
    }
    if lacks(model, "no-system")
        && let Some(i) = index_of_system(conv)
    {
        return Some(openai_error(
            format!(
                "Unsupported value: 'messages[{i}].role' does not support 'system' with this model."
            ),
            format!("messages[{i}].role"),
            "unsupported_value",
        ));
    }
    if lacks(model, "no-stream-usage") && stream_options {
        return Some(unsupported_parameter("stream_options"));
    }
    None
}

/// The Gemini rejection for `model`: `INVALID_ARGUMENT` with the API's fixed sentence.
pub(crate) fn gemini(model: &str, conv: &Conversation) -> Option<MockError> {
    let feature = if lacks(model, "no-tools") && !conv.tools.is_empty() {
        "Function calling"
    } else if lacks(model, "no-json") && !matches!(conv.format, OutputFormat::Text) {
        "Json mode"
    } else if lacks(model, "no-system") && index_of_system(conv).is_some() {
        "Developer instruction"
    } else {
        return None;
    };
    Some(MockError::invalid(
        format!("{feature} is not enabled for models/{model}"),
        None,
    ))
}

/// The Ollama rejection for `model`: tools only (the other features have no distinct error there).
pub(crate) fn ollama(model: &str, conv: &Conversation) -> Option<MockError> {
    (lacks(model, "no-tools") && !conv.tools.is_empty()).then(|| {
        MockError::invalid(
            format!("registry.ollama.ai/library/{model} does not support tools"),
            None,
        )
    })
}

/// The Bedrock Converse rejection for `model`: tools (JSON output travels as a tool there) and system prompts.
pub(crate) fn bedrock(model: &str, conv: &Conversation) -> Option<MockError> {
    let feature = if lacks(model, "no-tools") && !conv.tools.is_empty() {
        "tool use"
    } else if lacks(model, "no-system") && index_of_system(conv).is_some() {
        "system messages"
    } else {
        return None;
    };
    Some(MockError::invalid(
        format!("This model doesn't support {feature}."),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_match_whole_words() {
        assert!(lacks("mock-no-tools", "no-tools"));
        assert!(lacks("no-tools", "no-tools"));
        assert!(lacks("x-no-tools-no-json", "no-json"));
        assert!(!lacks("mock-no-toolset", "no-tools"));
        assert!(!lacks("mock-model", "no-tools"));
    }
}
