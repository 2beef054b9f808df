//! /healthz and /readyz, including readiness following the database.

use std::time::Duration;

use server::embedded_pg::{EmbeddedPostgres, ensure_database};

use crate::helpers::{eventually, shared_tempdir, spawn_app, spawn_app_on};

#[tokio::test]
async fn healthz_answers_200() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_is_200_when_database_is_migrated() {
    let app = spawn_app().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readyz_is_503_when_a_migration_is_missing() {
    let app = spawn_app().await;
    let latest = server::database::latest_migration();
    sqlx::query("delete from _sqlx_migrations where version = $1")
        .bind(latest)
        .execute(&app.pool)
        .await
        .expect("delete");
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: serde_json::Value = res.json().await.expect("json");
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("migrations pending"),
        "{body}"
    );
}

#[tokio::test]
async fn readyz_follows_the_database_down_and_up_again() {
    // A PostgreSQL of our own that this test may stop and start.
    let dir = shared_tempdir();
    let root = dir.path().join("pg");
    let mut pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&root))
        .await
        .expect("join")
        .expect("cluster starts");
    ensure_database(&pg).await.expect("database");
    let app = spawn_app_on(&pg.url(), String::new(), |_| {}).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    // Liveness does not depend on the database.
    let pg_handle = tokio::task::spawn_blocking(move || {
        pg.stop().expect("stop");
        pg
    });
    let mut pg = pg_handle.await.expect("join");

    let went_down = eventually(Duration::from_secs(5), || async {
        app.get("/readyz").await.status() == 503
    })
    .await;
    assert!(
        went_down,
        "/readyz must be 503 within 5 s of the database stopping"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);

    let pg = tokio::task::spawn_blocking(move || {
        pg.restart_on_same_port().expect("restart");
        pg
    })
    .await
    .expect("join");
    let came_back = eventually(Duration::from_secs(10), || async {
        app.get("/readyz").await.status() == 200
    })
    .await;
    assert!(
        came_back,
        "/readyz must recover without restarting Leitstand"
    );
    app.stop().await;
    drop(pg);
}

#[tokio::test]
async fn logs_are_json_lines_when_asked() {
    let app = crate::helpers::spawn_app().await;
    // Awaited: the server in this test's runtime goes on meanwhile.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_leitstand"))
        .arg("migrate")
        .env("DATABASE_URL", crate::helpers::db_url(&app.db_name))
        .env("LEITSTAND_LOG_FORMAT", "json")
        .env("RUST_LOG", "debug,sqlx=warn")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), out)
        .await
        .expect("migrate finishes")
        .expect("runs");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "some log lines");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v.get("level").is_some() && v.get("timestamp").is_some(),
            "{line}"
        );
    }
    assert!(!stderr.contains("password"), "no secrets in logs");
}

#[test]
fn version_names_the_release_commit_and_build_date() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leitstand"))
        .arg("--version")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.trim();
    let rest = line
        .strip_prefix(&format!("leitstand {} (commit ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{line}"));
    let (commit, rest) = rest
        .split_once(", built ")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{line}"
    );
    let date = rest.strip_suffix(')').unwrap_or_else(|| panic!("{line}"));
    assert!(
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
        "{line}"
    );
}

/// A real process, started and asked for its pages: nothing it runs at
/// start (route listing, schedulers) or per page may panic, even in a
/// spawned task whose panic would not stop it.
#[tokio::test]
async fn a_started_server_serves_its_pages_without_a_panic() {
    let server = crate::helpers::ServerProcess::start(&[], true, |_| async {}).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for path in ["/", "/setup", "/login", "/events", "/errors", "/backups"] {
        let res = client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .expect("answered");
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{path}: {}",
            res.status()
        );
    }
    let log = server.stop();
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
}

