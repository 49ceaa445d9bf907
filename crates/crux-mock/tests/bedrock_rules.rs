//! Integration tests: what the Bedrock Converse wire rejects, with the real service's wording
//! (400 `ValidationException`), and what it must keep accepting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use crux_mock::MockServer;
use serde_json::{Value, json};
use support::aws::{converse, converse_user, error_type};
use support::{assert_mentions, body_json};

/// Sends `body` and asserts a 400 `ValidationException` whose message names `needle`.
async fn rejects(server: &MockServer, body: &Value, needle: &str) {
    let resp = converse(server, body, &[]).await;
    assert_eq!(resp.status(), 400, "{body}");
    assert_eq!(error_type(&resp), "ValidationException");
    let v = body_json(resp).await;
    assert_mentions(v["message"].as_str().unwrap(), needle);
}

async fn accepts(server: &MockServer, body: &Value) -> Value {
    let resp = converse(server, body, &[]).await;
    let status = resp.status();
    let v = body_json(resp).await;
    assert_eq!(status, 200, "{body} → {v}");
    v
}

fn tool_config() -> Value {
    json!({"tools": [{"toolSpec": {"name": "lookup",
        "inputSchema": {"json": {"type": "object", "properties": {"q": {"type": "string"}}}}}}]})
}

#[tokio::test]
async fn rejects_foreign_top_level_and_block_keys() {
    let server = MockServer::start().await.unwrap();
    for key in ["model", "stream", "max_tokens", "temperature", "tools"] {
        let mut body = converse_user("hi");
        body[key] = json!(1);
        rejects(
            &server,
            &body,
            &format!(
                "Malformed input request: #: extraneous key [{key}] is not permitted, please \
                 reformat your input and try again."
            ),
        )
        .await;
    }
    let anthropic_block = json!({"messages": [{"role": "user",
        "content": [{"type": "text", "text": "hi"}]}]});
    rejects(
        &server,
        &anthropic_block,
        "#/messages/0/content/0: extraneous key [type]",
    )
    .await;
    let string_content = json!({"messages": [{"role": "user", "content": "hi"}]});
    rejects(
        &server,
        &string_content,
        "expected type: JSONArray, found: String",
    )
    .await;
    let two_keys = json!({"messages": [{"role": "user",
        "content": [{"text": "hi", "cachePoint": {"type": "default"}}]}]});
    rejects(&server, &two_keys, "expected exactly one key").await;
    rejects(&server, &json!({}), "required key [messages] not found").await;
    rejects(&server, &json!({"messages": []}), "at 'messages'").await;
}

#[tokio::test]
async fn enforces_roles_alternation_and_blank_text() {
    let server = MockServer::start().await.unwrap();
    let user = |t: &str| json!({"role": "user", "content": [{"text": t}]});
    let assistant = |t: &str| json!({"role": "assistant", "content": [{"text": t}]});
    rejects(
        &server,
        &json!({"messages": [assistant("x"), user("y")]}),
        "A conversation must start with a user message.",
    )
    .await;
    rejects(
        &server,
        &json!({"messages": [user("x"), user("y")]}),
        "A conversation must alternate between user and assistant roles.",
    )
    .await;
    rejects(
        &server,
        &json!({"messages": [{"role": "system", "content": [{"text": "x"}]}]}),
        "Member must satisfy enum value set: [user, assistant]",
    )
    .await;
    rejects(
        &server,
        &converse_user("   "),
        "The text field in the ContentBlock object at messages.0.content.0 is blank. Add text to \
         the text field, and try again.",
    )
    .await;
    rejects(
        &server,
        &json!({"messages": [{"role": "user", "content": []}]}),
        "The content field in the Message object at messages.0 is empty.",
    )
    .await;
    // A final assistant message is a prefill, not an error.
    let v = accepts(
        &server,
        &json!({"messages": [user("x"), assistant("The answer is")]}),
    )
    .await;
    assert_eq!(v["stopReason"], "end_turn");
}

#[tokio::test]
async fn checks_inference_config_and_system() {
    let server = MockServer::start().await.unwrap();
    let with = |config: Value| {
        let mut b = converse_user("one two three four");
        b["inferenceConfig"] = config;
        b
    };
    rejects(
        &server,
        &with(json!({"max_tokens": 5})),
        "#/inferenceConfig: extraneous key [max_tokens]",
    )
    .await;
    rejects(
        &server,
        &with(json!({"maxTokens": 0})),
        "Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have \
         value greater than or equal to 1",
    )
    .await;
    rejects(
        &server,
        &with(json!({"temperature": 1.5})),
        "less than or equal to 1",
    )
    .await;
    rejects(
        &server,
        &with(json!({"topP": -0.1})),
        "greater than or equal to 0",
    )
    .await;
    rejects(
        &server,
        &with(json!({"stopSequences": ["a", "b", "c", "d", "e"]})),
        "length less than or equal to 4",
    )
    .await;
    rejects(
        &server,
        &with(json!({"maxTokens": "5"})),
        "expected type: Integer, found: String",
    )
    .await;
    let v = accepts(
        &server,
        &with(json!({"maxTokens": 3, "temperature": 0.2, "topP": 1, "stopSequences": ["x"]})),
    )
    .await;
    assert_eq!(v["stopReason"], "max_tokens");
    assert_eq!(
        v["output"]["message"]["content"][0]["text"],
        "Mock reply: one"
    );
    let mut b = converse_user("hi");
    b["system"] = json!("be terse");
    rejects(&server, &b, "#/system: expected type: JSONArray").await;
    b["system"] = json!([{"text": " "}]);
    rejects(
        &server,
        &b,
        "SystemContentBlock object at system.0 is blank",
    )
    .await;
    b["system"] = json!([{"text": "be terse"}, {"cachePoint": {"type": "default"}}]);
    b["additionalModelRequestFields"] = json!({"top_k": 5, "thinking": {"type": "enabled"}});
    b["performanceConfig"] = json!({"latency": "standard"});
    b["requestMetadata"] = json!({"tenant": "t1"});
    accepts(&server, &b).await;
    b["additionalModelRequestFields"] = json!([1]);
    rejects(
        &server,
        &b,
        "#/additionalModelRequestFields: expected type: JSONObject",
    )
    .await;
}

