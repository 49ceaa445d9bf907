//! `copy_store`: SQLite → SQLite, and the SQLite → PostgreSQL → SQLite round trip, verified by counts and checksums.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::sample_log;
use crux_llm::ProviderId;
use crux_store::{
    CopyOptions, ModelRecord, NewVirtualKey, Store, StoreError, VaultKey, copy_store, table_stats,
};
use secrecy::{ExposeSecret, SecretString};

async fn sqlite_store(dir: &tempfile::TempDir, name: &str) -> (Store, String) {
    let url = format!("sqlite://{}", dir.path().join(name).display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    (store, url)
}

/// Puts rows in every table, including NULLs, non-ASCII text, floats and booleans.
async fn seed(s: &Store, vault: &VaultKey) {
    s.set_provider_key(
        vault,
        ProviderId::OpenAi,
        &SecretString::from("sk-copy-test-1234".to_owned()),
    )
    .await
    .unwrap();
    let (vk, _) = s
        .create_virtual_key(&NewVirtualKey {
            name: "ci".into(),
            budget_usd: Some(1.25),
            rpm: Some(5),
            tpm: Some(5000),
            models: None,
        })
        .await
        .unwrap();
    s.add_virtual_key_spend(&vk.id, 0.1).await.unwrap();
    s.create_virtual_key(&NewVirtualKey {
        name: "old".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    s.revoke_virtual_key("old").await.unwrap();
    let mut logs: Vec<_> = (0..2_500).map(sample_log).collect();
    logs[7].request_text = Some("grüße 👋 — \"quoted\" \\ back".into());
    logs[8].request_text = None;
    logs[8].cost_usd = Some(0.1 + 0.2);
    s.insert_chat_logs(&logs).await.unwrap();
    s.merge_prefs(
        serde_json::json!({"a": 1, "b": {"c": [true, null]}})
            .as_object()
            .unwrap(),
    )
    .await
    .unwrap();
    let m = ModelRecord {
        id: "gpt-4o".into(),
        name: "GPT-4o".into(),
        family: None,
        context_length: Some(128_000),
        capabilities: Some(serde_json::json!({"vision": true})),
        updated_at: Some("2024-05-13".into()),
    };
    s.save_models_snapshot("openai", &[m], "api", None)
        .await
        .unwrap();
    s.record_observed_capability("openai", "gpt-4o", "json_output", true)
        .await
        .unwrap();
    s.record_observed_capability("openai", "gpt-4o", "tools", false)
        .await
        .unwrap();
    s.put_response(&crux_store::StoredResponse {
        id: "resp_copy".into(),
        created_at: 1_741_476_542,
        model: "openai/gpt-4o-mini".into(),
        status: "completed".into(),
        virtual_key_id: None,
        input: serde_json::json!([{"role": "user", "content": "hi «there»"}]),
        response: serde_json::json!({"id": "resp_copy", "output": []}),
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_sqlite_preserves_every_row_and_refuses_a_non_empty_destination() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = sqlite_store(&dir, "a.db").await;
    let vault = VaultKey::generate().unwrap();
    seed(&src, &vault).await;
    let dst = Store::connect(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .unwrap();
    let copied = copy_store(&src, &dst, CopyOptions::default())
        .await
        .unwrap();
    assert_eq!(copied, table_stats(&src).await.unwrap());
    assert_eq!(copied, table_stats(&dst).await.unwrap());
    assert_eq!(
        copied.iter().find(|t| t.table == "chat_logs").unwrap().rows,
        2_500
    );
    assert!(copied.iter().all(|t| t.rows > 0), "{copied:?}");
    assert_eq!(
        dst.provider_key(&vault, ProviderId::OpenAi)
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "sk-copy-test-1234"
    );

    let again = copy_store(&src, &dst, CopyOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again}");
    assert!(again.to_string().contains("--replace"));
    dst.insert_chat_logs(&[sample_log(9_999)]).await.unwrap();
    copy_store(&src, &dst, CopyOptions { replace: true })
        .await
        .unwrap();
    assert_eq!(table_stats(&dst).await.unwrap(), copied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_refuses_a_source_that_is_not_a_crux_store() {
    let dir = tempfile::tempdir().unwrap();
    let raw = Store::connect(&format!("sqlite://{}", dir.path().join("raw.db").display()))
        .await
        .unwrap();
    let (dst, _) = sqlite_store(&dir, "dst.db").await;
    let err = copy_store(&raw, &dst, CopyOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_postgres_sqlite_round_trip() {
    let Some((pg_url, admin_url, schema)) = common::pg_schema().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = sqlite_store(&dir, "src.db").await;
    let vault = VaultKey::generate().unwrap();
    seed(&src, &vault).await;
    let expected = table_stats(&src).await.unwrap();
    let pg = Store::connect(&pg_url).await.unwrap();
    let back_url = format!("sqlite://{}", dir.path().join("back.db").display());
    let pg2 = pg.clone();
    let result = async move {
        let pg = pg2;
        assert_eq!(
            copy_store(&src, &pg, CopyOptions::default()).await.unwrap(),
            expected
        );
        assert_eq!(table_stats(&pg).await.unwrap(), expected);
        let back = Store::connect(&back_url).await.unwrap();
        assert_eq!(
            copy_store(&pg, &back, CopyOptions::default())
                .await
                .unwrap(),
            expected
        );
        assert_eq!(table_stats(&back).await.unwrap(), expected);
        assert_eq!(
            back.provider_key(&vault, ProviderId::OpenAi)
                .await
                .unwrap()
                .unwrap()
                .expose_secret(),
            "sk-copy-test-1234"
        );
        // PostgreSQL's identity sequence follows the copied ids: new rows get fresh ids.
        let mut fresh = sample_log(1);
        fresh.ts_ms = crux_store::time::now_ms();
        pg.insert_chat_logs(&[fresh]).await.unwrap();
        assert_eq!(pg.count_chat_logs().await.unwrap(), 2_501);
        let newest = pg
            .query_chat_logs(&crux_store::LogFilter {
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(newest[0].id, 2_501);
        back.close().await;
    };
    let outcome = tokio::spawn(result).await;
    pg.close().await;
    common::drop_schema(&admin_url, &schema).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
