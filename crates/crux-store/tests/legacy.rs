//! `import_legacy` on both backends: schema A, schema B, the colliding file with both, idempotent re-runs, and
//! refusals that change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;

use common::Ctx;
use common::legacy_fixtures::{LegacySchema, write_legacy};
use crux_llm::ProviderId;
use crux_store::{
    ImportCounts, LogFilter, LogStatus, RedactConfig, Redactor, StoreError, VaultKey,
    import_legacy, table_stats,
};
use secrecy::{ExposeSecret, SecretString};

store_tests!(
    imports_schema_a,
    imports_schema_b_with_redaction,
    imports_the_colliding_file_and_is_idempotent,
    refuses_keys_without_a_vault_key_and_changes_nothing,
    refuses_a_wrong_vault_key_and_changes_nothing,
    refuses_files_that_are_not_legacy,
);

fn counts(found: u64, imported: u64) -> ImportCounts {
    ImportCounts {
        found,
        imported,
        skipped: found - imported,
    }
}

async fn legacy_file(schema: LegacySchema) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("providers.db");
    write_legacy(&path, schema).await;
    (dir, path)
}

async fn imports_schema_a(ctx: Ctx) {
    let s = &ctx.store;
    let (_dir, path) = legacy_file(LegacySchema::A).await;
    let vault = VaultKey::generate().unwrap();
    let r = import_legacy(s, &path, Some(&vault), None).await.unwrap();
    assert!(r.schema_a && !r.schema_b);
    assert_eq!(r.keys, counts(4, 2), "{:?}", r.notes);
    assert!(
        r.notes.iter().any(|n| n.contains("frobnicator"))
            && r.notes.iter().any(|n| n.contains("groq"))
    );
    assert_eq!(
        (r.prefs, r.metrics, r.models, r.model_meta, r.observed),
        (
            counts(3, 3),
            counts(3, 3),
            counts(3, 3),
            counts(1, 1),
            counts(2, 2)
        )
    );
    assert_eq!(
        s.provider_key(&vault, ProviderId::OpenAi)
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "sk-legacy-openai-AAAA1111"
    );
    assert_eq!(
        s.provider_key(&vault, ProviderId::Gemini)
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "AIzaLegacyGeminiKey0000"
    );
    let prefs = s.prefs().await.unwrap();
    assert_eq!(
        serde_json::Value::Object(prefs),
        serde_json::json!({"theme": "dark", "max_tokens": 512, "raw": "not json"})
    );
    let summary = s.metrics_summary(&LogFilter::default()).await.unwrap();
    assert_eq!((summary.total.count, summary.total.errors), (3, 1));
    let unknown = summary
        .by_provider
        .iter()
        .find(|g| g.provider.as_deref() == Some("unknown"))
        .unwrap();
    assert_eq!(unknown.count, 1);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("1 unreadable timestamps"))
    );
    let openai = s.load_models_snapshot("openai").await.unwrap().unwrap();
    let o1 = openai.models.iter().find(|m| m.id == "o1").unwrap();
    assert_eq!((o1.name.as_str(), o1.context_length), ("o1", Some(8000)));
    assert_eq!(
        o1.capabilities,
        Some(serde_json::json!({"raw_capabilities": [1, 2]}))
    );
    assert_eq!(
        openai.fetched_at.as_deref(),
        Some("2024-05-14T08:00:00.000Z")
    );
    assert_eq!(
        openai.metadata,
        Some(serde_json::json!({"source": "openai_sdk"}))
    );
    let haiku = s.load_models_snapshot("anthropic").await.unwrap().unwrap();
    assert_eq!(haiku.models[0].context_length, None, "0 becomes null");
    assert!(!s.load_observed_capabilities("openai").await.unwrap()["gpt-4o"]["tools"]);
}

async fn imports_schema_b_with_redaction(ctx: Ctx) {
    let s = &ctx.store;
    let (_dir, path) = legacy_file(LegacySchema::B).await;
    let vault = VaultKey::generate().unwrap();
    let redactor = Arc::new(Redactor::new(RedactConfig::default()).unwrap());
    let r = import_legacy(s, &path, Some(&vault), Some(&redactor))
        .await
        .unwrap();
    assert!(r.schema_b && !r.schema_a);
    assert_eq!(
        (r.keys, r.prefs, r.metrics, r.chat_logs),
        (counts(2, 2), counts(2, 2), counts(2, 2), counts(2, 2))
    );
    assert_eq!(
        s.provider_key(&vault, ProviderId::Anthropic)
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "sk-ant-legacy-BBBB2222"
    );
    let logs = s.query_chat_logs(&LogFilter::default()).await.unwrap();
    assert_eq!(logs.len(), 2);
    let err = &logs[0].log;
    assert_eq!(
        (
            err.status,
            err.error_code.as_deref(),
            err.response_text.as_deref()
        ),
        (LogStatus::Error, Some("rate_limit"), None)
    );
    let ok = &logs[1].log;
    assert_eq!(ok.request_text.as_deref(), Some("my mail is [EMAIL]"));
    assert_eq!(
        (ok.latency_ms, ok.usage.prompt, ok.usage.total, ok.ts_ms),
        (120, Some(10), Some(15), 1_714_564_800_000)
    );
    assert_eq!(ok.route, "legacy");
    let summary = s.metrics_summary(&LogFilter::default()).await.unwrap();
    assert_eq!(
        (
            summary.total.count,
            summary.total.errors,
            summary.total.p95_ms
        ),
        (2, 1, Some(900))
    );
    assert_eq!(s.prefs().await.unwrap()["stream"], "true");
}

