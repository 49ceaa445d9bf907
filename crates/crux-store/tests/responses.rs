//! Stored Responses API objects, with the same bodies on SQLite and PostgreSQL: put, get, replace, delete, and the
//! conversation a chained request continues.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::Ctx;
use crux_store::StoredResponse;
use serde_json::json;

store_tests!(responses_put_get_chain_and_delete);

async fn responses_put_get_chain_and_delete(ctx: Ctx) {
    let s = &ctx.store;
    assert_eq!(s.get_response("resp_1").await.unwrap(), None);
    let mut r = StoredResponse {
        id: "resp_1".into(),
        created_at: 1_741_476_542,
        model: "anthropic/claude-3-5-haiku-latest".into(),
        status: "completed".into(),
        virtual_key_id: Some("vk_1".into()),
        input: json!([{"type": "message", "role": "user", "content": "  hi «there»\n"}]),
        response: json!({"id": "resp_1", "object": "response", "instructions": "be terse",
            "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hello"}]},
                       {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}],
            "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}}),
    };
    s.put_response(&r).await.unwrap();
    let got = s.get_response("resp_1").await.unwrap().unwrap();
    assert_eq!(got, r);
    let conv = got.conversation();
    assert_eq!(conv.len(), 3);
    assert_eq!(
        conv[0]["content"], "  hi «there»\n",
        "text kept byte for byte"
    );
    assert_eq!(conv[2]["call_id"], "call_1");

    r.status = "incomplete".into();
    s.put_response(&r).await.unwrap();
    assert_eq!(
        s.get_response("resp_1").await.unwrap().unwrap().status,
        "incomplete"
    );

    r.id = "resp_2".into();
    r.virtual_key_id = None;
    s.put_response(&r).await.unwrap();
    assert!(s.delete_response("resp_1").await.unwrap());
    assert!(!s.delete_response("resp_1").await.unwrap());
    assert_eq!(s.get_response("resp_1").await.unwrap(), None);
    assert_eq!(
        s.get_response("resp_2")
            .await
            .unwrap()
            .unwrap()
            .virtual_key_id,
        None
    );
}
