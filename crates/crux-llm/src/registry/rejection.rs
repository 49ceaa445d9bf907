//! Which capability a provider's 4xx rejected, read from the error body of its wire. Structured fields first (OpenAI
//! `param` + `code`, Gemini `details[].fieldViolations[].field`); where a provider gives only prose the match is
//! anchored to its exact sentence and covered by a fixture below. The caller checks the request really used the
//! capability before recording it.

use serde_json::Value;

use crate::catalog::Capability;
use crate::error::Error;
use crate::providers::Wire;

/// The capability `err` says the model does not support, if it is such a rejection.
pub fn rejected_capability(err: &Error, wire: Wire) -> Option<Capability> {
    let u = err.upstream()?;
    if !matches!(u.status, 400 | 422) {
        return None;
    }
    classify(wire, u.body.as_deref()?)
}

/// Classify a 400/422 error body of `wire`.
pub fn classify(wire: Wire, body: &str) -> Option<Capability> {
    let v: Value = serde_json::from_str(body.trim()).ok()?;
    match wire {
        Wire::OpenAi | Wire::Responses => openai(v.get("error").unwrap_or(&v)),
        Wire::Gemini => gemini(v.get("error")?),
        Wire::Ollama => ollama(v.get("error")?.as_str()?),
        // Anthropic's errors carry only `type` (`invalid_request_error`) and English prose, and its models accept
        // tools, system prompts and streamed usage alike: nothing is classified rather than guessing at prose.
        Wire::Anthropic => None,
        // Bedrock's ValidationException prose differs per hosted model: nothing is guessed either.
        Wire::Bedrock => None,
    }
}

/// OpenAI: `{"error":{"param":"tools","code":"unsupported_parameter"}}`, `param: "messages[0].role"` with
/// `unsupported_value` (a model without a system role), `param: "messages.[0].content.[1].type"` (images on a text
/// model, whose `code` is null).
fn openai(err: &Value) -> Option<Capability> {
    let param = err.get("param")?.as_str()?.replace(".[", "[");
    let code = err.get("code").and_then(Value::as_str);
    let top = param.split(['[', '.']).next().unwrap_or_default();
    let unsupported = matches!(code, Some("unsupported_parameter" | "unsupported_value"));
    if top == "messages" {
        let in_content = param.contains("].content[");
        return if param.ends_with("].role") && code == Some("unsupported_value") {
            Some(Capability::SystemRole)
        } else if in_content && param.ends_with(".type") && (code.is_none() || unsupported) {
            Some(Capability::Vision)
        } else {
            None
        };
    }
    if !unsupported || (param != top && top != "text") {
        // Only a top-level parameter is a capability: `tools[0].function.name` is a malformed tool.
        return None;
    }
    match param.as_str() {
        "tools" | "tool_choice" | "functions" | "function_call" | "parallel_tool_calls" => {
            Some(Capability::Tools)
        }
        "response_format" | "text.format" => Some(Capability::JsonSchema),
        "stream_options" => Some(Capability::StreamUsage),
        _ => None,
    }
}

/// Gemini: a `google.rpc.BadRequest` detail naming the field, else the API's fixed sentences
/// (`Function calling is not enabled for models/...`, `Json mode is not enabled for models/...`,
/// `Developer instruction is not enabled for models/...`), which carry no structured field.
fn gemini(err: &Value) -> Option<Capability> {
    if err.get("status").and_then(Value::as_str) != Some("INVALID_ARGUMENT") {
        return None;
    }
    let fields = err
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("fieldViolations")?.as_array())
        .flatten()
        .filter_map(|f| f.get("field")?.as_str());
    for field in fields {
        let field = field.to_ascii_lowercase().replace('_', "");
        let cap = match field.split('.').next().unwrap_or_default() {
            "tools" | "toolconfig" => Some(Capability::Tools),
            "systeminstruction" => Some(Capability::SystemRole),
            "generationconfig"
                if field.contains("responsemimetype") || field.contains("responseschema") =>
            {
                Some(Capability::JsonSchema)
            }
            _ => None,
        };
        if cap.is_some() {
            return cap;
        }
    }
    let message = err.get("message")?.as_str()?;
    let (feature, rest) = message.split_once(" is not enabled for models/")?;
    (!rest.is_empty()).then_some(())?;
    match feature {
        "Function calling" => Some(Capability::Tools),
        "Json mode" => Some(Capability::JsonSchema),
        "Developer instruction" => Some(Capability::SystemRole),
        _ => None,
    }
}

