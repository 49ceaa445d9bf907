//! Unit tests of tool registration and invocation (the loop itself is tested against the mock in
//! `tests/tool_loop.rs`).

use serde_json::json;

use super::*;

fn schema() -> Value {
    json!({"type": "object", "properties": {"n": {"type": "integer"}}})
}

fn toolbox() -> Toolbox {
    let mut tb = Toolbox::new();
    tb.register("double", "Doubles n", schema(), |args: Value| async move {
        let n = args["n"].as_i64().ok_or("n must be an integer")?;
        Ok((n * 2).to_string())
    })
    .unwrap();
    tb
}

fn call(name: &str, args: &str) -> ToolCall {
    ToolCall::new("call_1", name, args)
}

#[test]
fn registration_rules() {
    let mut tb = toolbox();
    let dup = tb.register("double", "", schema(), |_| async { Ok(String::new()) });
    assert!(dup.unwrap_err().to_string().contains("already registered"));
    let bad = tb.register("has space", "", schema(), |_| async { Ok(String::new()) });
    assert!(bad.is_err());
    let not_object = tb.register("x", "", json!("string"), |_| async { Ok(String::new()) });
    assert!(not_object.is_err());
    tb.register("no_desc", "", schema(), |_| async { Ok("ok".to_owned()) })
        .unwrap();
    assert_eq!(tb.names(), vec!["double", "no_desc"]);
    assert_eq!(tb.len(), 2);
    let tools = tb.tools();
    assert_eq!(tools[0].description.as_deref(), Some("Doubles n"));
    assert_eq!(tools[1].description, None);
    assert!(format!("{tb:?}").contains("double"));
}

#[tokio::test]
async fn invoke_runs_the_handler() {
    let out = toolbox().invoke(&call("double", r#"{"n": 21}"#)).await;
    assert_eq!(
        out,
        ToolOutput {
            call_id: "call_1".into(),
            name: "double".into(),
            content: "42".into(),
            is_error: false,
        }
    );
    assert_eq!(out.message().tool_call_id.as_deref(), Some("call_1"));
    assert_eq!(out.message().text_content(), "42");
}

#[tokio::test]
async fn failures_become_error_results() {
    let tb = toolbox();
    let unknown = tb.invoke(&call("triple", "{}")).await;
    assert!(unknown.is_error);
    assert_eq!(
        unknown.content,
        "error: unknown tool 'triple' (available: double)"
    );
    let bad_json = tb.invoke(&call("double", "{n:")).await;
    assert!(
        bad_json.is_error
            && bad_json
                .content
                .starts_with("error: arguments are not valid JSON")
    );
    let handler_err = tb.invoke(&call("double", "")).await;
    assert_eq!(handler_err.content, "error: n must be an integer");
    assert!(handler_err.is_error);
}
