//! `leitstand key create|list|revoke` against a real database.

use serde_json::json;

use crate::helpers::{db_url, run_cli, spawn_app};

#[tokio::test]
async fn key_cli_creates_lists_and_revokes() {
    let app = spawn_app().await;
    let url = db_url(&app.db_name);

    let (ok, secret, err) = run_cli(
        &url,
        &[
            "key",
            "create",
            "--name",
            "shop app",
            "--scopes",
            "ingest,read",
            "--service",
            "shop",
            "--quiet",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let secret = secret.trim().to_owned();
    assert!(
        app::keys::key_prefix(&secret).is_some(),
        "--quiet prints only the key: {secret:?}"
    );

    let (ok, list, _) = run_cli(&url, &["key", "list"]).await;
    assert!(ok);
    assert!(
        list.contains("shop app") && list.contains("ingest,read") && list.contains("shop"),
        "{list}"
    );
    assert!(!list.contains(&secret), "the list never shows secrets");

    let stored: Vec<u8> = sqlx::query_scalar("select secret_sha256 from api_keys")
        .fetch_one(&app.pool)
        .await
        .expect("row");
    assert_eq!(
        stored,
        app::keys::store::hash_secret(&secret),
        "only the hash is stored"
    );

    assert_eq!(
        app.post_events(&secret, &json!({ "service": "shop" }))
            .await
            .status(),
        202
    );

    let prefix = app::keys::key_prefix(&secret).expect("prefix").to_owned();
    let (ok, out, err) = run_cli(&url, &["key", "revoke", &prefix]).await;
    assert!(ok, "{err}");
    assert!(out.contains(&prefix));
    // Other processes trust a verified key for at most the cache lifetime.
    tokio::time::sleep(app::keys::store::KEY_CACHE_TTL).await;
    assert_eq!(
        app.post_events(&secret, &json!({ "service": "shop" }))
            .await
            .status(),
        401
    );

    let (ok, _, err) = run_cli(&url, &["key", "create", "--name", "x", "--scopes", "root"]).await;
    assert!(!ok && err.contains("unknown scope"), "{err}");

    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action in ('key.create', 'key.revoke')",
    )
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(audited, 2);
}
