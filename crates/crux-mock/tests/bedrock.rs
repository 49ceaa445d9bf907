//! Integration tests: the Bedrock Converse wire (SigV4 and API-key authentication, Converse JSON,
//! ConverseStream event-stream frames, tool calls, cache-read usage, scripted faults, recording).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use crux_mock::{AWS_SECRET_ACCESS_KEY, MockServer};
use serde_json::{Value, json};
use support::aws::{
    MODEL_PATH, Signing, amz_now, authorization, bedrock_action, converse, converse_stream,
    converse_user, error_type, post_raw, read_frames,
};
use support::body_json;

fn weather_tools() -> Value {
    json!({"tools": [{"toolSpec": {"name": "get_weather", "description": "Weather",
        "inputSchema": {"json": {"type": "object",
            "properties": {"city": {"type": "string"}}, "required": ["city"]}}}}]})
}

#[tokio::test]
async fn converse_answers_json_and_is_recorded() {
    let server = MockServer::start().await.unwrap();
    let resp = converse(&server, &converse_user("hello there"), &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert!(resp.headers().contains_key("x-amzn-requestid"));
    let v = body_json(resp).await;
    assert_eq!(
        v["output"],
        json!({"message": {"role": "assistant", "content": [{"text": "Mock reply: hello there"}]}})
    );
    assert_eq!(v["stopReason"], "end_turn");
    assert_eq!(
        v["usage"],
        json!({"inputTokens": 3, "outputTokens": 4, "totalTokens": 7})
    );
    assert!(v["metrics"]["latencyMs"].as_u64().unwrap() > 0);
    assert_eq!(server.reported_usage()[0].prompt, 3);
    let recorded = &server.requests()[0];
    assert_eq!(recorded.path, format!("/model/{MODEL_PATH}/converse"));
    assert_eq!(recorded.body, converse_user("hello there"));
    assert!(
        recorded
            .header("authorization")
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 ")
    );
}

#[tokio::test]
async fn stream_frames_decode_to_the_converse_stream_sequence() {
    let server = MockServer::start().await.unwrap();
    let mut body = converse_user("one two three");
    body["system"] = json!([{"text": "be brief"}]);
    let resp = converse_stream(&server, &body, &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.amazon.eventstream"
    );
    let (frames, error) = read_frames(resp).await;
    assert!(!error);
    let kinds: Vec<&str> = frames.iter().map(|f| f.kind()).collect();
    let words = "Mock reply: one two three".split(' ').count();
    let mut expected = vec!["messageStart"];
    expected.extend(std::iter::repeat_n("contentBlockDelta", words));
    expected.extend(["contentBlockStop", "messageStop", "metadata"]);
    assert_eq!(kinds, expected);
    for f in &frames {
        assert_eq!(f.header(":message-type"), Some("event"));
        assert_eq!(f.header(":content-type"), Some("application/json"));
        assert!(f.json()["p"].as_str().is_some_and(|p| p.starts_with('a')));
    }
    let pads: std::collections::HashSet<usize> = frames
        .iter()
        .map(|f| f.json()["p"].as_str().unwrap().len())
        .collect();
    assert!(pads.len() > 1, "padding varies");
    assert_eq!(frames[0].json()["role"], "assistant");
    let text: String = frames[1..=words]
        .iter()
        .map(|f| {
            assert_eq!(f.json()["contentBlockIndex"], 0);
            f.json()["delta"]["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(text, "Mock reply: one two three");
    assert_eq!(frames[words + 2].json()["stopReason"], "end_turn");
    let meta = frames.last().unwrap().json();
    assert_eq!(
        meta["usage"],
        json!({"inputTokens": 7, "outputTokens": 5, "totalTokens": 12})
    );
    assert!(meta["metrics"]["latencyMs"].is_u64());
    assert!(server.wait_for_streams(1, Duration::from_secs(2)).await);
    let record = &server.streams()[0];
    assert!(record.completed);
    assert_eq!(record.chunks_sent, frames.len());
}

#[tokio::test]
async fn tool_calls_stream_and_answer_as_tool_use() {
    let server = MockServer::start().await.unwrap();
    let mut body = converse_user("call get_weather for Paris");
    body["toolConfig"] = weather_tools();
    let v = body_json(converse(&server, &body, &[]).await).await;
    assert_eq!(v["stopReason"], "tool_use");
    let call = &v["output"]["message"]["content"][0]["toolUse"];
    assert!(call["toolUseId"].as_str().unwrap().starts_with("tooluse_"));
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["input"], json!({"city": "mock"}));

    let (frames, _) = read_frames(converse_stream(&server, &body, &[]).await).await;
    let kinds: Vec<&str> = frames.iter().map(|f| f.kind()).collect();
    assert_eq!(kinds[..2], ["messageStart", "contentBlockStart"]);
    assert_eq!(
        kinds[kinds.len() - 3..],
        ["contentBlockStop", "messageStop", "metadata"]
    );
    let start = frames[1].json();
    assert_eq!(start["start"]["toolUse"]["name"], "get_weather");
    assert!(
        start["start"]["toolUse"]["toolUseId"]
            .as_str()
            .unwrap()
            .starts_with("tooluse_")
    );
    let input: String = frames[2..frames.len() - 3]
        .iter()
        .map(|f| {
            f.json()["delta"]["toolUse"]["input"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap(),
        json!({"city": "mock"})
    );
    assert_eq!(frames[frames.len() - 2].json()["stopReason"], "tool_use");

    // Answering the call: the result comes back as `Tool result received: …`.
    body["messages"] = json!([
        {"role": "user", "content": [{"text": "weather in Paris?"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tooluse_1",
            "name": "get_weather", "input": {"city": "Paris"}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "tooluse_1",
            "content": [{"json": {"temp": 21}}], "status": "success"}}]},
    ]);
    let v = body_json(converse(&server, &body, &[]).await).await;
    assert_eq!(
        v["output"]["message"]["content"][0]["text"],
        "Tool result received: {\"temp\":21}"
    );
}

#[tokio::test]
async fn forced_tool_choice_gives_schema_shaped_json_output() {
    let server = MockServer::start().await.unwrap();
    let mut body = converse_user("give me a person");
    body["toolConfig"] = json!({
        "tools": [{"toolSpec": {"name": "crux_json_output", "inputSchema": {"json": {
            "type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name", "age"]}}}}],
        "toolChoice": {"tool": {"name": "crux_json_output"}},
    });
    let v = body_json(converse(&server, &body, &[]).await).await;
    let call = &v["output"]["message"]["content"][0]["toolUse"];
    assert_eq!(call["name"], "crux_json_output");
    assert_eq!(call["input"], json!({"name": "mock", "age": 42}));
}

#[tokio::test]
async fn cache_read_is_reported_beside_input_tokens() {
    let server = MockServer::start().await.unwrap();
    let body = converse_user("cached prompt here [[mock cache_read=2]]");
    let v = body_json(converse(&server, &body, &[]).await).await;
    // Prompt: "cached prompt here " = 3 words + 1.
    assert_eq!(
        v["usage"],
        json!({"inputTokens": 2, "outputTokens": 5, "totalTokens": 9,
               "cacheReadInputTokens": 2, "cacheWriteInputTokens": 0})
    );
    assert_eq!(server.reported_usage()[0].prompt, 4);
    // A cachePoint alone reports the (zero) cache fields.
    let mut body = converse_user("hi");
    body["system"] = json!([{"text": "sys"}, {"cachePoint": {"type": "default"}}]);
    let v = body_json(converse(&server, &body, &[]).await).await;
    assert_eq!(v["usage"]["cacheReadInputTokens"], 0);
}

#[tokio::test]
async fn scripted_faults_render_bedrock_errors() {
    let server = MockServer::start().await.unwrap();
    let cases = [
        (400, "ValidationException"),
        (401, "UnrecognizedClientException"),
        (403, "AccessDeniedException"),
        (404, "ResourceNotFoundException"),
        (408, "ModelTimeoutException"),
        (424, "ModelErrorException"),
        (429, "ThrottlingException"),
        (500, "InternalServerException"),
        (503, "ServiceUnavailableException"),
        (502, "InternalServerException"),
    ];
    for (status, name) in cases {
        let spec = format!("status={status}");
        let resp = converse(&server, &converse_user("hi"), &[("x-mock-fault", &spec)]).await;
        assert_eq!(resp.status().as_u16(), status);
        assert_eq!(error_type(&resp), name, "status {status}");
        let v = body_json(resp).await;
        assert!(v["message"].as_str().unwrap().contains(&status.to_string()));
    }
    let resp = converse_stream(
        &server,
        &converse_user("hi [[mock status=429 retry_after=2]]"),
        &[],
    )
    .await;
    assert_eq!(resp.status(), 429);
    assert_eq!(error_type(&resp), "ThrottlingException");
    assert_eq!(resp.headers()["retry-after"], "2");
    assert!(
        resp.headers()["x-amzn-errortype"]
            .to_str()
            .unwrap()
            .ends_with("/com.amazon.bedrock/")
    );
    assert!(body_json(resp).await["message"].is_string());
}

#[tokio::test]
async fn stream_faults_send_broken_and_exception_frames() {
    let server = MockServer::start().await.unwrap();
    let resp = converse_stream(&server, &converse_user("a b c [[mock mid_error]]"), &[]).await;
    let (frames, _) = read_frames(resp).await;
    let last = frames.last().unwrap();
    assert_eq!(frames.len(), 3);
    assert_eq!(last.header(":message-type"), Some("exception"));
    assert_eq!(
        last.header(":exception-type"),
        Some("modelStreamErrorException")
    );
    assert_eq!(last.json()["message"], "mock mid-stream failure");
    assert_eq!(last.json()["originalStatusCode"], 500);

    let resp = converse_stream(&server, &converse_user("a b c [[mock invalid_json]]"), &[]).await;
    let (frames, _) = read_frames(resp).await;
    assert_eq!(frames[2].kind(), "contentBlockDelta");
    assert!(serde_json::from_slice::<Value>(&frames[2].payload).is_err());
    assert_eq!(frames.last().unwrap().kind(), "metadata");

    let resp = converse_stream(&server, &converse_user("a b c d [[mock cut_after=2]]"), &[]).await;
    let (frames, error) = read_frames(resp).await;
    assert!(error);
    assert_eq!(frames.len(), 3);
}

#[tokio::test]
async fn authentication_comes_first() {
    let server = MockServer::start().await.unwrap();
    let path = format!("/model/{MODEL_PATH}/converse");
    let body = converse_user("hi").to_string().into_bytes();
    // Even an invalid body is refused for its credentials first.
    let resp = post_raw(&server, &path, b"not json".to_vec(), &[]).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(error_type(&resp), "MissingAuthenticationTokenException");
    assert!(
        resp.headers()["x-amzn-errortype"]
            .to_str()
            .unwrap()
            .ends_with("/com.amazon.coral.service/")
    );
    assert_eq!(
        body_json(resp).await["message"],
        "Missing Authentication Token"
    );

    let host = server.addr().to_string();
    let date = amz_now();
    let sign = |secret: &str, access_key: &str, service: &str, signed_body: &[u8]| {
        authorization(&Signing {
            path: &path,
            headers: &[("content-type", "application/json")],
            body: signed_body,
            secret,
            access_key,
            service,
            amz_date: &date,
            host: &host,
        })
    };
    let attempt = |auth: String, sent: Vec<u8>| {
        let (server, path, date) = (&server, &path, &date);
        async move {
            post_raw(
                server,
                path,
                sent,
                &[("x-amz-date", date), ("authorization", &auth)],
            )
            .await
        }
    };
    let ok = attempt(
        sign(AWS_SECRET_ACCESS_KEY, "AKID", "bedrock", &body),
        body.clone(),
    )
    .await;
    assert_eq!(ok.status(), 200);
    let cases = [
        (
            sign("wrong", "AKID", "bedrock", &body),
            body.clone(),
            "InvalidSignatureException",
        ),
        (
            sign(AWS_SECRET_ACCESS_KEY, "AKID", "bedrock", b"{}"),
            body.clone(),
            "InvalidSignatureException",
        ),
        (
            sign(AWS_SECRET_ACCESS_KEY, "bad-key", "bedrock", &body),
            body.clone(),
            "UnrecognizedClientException",
        ),
        (
            sign(AWS_SECRET_ACCESS_KEY, "AKID", "execute-api", &body),
            body.clone(),
            "InvalidSignatureException",
        ),
    ];
    for (auth, sent, name) in cases {
        let resp = attempt(auth, sent).await;
        assert_eq!(resp.status(), 403);
        assert_eq!(error_type(&resp), name);
        let message = body_json(resp).await["message"]
            .as_str()
            .unwrap()
            .to_owned();
        if name == "InvalidSignatureException" {
            assert!(
                message.starts_with("The request signature we calculated does not match")
                    || message.contains("correct service: 'bedrock'"),
                "{message}"
            );
        }
    }
    // Bedrock API keys.
    let bearer = |token: &'static str| {
        let (server, path, body) = (&server, &path, body.clone());
        async move { post_raw(server, path, body, &[("authorization", token)]).await }
    };
    assert_eq!(bearer("Bearer ABSKbW9jay1rZXk=").await.status(), 200);
    let resp = bearer("Bearer bad-key").await;
    assert_eq!(resp.status(), 403);
    assert_eq!(error_type(&resp), "UnrecognizedClientException");
}

#[tokio::test]
async fn model_ids_are_decoded_and_missing_ones_are_404() {
    let server = MockServer::start().await.unwrap();
    let resp = bedrock_action(
        &server,
        "us.missing-model-v1%3A0",
        "converse",
        &converse_user("hi"),
        &[],
    )
    .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(error_type(&resp), "ResourceNotFoundException");
    let resp = bedrock_action(
        &server,
        "mock-no-tools-v1%3A0",
        "converse",
        &{
            let mut b = converse_user("weather?");
            b["toolConfig"] = weather_tools();
            b
        },
        &[],
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(error_type(&resp), "ValidationException");
    assert_eq!(
        body_json(resp).await["message"],
        "This model doesn't support tool use."
    );
}
