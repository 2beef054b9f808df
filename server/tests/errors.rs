//! One error shape everywhere outside the pages, and internal errors that
//! are logged with their request id but never shown.

use serde_json::Value;

use crate::helpers::{ServerProcess, db_url, raw_get, spawn_app};

#[tokio::test]
async fn the_security_layer_rest_and_unknown_routes_answer_the_same_json_shape() {
    let app = spawn_app().await;
    for (path, status, code) in [
        ("/api/v1/dashboard", 401, "unauthorized"),
        ("/api/v1/no-such-route", 404, "not_found"),
        ("/api/..", 400, "bad_request"),
    ] {
        let res = raw_get(app.addr, path, "").await;
        assert_eq!(res.status, status, "{path}");
        let body: Value = serde_json::from_str(&res.body).expect("JSON");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{path}"
        );
    }
    // A server function refused by the security layer: the same shape.
    let rpc = crate::helpers::rpc("list_users");
    let res = raw_get(app.addr, &rpc, "").await;
    assert_eq!(res.status, 401);
    let body: Value = serde_json::from_str(&res.body).expect("JSON");
    assert_eq!(body["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn an_internal_error_is_logged_with_its_request_id_and_not_echoed() {
    let key = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let server = ServerProcess::start(
        &[("LEITSTAND_LOG_FORMAT", "json"), ("RUST_LOG", "error")],
        true,
        |pool| {
            let key = key.clone();
            async move {
                let mut conn = pool.acquire().await.expect("conn");
                let created = app::keys::store::create(
                    &mut conn,
                    "t",
                    &[app::keys::Scope::Read],
                    None,
                    "test",
                )
                .await
                .expect("key");
                *key.lock().expect("lock") = created.secret;
            }
        },
    )
    .await;
    let key = key.lock().expect("lock").clone();

    // Break the database under the server: the dashboard's query fails.
    let pool = sqlx::PgPool::connect(&db_url(&server.db_name))
        .await
        .expect("pool");
    sqlx::query("alter table event_rollups_daily rename to event_rollups_daily_gone")
        .execute(&pool)
        .await
        .expect("rename");
    pool.close().await;
    let res = crate::helpers::http_client()
        .get(format!("{}/api/v1/dashboard", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 500);
    let request_id = res.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    let body = res.text().await.expect("body");
    assert!(body.contains("\"internal\""), "{body}");
    assert!(
        !body.contains("event_rollups_daily") && !body.contains("relation"),
        "{body}"
    );

    let log = server.stop();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(&request_id) && l.contains("internal error"))
        .collect();
    assert_eq!(lines.len(), 1, "logged once with its request id:\n{log}");
    assert!(
        lines[0].contains("event_rollups_daily"),
        "with its cause: {}",
        lines[0]
    );
    // The span names the route template and the client, not the raw path.
    assert!(
        lines[0].contains("\"route\":\"/api/v1/dashboard\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("\"client\":\"127.0.0.1\""),
        "{}",
        lines[0]
    );
}