async fn imports_the_colliding_file_and_is_idempotent(ctx: Ctx) {
    let s = &ctx.store;
    let (_dir, path) = legacy_file(LegacySchema::Both).await;
    let vault = VaultKey::generate().unwrap();
    let first = import_legacy(s, &path, Some(&vault), None).await.unwrap();
    assert!(first.schema_a && first.schema_b);
    // openai is in both key tables: the newer (schema B, 2030) wins.
    assert_eq!(first.keys, counts(6, 3), "{:?}", first.notes);
    assert_eq!(
        s.provider_key(&vault, ProviderId::OpenAi)
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "sk-legacy-openai-NEWER999"
    );
    assert_eq!(
        (first.metrics, first.chat_logs, first.models),
        (counts(2, 2), counts(2, 2), counts(3, 3))
    );
    let before = table_stats(s).await.unwrap();
    let second = import_legacy(s, &path, Some(&vault), None).await.unwrap();
    for c in [
        second.keys,
        second.prefs,
        second.metrics,
        second.chat_logs,
        second.models,
        second.model_meta,
        second.observed,
    ] {
        assert_eq!(c.imported, 0, "{second:?}");
    }
    assert_eq!(
        table_stats(s).await.unwrap(),
        before,
        "a second import changes nothing"
    );
}

async fn refuses_keys_without_a_vault_key_and_changes_nothing(ctx: Ctx) {
    let (_dir, path) = legacy_file(LegacySchema::A).await;
    let before = table_stats(&ctx.store).await.unwrap();
    let err = import_legacy(&ctx.store, &path, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NoVaultKey), "{err}");
    assert_eq!(table_stats(&ctx.store).await.unwrap(), before);
}

async fn refuses_a_wrong_vault_key_and_changes_nothing(ctx: Ctx) {
    let s = &ctx.store;
    let right = VaultKey::generate().unwrap();
    s.set_provider_key(
        &right,
        ProviderId::Mistral,
        &SecretString::from("mistral-key-1".to_owned()),
    )
    .await
    .unwrap();
    let before = table_stats(s).await.unwrap();
    let (_dir, path) = legacy_file(LegacySchema::Both).await;
    let wrong = VaultKey::generate().unwrap();
    let err = import_legacy(s, &path, Some(&wrong), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VaultMismatch), "{err}");
    assert_eq!(table_stats(s).await.unwrap(), before);
}

async fn refuses_files_that_are_not_legacy(ctx: Ctx) {
    let dir = tempfile::tempdir().unwrap();
    let missing = import_legacy(&ctx.store, &dir.path().join("nope.db"), None, None)
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::Invalid(_)), "{missing}");
    let text = dir.path().join("text.db");
    std::fs::write(&text, "hello, not sqlite").unwrap();
    let err = import_legacy(&ctx.store, &text, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let other = dir.path().join("other.db");
    let o = crux_store::Store::connect(&format!("sqlite://{}", other.display()))
        .await
        .unwrap();
    o.migrate().await.unwrap();
    o.close().await;
    let err = import_legacy(&ctx.store, &other, None, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is a crux store"), "{err}");
    let empty = dir.path().join("empty.db");
    write_legacy(&empty, LegacySchema::A).await;
    let conn = crux_store::Store::connect(&format!("sqlite://{}", empty.display()))
        .await
        .unwrap();
    if let crux_store::Store::Sqlite(pool) = &conn {
        for t in [
            "api_keys",
            "prefs",
            "metrics",
            "model_registry",
            "model_registry_meta",
            "observed_capabilities",
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE {t}")))
                .execute(pool)
                .await
                .unwrap();
        }
        sqlx::raw_sql("CREATE TABLE unrelated (x INTEGER)")
            .execute(pool)
            .await
            .unwrap();
    }
    conn.close().await;
    let err = import_legacy(&ctx.store, &empty, None, None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no tables of the original system"),
        "{err}"
    );
}