#[tokio::test]
async fn checks_tool_config_and_pairing() {
    let server = MockServer::start().await.unwrap();
    let use_block =
        json!({"toolUse": {"toolUseId": "tooluse_a", "name": "lookup", "input": {"q": "x"}}});
    let result =
        |id: &str| json!({"toolResult": {"toolUseId": id, "content": [{"text": "found"}]}});
    let turn = |results: Vec<Value>| {
        json!({"messages": [
            {"role": "user", "content": [{"text": "look it up"}]},
            {"role": "assistant", "content": [{"text": "Let me check."}, use_block.clone()]},
            {"role": "user", "content": results},
        ]})
    };
    rejects(
        &server,
        &turn(vec![result("tooluse_a")]),
        "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
    )
    .await;
    let with_tools = |mut b: Value| {
        b["toolConfig"] = tool_config();
        b
    };
    let v = accepts(&server, &with_tools(turn(vec![result("tooluse_a")]))).await;
    assert_eq!(
        v["output"]["message"]["content"][0]["text"],
        "Tool result received: found"
    );
    rejects(
        &server,
        &with_tools(turn(vec![result("tooluse_b")])),
        "Expected toolResult blocks at messages.2.content for the following Ids: tooluse_a",
    )
    .await;
    rejects(
        &server,
        &with_tools(turn(vec![json!({"text": "no result"})])),
        "Expected toolResult blocks at messages.2.content for the following Ids: tooluse_a",
    )
    .await;
    rejects(
        &server,
        &with_tools(turn(vec![result("tooluse_a"), result("tooluse_a")])),
        "exceeds the number of toolUse blocks of previous turn",
    )
    .await;
    let json_array =
        json!({"toolResult": {"toolUseId": "tooluse_a", "content": [{"json": [1, 2]}]}});
    rejects(
        &server,
        &with_tools(turn(vec![json_array])),
        "The format of the value at messages.2.content.0.toolResult.content.0.json is invalid.",
    )
    .await;
    let mut b = converse_user("hi");
    b["toolConfig"] = json!({"tools": []});
    rejects(&server, &b, "at 'toolConfig.tools'").await;
    b["toolConfig"] = json!({"tools": [{"toolSpec": {"name": "bad name",
        "inputSchema": {"json": {"type": "object"}}}}]});
    rejects(&server, &b, "^[a-zA-Z0-9_-]{1,64}$").await;
    b["toolConfig"] = json!({"tools": [{"type": "function", "function": {"name": "x"}}]});
    rejects(
        &server,
        &b,
        "#/toolConfig/tools/0: extraneous key [function]",
    )
    .await;
    let mut choice = tool_config();
    choice["toolChoice"] = json!({"none": {}});
    b["toolConfig"] = choice.clone();
    rejects(
        &server,
        &b,
        "#/toolConfig/toolChoice: extraneous key [none]",
    )
    .await;
    choice["toolChoice"] = json!({"tool": {"name": "other"}});
    b["toolConfig"] = choice.clone();
    rejects(
        &server,
        &b,
        "The tool other specified in toolConfig.toolChoice",
    )
    .await;
    choice["toolChoice"] = json!({"any": {}});
    b["toolConfig"] = choice;
    let v = accepts(&server, &b).await;
    assert_eq!(v["stopReason"], "tool_use");
}

#[tokio::test]
async fn checks_media_blocks() {
    let server = MockServer::start().await.unwrap();
    let with =
        |block: Value| json!({"messages": [{"role": "user", "content": [{"text": "see"}, block]}]});
    let png = json!({"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}});
    accepts(&server, &with(png)).await;
    let data_url =
        json!({"image": {"format": "png", "source": {"bytes": "data:image/png;base64,iVBO"}}});
    rejects(
        &server,
        &with(data_url),
        "#/messages/0/content/1/image/source/bytes",
    )
    .await;
    let bmp = json!({"image": {"format": "bmp", "source": {"bytes": "AAAA"}}});
    rejects(&server, &with(bmp), "bmp is not a valid enum value").await;
    let doc = |name: &str| json!({"document": {"format": "pdf", "name": name, "source": {"bytes": "JVBERi0="}}});
    accepts(&server, &with(doc("Quarterly report (2024)"))).await;
    rejects(
        &server,
        &with(doc("report.pdf")),
        "The document file name can only contain",
    )
    .await;
    let reasoning = json!({"messages": [
        {"role": "user", "content": [{"reasoningContent": {"reasoningText": {"text": "hm"}}}]}]});
    rejects(
        &server,
        &reasoning,
        "can only be used in assistant messages",
    )
    .await;
}
