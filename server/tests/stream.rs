//! GET /api/v1/stream: delivery, filters, resume, several processes,
//! database restarts, slow clients, keep-alive and shutdown.

use std::sync::atomic::Ordering;
use std::time::Duration;

use app::keys::Scope;
use futures::StreamExt;
use serde_json::json;
use server::embedded_pg::{EmbeddedPostgres, ensure_database};

use crate::helpers::{
    db_url, eventually, expect_quiet, next_messages, shared_tempdir, spawn_app, spawn_app_on,
};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_committed_event_reaches_an_open_stream() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let mut stream = app.open_stream(&key, "", None).await;
    app.post_events(
        &key,
        &json!({ "service": "shop", "feature": "checkout", "type": "order.placed",
                                   "message": "hello", "attributes": { "n": 1 } }),
    )
    .await;
    let m = next_messages(&mut stream, 1, WAIT).await.remove(0);
    assert_eq!(m.event, "event");
    assert_eq!(m.data["service"], "shop");
    assert_eq!(m.data["type"], "order.placed");
    assert_eq!(m.data["attributes"], json!({ "n": 1 }));
    assert_eq!(m.data["seq"], m.id, "the SSE id is the event's cursor");
}

#[tokio::test]
async fn filters_select_service_minimum_level_and_type_prefix() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let mut stream = app
        .open_stream(&key, "?service=shop&level=warning&type=payment.", None)
        .await;
    app.post_events(&key, &json!([
        { "service": "crm", "level": "error", "type": "payment.failed", "message": "other service" },
        { "service": "shop", "level": "info", "type": "payment.ok", "message": "too low" },
        { "service": "shop", "level": "error", "type": "order.failed", "message": "other type" },
        { "service": "shop", "level": "critical", "type": "payment.failed", "message": "match" }
    ])).await;
    let m = next_messages(&mut stream, 1, WAIT).await.remove(0);
    assert_eq!(m.data["message"], "match");
    expect_quiet(&mut stream, Duration::from_millis(500)).await;

    let res = app.get_as("/api/v1/stream?level=loud", &key).await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn a_stream_needs_the_read_scope_and_bound_keys_see_their_service_only() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/stream").await.status(), 401);
    let ingest_only = app.key(&[Scope::Ingest], None).await;
    let res = app.get_as("/api/v1/stream", &ingest_only).await;
    assert_eq!(res.status(), 403);

    let bound = app
        .key(&[Scope::Read, Scope::Ingest], Some("billing"))
        .await;
    let res = app.get_as("/api/v1/stream?service=shop", &bound).await;
    assert_eq!(res.status(), 403);
    let mut stream = app.open_stream(&bound, "", None).await;
    let other = app.ingest_key().await;
    app.post_events(
        &other,
        &json!([{ "service": "shop" }, { "service": "billing", "message": "mine" }]),
    )
    .await;
    let m = next_messages(&mut stream, 1, WAIT).await.remove(0);
    assert_eq!(m.data["message"], "mine");
}