/// Ollama answers `{"error":"<model> does not support tools"}` and nothing structured: the sentence's end is matched.
fn ollama(message: &str) -> Option<Capability> {
    message
        .trim()
        .ends_with(" does not support tools")
        .then_some(Capability::Tools)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openai_body(param: &str, code: Option<&str>) -> String {
        serde_json::json!({"error": {"message": "x", "type": "invalid_request_error", "param": param, "code": code}})
            .to_string()
    }

    #[test]
    fn openai_params_name_the_capability() {
        let cases = [
            (
                "tools",
                Some("unsupported_parameter"),
                Some(Capability::Tools),
            ),
            (
                "tool_choice",
                Some("unsupported_parameter"),
                Some(Capability::Tools),
            ),
            (
                "response_format",
                Some("unsupported_parameter"),
                Some(Capability::JsonSchema),
            ),
            (
                "response_format",
                Some("unsupported_value"),
                Some(Capability::JsonSchema),
            ),
            (
                "text.format",
                Some("unsupported_parameter"),
                Some(Capability::JsonSchema),
            ),
            (
                "stream_options",
                Some("unsupported_parameter"),
                Some(Capability::StreamUsage),
            ),
            (
                "messages[0].role",
                Some("unsupported_value"),
                Some(Capability::SystemRole),
            ),
            (
                "messages.[0].content.[1].type",
                None,
                Some(Capability::Vision),
            ),
            // Not capabilities: malformed values, schema errors, other parameters.
            ("tools[0].function.name", Some("invalid_value"), None),
            ("tools[0].function.name", Some("unsupported_value"), None),
            ("response_format", None, None),
            ("temperature", Some("unsupported_value"), None),
            ("messages[0].content", Some("invalid_type"), None),
            ("messages[0].role", Some("invalid_value"), None),
        ];
        for (param, code, want) in cases {
            assert_eq!(
                classify(Wire::OpenAi, &openai_body(param, code)),
                want,
                "{param} {code:?}"
            );
        }
        assert_eq!(classify(Wire::OpenAi, "<html>"), None);
        assert_eq!(classify(Wire::OpenAi, r#"{"error":{"message":"m"}}"#), None);
    }

    #[test]
    fn gemini_fields_and_fixed_sentences() {
        let sentence = |m: &str| {
            serde_json::json!({"error": {"code": 400, "message": m, "status": "INVALID_ARGUMENT"}})
                .to_string()
        };
        let cases = [
            (
                "Function calling is not enabled for models/gemini-1.0-pro-vision",
                Some(Capability::Tools),
            ),
            (
                "Json mode is not enabled for models/gemini-pro",
                Some(Capability::JsonSchema),
            ),
            (
                "Developer instruction is not enabled for models/gemma-3-27b-it",
                Some(Capability::SystemRole),
            ),
            ("Request contains an invalid argument.", None),
            ("Function calling is not enabled for models/", None),
        ];
        for (m, want) in cases {
            assert_eq!(classify(Wire::Gemini, &sentence(m)), want, "{m}");
        }
        let detail = serde_json::json!({"error": {"code": 400, "message": "Invalid JSON payload",
            "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "generation_config.response_mime_type", "description": "d"}]}]}});
        assert_eq!(
            classify(Wire::Gemini, &detail.to_string()),
            Some(Capability::JsonSchema)
        );
        let other = serde_json::json!({"error": {"code": 403, "message":
            "Function calling is not enabled for models/x", "status": "PERMISSION_DENIED"}});
        assert_eq!(classify(Wire::Gemini, &other.to_string()), None);
    }

    #[test]
    fn ollama_sentence_and_anthropic_prose() {
        let tools =
            r#"{"error":"registry.ollama.ai/library/gemma2:latest does not support tools"}"#;
        assert_eq!(classify(Wire::Ollama, tools), Some(Capability::Tools));
        assert_eq!(
            classify(Wire::Ollama, r#"{"error":"model \"x\" not found"}"#),
            None
        );
        let anthropic = r#"{"type":"error","error":{"type":"invalid_request_error","message":"tools: not supported"}}"#;
        assert_eq!(classify(Wire::Anthropic, anthropic), None);
    }
}