/// Reads one response from `tcp` (head and a `Content-Length` or chunked
/// body), keeping bytes after it in `rest`. None when the server closed.
async fn read_response(
    tcp: &mut tokio::net::TcpStream,
    rest: &mut Vec<u8>,
) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&rest[..end]).to_ascii_lowercase();
            let body_start = end + 4;
            let body_end = if let Some(len) = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
            {
                (rest.len() >= body_start + len).then_some(body_start + len)
            } else if head.contains("transfer-encoding: chunked") {
                rest[body_start..]
                    .windows(5)
                    .position(|w| w == b"0\r\n\r\n")
                    .map(|p| body_start + p + 5)
            } else {
                Some(body_start)
            };
            if let Some(body_end) = body_end {
                let body = rest[body_start..body_end].to_vec();
                rest.drain(..body_end);
                return Some((head, body));
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
            .await
            .expect("an answer within 5 s")
            .unwrap_or(0);
        if n == 0 {
            return None;
        }
        rest.extend_from_slice(&buf[..n]);
    }
}

/// Whether the server closes `tcp` within a second.
async fn closes_soon(tcp: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(1), tcp.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test]
async fn keep_alive_connections_serve_request_after_request_and_close_when_asked() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let get = |extra: &str| format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{extra}\r\n");

    // One connection, requests one after another, with pauses between.
    let mut tcp = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let mut rest = Vec::new();
    for round in 0..3 {
        tcp.write_all(get("").as_bytes()).await.expect("write");
        let (head, body) = read_response(&mut tcp, &mut rest)
            .await
            .unwrap_or_else(|| panic!("round {round}: closed instead of answering"));
        assert!(head.starts_with("http/1.1 200"), "round {round}: {head}");
        assert!(String::from_utf8_lossy(&body).contains("\"ok\""));
        assert!(!head.contains("connection: close"), "{head}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Pipelined: three requests in one write are all answered, in order.
    tcp.write_all(format!("{}{}{}", get(""), get(""), get("")).as_bytes())
        .await
        .expect("write");
    for n in 0..3 {
        let (head, _) = read_response(&mut tcp, &mut rest)
            .await
            .unwrap_or_else(|| panic!("pipelined request {n} was not answered"));
        assert!(head.starts_with("http/1.1 200"), "pipelined {n}: {head}");
    }

    // Requests split across writes: the first one's head arrives late, and
    // the start of the next one comes with the first (the server has read
    // it before the connection goes idle and must not lose it).
    let mut tcp = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let mut rest = Vec::new();
    let request = get("");
    let (start, end) = request.split_at(10);
    tcp.write_all(start.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    tcp.write_all(format!("{end}{start}").as_bytes())
        .await
        .expect("write");
    let (head, _) = read_response(&mut tcp, &mut rest).await.expect("answered");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    tcp.write_all(end.as_bytes()).await.expect("write");
    let (head, _) = read_response(&mut tcp, &mut rest)
        .await
        .expect("the request begun with the previous one is answered");
    assert!(head.starts_with("http/1.1 200"), "{head}");

    // A request whose body the server does not read (refused before it):
    // the next request on the connection is never read out of that body —
    // it is answered properly, or the connection is closed.
    let body = r#"{"service":"s","type":"GET /healthz HTTP/1.1"}"#;
    tcp.write_all(
        format!(
            "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}{}",
            body.len(),
            get("")
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    let (head, _) = read_response(&mut tcp, &mut rest).await.expect("answered");
    assert!(head.starts_with("http/1.1 401"), "{head}");
    if let Some((head, body)) = read_response(&mut tcp, &mut rest).await {
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("\"ok\""));
    }

    // `Connection: close` and HTTP/1.0 end the connection after the answer.
    for request in [
        get("Connection: close\r\n"),
        "GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n".to_owned(),
    ] {
        let mut tcp = tokio::net::TcpStream::connect(app.addr)
            .await
            .expect("connect");
        let mut rest = Vec::new();
        tcp.write_all(request.as_bytes()).await.expect("write");
        let (head, _) = read_response(&mut tcp, &mut rest).await.expect("answered");
        assert!(head.contains(" 200"), "{head}");
        assert!(closes_soon(&mut tcp).await, "{request:?}: connection kept");
    }
}