#[tokio::test]
async fn events_ingested_on_one_process_reach_streams_on_another() {
    let a = spawn_app().await;
    let b = spawn_app_on(&db_url(&a.db_name), String::new(), |_| {}).await;
    let key = a.ingest_key().await;
    let mut on_b = b.open_stream(&key, "", None).await;
    let mut on_a = a.open_stream(&key, "", None).await;
    a.post_events(
        &key,
        &json!([{ "service": "shop", "message": "1" }, { "service": "shop", "message": "2" }]),
    )
    .await;
    b.post_events(&key, &json!({ "service": "shop", "message": "3" }))
        .await;
    for stream in [&mut on_a, &mut on_b] {
        let got: Vec<String> = next_messages(stream, 3, WAIT)
            .await
            .into_iter()
            .map(|m| m.data["message"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(got, vec!["1", "2", "3"]);
    }
}

#[tokio::test]
async fn resuming_with_last_event_id_delivers_exactly_the_missed_events() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let mut stream = app.open_stream(&key, "", None).await;
    for i in 1..=3 {
        app.post_events(
            &key,
            &json!({ "service": "shop", "message": format!("{i}") }),
        )
        .await;
    }
    let seen = next_messages(&mut stream, 3, WAIT).await;
    let last = seen[2].id;
    drop(stream);

    for i in 4..=6 {
        app.post_events(
            &key,
            &json!({ "service": "shop", "message": format!("{i}") }),
        )
        .await;
    }
    let mut resumed = app.open_stream(&key, "", Some(last)).await;
    let missed: Vec<String> = next_messages(&mut resumed, 3, WAIT)
        .await
        .into_iter()
        .map(|m| m.data["message"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(missed, vec!["4", "5", "6"]);
    // Then live, without repeating anything.
    app.post_events(&key, &json!({ "service": "shop", "message": "7" }))
        .await;
    let live = next_messages(&mut resumed, 1, WAIT).await.remove(0);
    assert_eq!(live.data["message"], "7");
    expect_quiet(&mut resumed, Duration::from_millis(500)).await;
}

#[tokio::test]
async fn a_database_restart_during_streaming_loses_nothing() {
    let dir = shared_tempdir();
    let root = dir.path().join("pg");
    let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&root))
        .await
        .expect("join")
        .expect("cluster");
    ensure_database(&pg).await.expect("database");
    let app = spawn_app_on(&pg.url(), String::new(), |_| {}).await;
    let key = app.ingest_key().await;
    let mut stream = app.open_stream(&key, "", None).await;

    app.post_events(&key, &json!([{ "service": "s", "message": "before-1" }, { "service": "s", "message": "before-2" }])).await;
    let before = next_messages(&mut stream, 2, WAIT).await;
    assert_eq!(before[1].data["message"], "before-2");

    let mut pg = tokio::task::spawn_blocking(move || {
        let mut pg = pg;
        pg.stop().expect("stop");
        pg
    })
    .await
    .expect("join");
    let down = app
        .post_events(&key, &json!({ "service": "s", "message": "while-down" }))
        .await;
    assert_eq!(
        down.status(),
        503,
        "not acknowledged while the database is down"
    );
    assert!(down.headers().contains_key("retry-after"));
    pg = tokio::task::spawn_blocking(move || {
        pg.restart_on_same_port().expect("restart");
        pg
    })
    .await
    .expect("join");

    // Ingest succeeds again once the pool reconnects.
    let mut accepted = 0;
    for i in 0..50 {
        let res = app
            .post_events(
                &key,
                &json!({ "service": "s", "message": format!("after-{i}") }),
            )
            .await;
        if res.status() == 202 {
            accepted += 1;
            if accepted == 3 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(accepted, 3, "ingest recovers after the restart");
    let after: Vec<String> = next_messages(&mut stream, 3, Duration::from_secs(20))
        .await
        .into_iter()
        .map(|m| m.data["message"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(after.iter().all(|m| m.starts_with("after-")), "{after:?}");
    assert_eq!(after.len(), 3);
    assert!(
        app.state
            .live
            .stats
            .listener_reconnects
            .load(Ordering::Relaxed)
            >= 1
    );
    app.stop().await;
    drop(pg);
}

#[tokio::test]
async fn a_stuck_client_is_disconnected_without_slowing_ingest() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    // Open a stream and never read from it.
    let stuck = app
        .client
        .get(app.url("/api/v1/stream"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("opened");
    assert_eq!(stuck.status(), 200);
    let mut reader = app.open_stream(&key, "", None).await;

    let started = std::time::Instant::now();
    // ~48 MB of events: far more than socket buffers and the client buffer hold.
    let batch: Vec<serde_json::Value> = (0..500)
        .map(|i| json!({ "service": "s", "message": "x".repeat(1500), "attributes": { "i": i } }))
        .collect();
    for _ in 0..60 {
        assert_eq!(
            app.post_events(&key, &serde_json::Value::Array(batch.clone()))
                .await
                .status(),
            202
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "ingest was not held up"
    );
    let dropped = eventually(Duration::from_secs(20), || async {
        app.state.live.stats.clients_dropped.load(Ordering::Relaxed) >= 1
    })
    .await;
    assert!(dropped, "the stuck client was disconnected");
    // The client that reads either kept up or was dropped too; reading it
    // must not have blocked anything.
    let _ = tokio::time::timeout(Duration::from_secs(1), reader.next()).await;
    drop(stuck);
}

#[tokio::test]
async fn idle_streams_get_keep_alive_comments() {
    let app = spawn_app().await;
    let key = app.key(&[Scope::Read], None).await;
    let res = app.get_as("/api/v1/stream", &key).await;
    let mut bytes = res.bytes_stream();
    let got = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(chunk)) = bytes.next().await {
            if String::from_utf8_lossy(&chunk).contains(": keep-alive") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(got, Ok(true), "a keep-alive comment within 15 s");
}

#[tokio::test]
async fn shutdown_ends_open_streams() {
    let app = spawn_app().await;
    let key = app.key(&[Scope::Read], None).await;
    let mut stream = app.open_stream(&key, "", None).await;
    assert_eq!(
        app.state.live.stats.active_streams.load(Ordering::Relaxed),
        1
    );
    let started = std::time::Instant::now();
    let ended =
        tokio::spawn(
            async move { tokio::time::timeout(Duration::from_secs(10), stream.next()).await },
        );
    app.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "shutdown did not wait for the stream"
    );
    assert!(
        matches!(ended.await.expect("join"), Ok(None)),
        "the stream ended"
    );
}

/// Writes `parts` to a fresh connection one by one, a moment apart (a
/// request head that arrives in pieces), then reads until `until` shows up
/// or the server closes.
async fn raw_exchange(
    addr: std::net::SocketAddr,
    parts: &[&str],
    until: &str,
) -> (String, tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    for part in parts {
        tcp.write_all(part.as_bytes()).await.expect("write");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut got = Vec::new();
    let _ = tokio::time::timeout(WAIT, async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains(until) {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    (String::from_utf8_lossy(&got).into_owned(), tcp)
}

#[tokio::test]
async fn streams_that_open_a_connection_are_answered_over_plain_http() {
    let app = spawn_app().await;
    let key = app.key(&[Scope::Read], None).await;
    let ingest = app.ingest_key().await;

    // Refused: a complete response with its length, then the connection closes.
    let (refused, _) = raw_exchange(
        app.addr,
        &["GET /api/v1/str", "eam HTTP/1.1\r\nHost: x\r\n\r\n"],
        "\"unauthorized\"",
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 401 "), "{refused}");
    let lower = refused.to_ascii_lowercase();
    assert!(lower.contains("connection: close"), "{refused}");
    assert!(lower.contains("content-length: "), "{refused}");
    assert!(
        lower.contains("x-content-type-options: nosniff"),
        "{refused}"
    );

    // Accepted: the head, then events as they commit.
    let (head, mut tcp) = raw_exchange(
        app.addr,
        &[
            "GET /api/v1/stream?service=shop HTTP/1.1\r\nHost: x\r\n",
            &format!("Authorization: Bearer {key}\r\n\r\n"),
        ],
        "\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/event-stream"),
        "{head}"
    );
    assert_eq!(
        app.post_events(&ingest, &json!({ "service": "shop", "message": "raw" }))
            .await
            .status(),
        202
    );
    let mut body = String::new();
    let _ = tokio::time::timeout(WAIT, async {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 4096];
        while !body.contains("\"message\":\"raw\"") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => body.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
    })
    .await;
    assert!(body.contains("event: event\n"), "{body}");
    assert!(body.contains("\"message\":\"raw\""), "{body}");

    // Anything else that arrives in pieces still reaches the router whole.
    let (health, _) = raw_exchange(
        app.addr,
        &[
            "GET /heal",
            "thz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ],
        "\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200 "), "{health}");
}
