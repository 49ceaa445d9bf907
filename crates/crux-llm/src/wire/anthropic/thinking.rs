//! Anthropic's thinking settings (`thinking`, `output_config.effort`) → the core reasoning effort.

use serde_json::Value;

/// The reasoning effort other wires get for Anthropic's thinking settings: `output_config.effort` when given;
/// `adaptive` → medium; `enabled` by budget (< 4096 low, < 16384 medium, else high); `disabled` → none.
pub(crate) fn reasoning_effort(thinking: Option<&Value>, output: Option<&Value>) -> Option<String> {
    if let Some(effort) = output.and_then(|o| o.get("effort")).and_then(Value::as_str) {
        return Some(effort.to_owned());
    }
    let t = thinking?;
    match t.get("type").and_then(Value::as_str)? {
        "adaptive" => Some("medium".into()),
        "disabled" => None,
        "enabled" => {
            let budget = t.get("budget_tokens").and_then(Value::as_u64).unwrap_or(0);
            Some(
                match budget {
                    0..4096 => "low",
                    4096..16384 => "medium",
                    _ => "high",
                }
                .into(),
            )
        }
        _ => None,
    }
}
