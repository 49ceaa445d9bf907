//! Key tests, run with the same bodies on SQLite and PostgreSQL: provider keys in the vault (wrong vault key,
//! rotation, resolution order) and virtual keys.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::Ctx;
use crux_llm::ProviderId;
use crux_store::{KeySource, NewVirtualKey, StoreError, VaultKey, resolve_provider_key};
use secrecy::{ExposeSecret, SecretString};

store_tests!(
    provider_keys_and_wrong_vault_key,
    rotate_vault_key_re_encrypts_everything,
    key_resolution_env_then_vault,
    virtual_keys_lifecycle,
);

async fn provider_keys_and_wrong_vault_key(ctx: Ctx) {
    let s = &ctx.store;
    let vault = VaultKey::generate().unwrap();
    let key = SecretString::from("sk-proj-ABCDEFGHIJKLMNOP1234".to_owned());
    s.set_provider_key(&vault, ProviderId::OpenAi, &key)
        .await
        .unwrap();
    s.set_provider_key(
        &vault,
        ProviderId::Groq,
        &SecretString::from("gsk_x1".to_owned()),
    )
    .await
    .unwrap();
    let got = s
        .provider_key(&vault, ProviderId::OpenAi)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.expose_secret(), key.expose_secret());
    assert!(
        s.provider_key(&vault, ProviderId::Mistral)
            .await
            .unwrap()
            .is_none()
    );
    let listed: Vec<String> = s
        .list_provider_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.provider)
        .collect();
    assert_eq!(listed, ["groq", "openai"]);

    // A wrong vault key: a clear error, and nothing changes.
    let wrong = VaultKey::generate().unwrap();
    let err = s
        .set_provider_key(
            &wrong,
            ProviderId::Anthropic,
            &SecretString::from("sk-ant-zzzzzzzz".to_owned()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VaultMismatch), "{err}");
    assert_eq!(
        err.to_string(),
        "cannot decrypt stored keys: the vault key does not match"
    );
    assert!(matches!(
        s.decrypt_provider_keys(&wrong).await,
        Err(StoreError::VaultMismatch)
    ));
    assert_eq!(s.list_provider_keys().await.unwrap().len(), 2);
    assert_eq!(s.verify_vault_key(&vault).await.unwrap(), 2);

    // Replacing keeps one row; removing reports whether there was one.
    s.set_provider_key(
        &vault,
        ProviderId::OpenAi,
        &SecretString::from("sk-new-value-0000".to_owned()),
    )
    .await
    .unwrap();
    assert_eq!(
        s.provider_key(&vault, ProviderId::OpenAi)
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "sk-new-value-0000"
    );
    assert!(s.remove_provider_key(ProviderId::Groq).await.unwrap());
    assert!(!s.remove_provider_key(ProviderId::Groq).await.unwrap());
    let empty = s
        .set_provider_key(&vault, ProviderId::Xai, &SecretString::from(String::new()))
        .await;
    assert!(matches!(empty, Err(StoreError::Invalid(_))));
}

async fn rotate_vault_key_re_encrypts_everything(ctx: Ctx) {
    let s = &ctx.store;
    let old = VaultKey::generate().unwrap();
    for (p, v) in [
        (ProviderId::OpenAi, "sk-one-11111111"),
        (ProviderId::Anthropic, "sk-ant-2222222"),
        (ProviderId::Xai, "xai-33333333"),
    ] {
        s.set_provider_key(&old, p, &SecretString::from(v.to_owned()))
            .await
            .unwrap();
    }
    let new = VaultKey::generate().unwrap();
    let wrong = VaultKey::generate().unwrap();
    assert!(matches!(
        s.rotate_vault_key(&wrong, &new).await,
        Err(StoreError::VaultMismatch)
    ));
    assert_eq!(
        s.verify_vault_key(&old).await.unwrap(),
        3,
        "a failed rotation changes nothing"
    );
    assert_eq!(s.rotate_vault_key(&old, &new).await.unwrap(), 3);
    assert!(matches!(
        s.verify_vault_key(&old).await,
        Err(StoreError::VaultMismatch)
    ));
    let all = s.decrypt_provider_keys(&new).await.unwrap();
    let plain: Vec<(&str, &str)> = all
        .iter()
        .map(|(p, v)| (p.as_str(), v.expose_secret()))
        .collect();
    assert_eq!(
        plain,
        [
            ("anthropic", "sk-ant-2222222"),
            ("openai", "sk-one-11111111"),
            ("xai", "xai-33333333")
        ]
    );
}

