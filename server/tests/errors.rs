//! One error shape everywhere outside the pages, and internal errors that
//! are logged with their request id but never shown.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{db_url, eventually, fresh_database, raw_get, spawn_app};

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
    let db = fresh_database().await;
    let url = db_url(&db);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let data = tempfile::tempdir().expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_leitstand"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("LEITSTAND_LISTEN", format!("127.0.0.1:{port}"))
        .env("LEITSTAND_DATA_DIR", data.path())
        .env("LEITSTAND_BACKUP_SCHEDULE", "off")
        .env("LEITSTAND_LOG_FORMAT", "json")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("leitstand starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let ready = eventually(Duration::from_secs(60), || {
        let client = client.clone();
        let url = format!("{base}/readyz");
        async move {
            client
                .get(url)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }
    })
    .await;
    assert!(ready, "server ready");

    // Break the database under the server: the dashboard's query fails.
    let pool = sqlx::PgPool::connect(&url).await.expect("pool");
    let key = {
        let mut conn = pool.acquire().await.expect("conn");
        app::keys::store::create(&mut conn, "t", &[app::keys::Scope::Read], None, "test")
            .await
            .expect("key")
            .secret
    };
    sqlx::query("alter table event_rollups_daily rename to event_rollups_daily_gone")
        .execute(&pool)
        .await
        .expect("rename");
    pool.close().await;
    let res = client
        .get(format!("{base}/api/v1/dashboard"))
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

    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let mut log = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut log);
    }
    let _ = child.wait();
    crate::helpers::drop_database_blocking(db);
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