async fn key_resolution_env_then_vault(ctx: Ctx) {
    let s = &ctx.store;
    let vault = VaultKey::generate().unwrap();
    s.set_provider_key(
        &vault,
        ProviderId::Gemini,
        &SecretString::from("vault-gemini-key".to_owned()),
    )
    .await
    .unwrap();
    let no_env = |_: &str| None;
    let r = resolve_provider_key(Some(s), Some(&vault), ProviderId::Gemini, no_env)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.value.expose_secret(), r.source),
        ("vault-gemini-key", KeySource::Vault)
    );
    let alias = |n: &str| (n == "GOOGLE_API_KEY").then(|| "env-google".to_owned());
    let r = resolve_provider_key(Some(s), Some(&vault), ProviderId::Gemini, alias)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.value.expose_secret(), r.source),
        ("env-google", KeySource::Env("GOOGLE_API_KEY"))
    );
    assert!(
        resolve_provider_key(Some(s), Some(&vault), ProviderId::Groq, no_env)
            .await
            .unwrap()
            .is_none()
    );
    let missing_vault = resolve_provider_key(Some(s), None, ProviderId::Gemini, no_env).await;
    assert!(matches!(missing_vault, Err(StoreError::NoVaultKey)));
}

async fn virtual_keys_lifecycle(ctx: Ctx) {
    let s = &ctx.store;
    let new = NewVirtualKey {
        name: "ci".into(),
        budget_usd: Some(5.0),
        rpm: Some(60),
        tpm: Some(90_000),
        models: Some(vec!["openai/gpt-4o-mini".into(), "smart".into()]),
    };
    let (key, secret) = s.create_virtual_key(&new).await.unwrap();
    assert!(secret.expose_secret().starts_with("crux-vk-"));
    assert!(secret.expose_secret().starts_with(&key.prefix));
    assert!(key.allows_model("smart") && !key.allows_model("openai/gpt-4o"));
    let dup = s.create_virtual_key(&new).await.unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup}");
    let cached = s.active_virtual_keys_by_hash().await.unwrap();
    assert_eq!(
        cached,
        vec![(crux_store::hash_key(secret.expose_secret()), key.clone())]
    );
    let found = s
        .find_virtual_key(secret.expose_secret())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, key);
    assert!(s.find_virtual_key("crux-vk-nope").await.unwrap().is_none());
    s.add_virtual_key_spend(&key.id, 2.5).await.unwrap();
    s.add_virtual_key_spend(&key.id, 2.5).await.unwrap();
    let listed = s.list_virtual_keys(false).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!((listed[0].spend_usd - 5.0).abs() < 1e-9 && listed[0].over_budget());
    let revoked = s.revoke_virtual_key("ci").await.unwrap();
    assert!(revoked.revoked && revoked.revoked_at.is_some());
    assert!(s.list_virtual_keys(false).await.unwrap().is_empty());
    assert_eq!(s.list_virtual_keys(true).await.unwrap().len(), 1);
    assert!(matches!(
        s.revoke_virtual_key("ci").await,
        Err(StoreError::NotFound(_))
    ));
    // The name is free again once revoked; a key can also be revoked by id.
    let (again, _) = s
        .create_virtual_key(&NewVirtualKey {
            name: "ci".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(s.revoke_virtual_key(&again.id).await.unwrap().id, again.id);
    let bad = s
        .create_virtual_key(&NewVirtualKey {
            name: " ".into(),
            ..Default::default()
        })
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));
}
