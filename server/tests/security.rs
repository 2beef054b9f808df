//! Regression tests of the security probe: ambiguous paths, anonymous
//! reads, the sign-in race, open redirects, slow and idle connections,
//! restores and tightened access, forwarded addresses, bound keys, CSRF
//! with a key and a cookie, backup files, NUL and readiness details.

use std::time::{Duration, Instant};

use app::auth::Role;
use app::keys::Scope;
use reqwest::header;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    PASSWORD, ServerProcess, TestApp, path_variants, raw_client, raw_get, raw_http, rpc, rpc_names,
    spawn_app, spawn_app_with,
};

/// Text that only the seeded data contains: a response with it leaked data.
const MARKER: &str = "leakcheck";

async fn seeded_app() -> TestApp {
    let app = spawn_app().await;
    app.add_user("admin@example.com", Role::Admin).await;
    let key = app.ingest_key().await;
    let res = app
        .post_events(
            &key,
            &json!([
                { "service": "leakcheck-shop", "feature": "leakcheck-checkout", "level": "error",
                  "message": "leakcheck message", "user": "leakcheck-user" },
                { "service": "leakcheck-shop", "feature": "leakcheck-checkout", "level": "info" }
            ]),
        )
        .await;
    assert_eq!(res.status(), 202);
    app
}

#[tokio::test]
async fn dot_segments_and_nul_are_refused_before_anything_is_routed() {
    let app = seeded_app().await;
    for path in [
        "/api/..",
        "/api/../",
        "/icons/../",
        "/pkg/%2e%2e/",
        "/pkg/%2E%2E/",
        "/pkg/.%2e/",
        "/api/v1/../../",
        "/icons/..%2f",
        "/api/%2e%2e/settings",
        "/rpc/../",
        "/./",
        "/api/v1/privacy/users/%00/events",
        "/events?service=%00",
    ] {
        let res = raw_get(app.addr, path, "").await;
        assert_eq!(res.status, 400, "{path}: {}", res.head);
        assert!(
            res.body.contains("\"code\":\"bad_request\""),
            "{path}: {}",
            res.body
        );
        assert!(!res.body.contains(MARKER), "{path} leaked data");
    }
}

#[tokio::test]
async fn no_page_route_or_server_function_answers_anonymous_requests_under_any_path_variant() {
    let app = seeded_app().await;
    let pages = [
        "/",
        "/events",
        "/events/00000000-0000-0000-0000-000000000000",
        "/backups",
        "/settings",
        "/settings/keys",
        "/settings/audit",
        "/settings/privacy",
        "/no-such-page",
        "/export/dashboard?format=json",
        "/privacy/export?user=leakcheck-user",
        "/live/stream",
        "/backups/1/download",
        "/api/v1/dashboard",
        "/api/v1/export?format=json",
        "/api/v1/stream",
        "/api/v1/privacy/users/leakcheck-user/events",
        "/api/v1/backups",
    ];
    for page in pages {
        for path in path_variants(page) {
            let res = raw_get(app.addr, &path, "").await;
            assert!(
                [302, 303, 400, 401, 404].contains(&res.status),
                "{path}: {}",
                res.head
            );
            if res.status == 302 || res.status == 303 {
                let to = res.header("location").unwrap_or_default();
                assert!(to.starts_with("/login"), "{path} redirected to {to}");
            }
            assert!(
                !res.body.contains(MARKER),
                "{path} leaked data: {}",
                res.body
            );
        }
    }
    for name in rpc_names() {
        if ["me", "needs_setup", "login", "setup"].contains(&name.as_str()) {
            continue;
        }
        let path = rpc(&name);
        for variant in path_variants(&path) {
            for method in ["GET", "POST"] {
                let res = raw_http(
                    app.addr,
                    &format!(
                        "{method} {variant} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
                         Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}",
                        addr = app.addr
                    ),
                )
                .await;
                assert!(
                    !(200..300).contains(&res.status),
                    "{method} {variant} answered {}",
                    res.status
                );
                assert!(!res.body.contains(MARKER), "{method} {variant} leaked data");
            }
        }
    }
}

#[tokio::test]
async fn unknown_api_routes_answer_json_and_missing_files_never_render_the_app() {
    let app = seeded_app().await;
    let res = raw_get(app.addr, "/api/v1/no-such-route", "").await;
    assert_eq!(res.status, 404);
    let body: Value = serde_json::from_str(&res.body).expect("JSON body");
    assert_eq!(body["error"]["code"], "not_found");
    for path in ["/pkg/no-such-file.js", "/icons/none.png"] {
        let res = raw_get(app.addr, path, "").await;
        assert_eq!(res.status, 404, "{path}");
        assert!(!res.body.contains("<html"), "{path} rendered the app");
    }
}

#[tokio::test]
async fn a_burst_of_sign_ins_never_checks_more_passwords_than_the_limit() {
    let app = spawn_app_with(|s| s.limits.auth_failures_per_minute = 20).await;
    app.add_user("ops@example.com", Role::Admin).await;
    let burst = (0..60).map(|_| app.login("ops@example.com", "wrong password!"));
    let statuses: Vec<u16> = futures::future::join_all(burst)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s != 429).count();
    assert!(checked <= 20, "{checked} passwords checked: {statuses:?}");
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    let failed: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'auth.login_failed'")
            .fetch_one(&app.pool)
            .await
            .expect("audit");
    assert!(failed <= 20, "{failed} failures audited");
    let right = app.login("ops@example.com", PASSWORD).await;
    assert_eq!(right.status(), 429, "the right password waits out the lock");
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn password_checks_hold_a_bounded_amount_of_memory_during_and_after_a_burst() {
    let server = ServerProcess::start(
        &[
            ("LEITSTAND_AUTH_FAILURES_PER_MINUTE", "0"),
            ("LEITSTAND_RATE_LIMIT_PER_IP", "0"),
        ],
        false,
        |pool| async move {
            app::auth::store::create_user(&pool, "ops@example.com", "", PASSWORD, Role::Admin)
                .await
                .expect("user");
        },
    )
    .await;
    let pid = server.pid();
    let base = server.base.clone();
    let client = raw_client();
    let login_path = rpc("login");
    let login = |password: &'static str| {
        client
            .post(format!("{base}{login_path}"))
            .header(header::ORIGIN, base.clone())
            .form(&[
                ("email", "ops@example.com"),
                ("password", password),
                ("next", "/"),
            ])
            .send()
    };
    // Warm up: the hashing buffers exist from now on.
    for _ in 0..4 {
        login("wrong password!").await.expect("sent");
    }
    let baseline = rss_kib(pid);

    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        })
    };
    let burst = (0..150).map(|_| login("wrong password!"));
    let responses = futures::future::join_all(burst).await;
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.await.expect("sampler");
    for r in &responses {
        let r = r.as_ref().expect("answered");
        let status = r.status().as_u16();
        assert!(status == 401 || status == 503, "{status}");
        if status == 503 {
            assert!(r.headers().contains_key(header::RETRY_AFTER));
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid);
    drop(server);
    let unavailable = responses
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|r| r.status() == 503))
        .count();
    eprintln!(
        "sign-in burst of 150: RSS {baseline} KiB before, peak {peak} KiB, {after} KiB after; {unavailable} answered 503"
    );
    // 150 checks at 19 MiB each would be 2.8 GiB; bounded, it is a few buffers.
    assert!(
        peak.saturating_sub(baseline) < 100 * 1024,
        "peak {peak} KiB against a baseline of {baseline} KiB"
    );
    assert!(
        after.saturating_sub(baseline) < 40 * 1024,
        "{after} KiB after the burst against a baseline of {baseline} KiB"
    );
}

#[tokio::test]
async fn only_a_local_path_follows_sign_in_and_control_characters_cannot_break_the_answer() {
    let app = spawn_app().await;
    app.add_user("ops@example.com", Role::Viewer).await;
    for (next, expected) in [
        ("/events?level=error", "/events?level=error"),
        ("/\t/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/x\u{1}y", "/"),
        ("/a\r\nSet-Cookie: x=1", "/"),
        ("https://evil.example", "/"),
    ] {
        let res = raw_client()
            .post(app.url(&rpc("login")))
            .header(header::ORIGIN, app.origin())
            .form(&[
                ("email", "ops@example.com"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .expect("answered, not dropped");
        let location = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(location, expected, "next = {next:?} ({})", res.status());
    }
}

/// Writes `first`, then one header line every 400 ms; returns how long the
/// server kept the connection open (None: still open after `limit`).
async fn trickle_headers(
    addr: std::net::SocketAddr,
    first: &str,
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(first.as_bytes()).await.expect("write");
    let mut buf = [0u8; 1024];
    while started.elapsed() < limit {
        if tcp.write_all(b"X-Slow: 1\r\n").await.is_err() {
            return Some(started.elapsed());
        }
        match tokio::time::timeout(Duration::from_millis(400), tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            // A 408 or similar: the server answers, then closes.
            Ok(Ok(_)) => {}
            Err(_) => {}
        }
    }
    None
}

#[tokio::test]
async fn slow_headers_idle_keep_alives_and_trickled_bodies_are_cut_off_while_others_are_served() {
    let app = spawn_app_with(|s| {
        s.http.header_read_timeout = 2;
        s.http.request_timeout = 2;
    })
    .await;
    let key = app.ingest_key().await;

    // Headers trickled, for a page and for the stream path (read apart
    // from hyper): both closed after the header timeout.
    let page = trickle_headers(
        app.addr,
        "GET / HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(10),
    );
    let stream = trickle_headers(
        app.addr,
        "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(10),
    );
    let healthy = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        app.get("/healthz").await.status()
    };
    let (page, stream, healthy) = tokio::join!(page, stream, healthy);
    assert_eq!(healthy, 200, "a normal client is served meanwhile");
    for (what, closed) in [("page", page), ("stream", stream)] {
        let closed =
            closed.unwrap_or_else(|| panic!("{what}: trickled headers kept the connection"));
        assert!(
            closed < Duration::from_secs(5),
            "{what}: closed after {closed:?}"
        );
    }

    // An idle keep-alive connection is closed after the same time.
    let mut tcp = TcpStream::connect(app.addr).await.expect("connect");
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("\"ok\"") {
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
            .await
            .expect("answer in time")
            .expect("read");
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
    let idle_since = Instant::now();
    let n = tokio::time::timeout(Duration::from_secs(6), tcp.read(&mut buf))
        .await
        .expect("idle keep-alive closed")
        .unwrap_or(0);
    assert_eq!(n, 0, "closed without another answer");
    assert!(idle_since.elapsed() < Duration::from_secs(5));

    // A body trickled at one byte a second is cut off by the request timeout.
    let mut tcp = TcpStream::connect(app.addr).await.expect("connect");
    tcp.write_all(
        format!(
            "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "trickled body kept going"
        );
        let _ = tcp.write_all(b" ").await;
        match tokio::time::timeout(Duration::from_secs(1), tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                if String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[tokio::test]
async fn one_address_cannot_hold_more_than_its_share_of_connections() {
    let app = spawn_app_with(|s| {
        s.http.max_connections_per_ip = 5;
        s.http.header_read_timeout = 10;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(TcpStream::connect(app.addr).await.expect("connect"));
    }
    // Wait until the server has taken all five.
    let slots_taken = crate::helpers::eventually(Duration::from_secs(5), || async {
        let mut probe = TcpStream::connect(app.addr).await.expect("connect");
        let mut buf = [0u8; 16];
        matches!(
            tokio::time::timeout(Duration::from_millis(500), probe.read(&mut buf)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    })
    .await;
    assert!(slots_taken, "a sixth connection is closed at once");
    drop(held.pop());
    let served = crate::helpers::eventually(Duration::from_secs(5), || async {
        raw_get(app.addr, "/healthz", "").await.status == 200
    })
    .await;
    assert!(served, "a slot given back is free again");
}

#[tokio::test]
async fn a_restore_keeps_demotions_password_changes_and_erasures() {
    let app = spawn_app().await;
    app.add_user("root@example.com", Role::Admin).await;
    app.add_user("demoted@example.com", Role::Admin).await;
    app.add_user("changed@example.com", Role::Operator).await;
    let key = app.ingest_key().await;
    let res = app
        .post_events(
            &key,
            &json!([
                { "service": "shop", "level": "error", "message": "a", "user": "erase-me" },
                { "service": "shop", "level": "info", "user": "erase-me" },
                { "service": "shop", "level": "info", "user": "keep-me" }
            ]),
        )
        .await;
    assert_eq!(res.status(), 202);
    let admin_key = app.key(&[Scope::Admin], None).await;
    let backup: Value = app
        .post_as("/api/v1/backups", &admin_key)
        .await
        .json()
        .await
        .expect("json");
    let backup_id = backup["id"].as_i64().expect("id");

    // Since the backup: a demotion, a password change, an erasure.
    let demoted = app.session("demoted@example.com").await;
    let id_of = |email: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("select id from users where email = $1")
                .bind(email)
                .fetch_one(&pool)
                .await
                .expect("user id")
        }
    };
    let mut conn = app.pool.acquire().await.expect("conn");
    app::auth::store::set_role(&mut conn, id_of("demoted@example.com").await, Role::Viewer)
        .await
        .expect("demote");
    app::auth::store::set_password(
        &mut conn,
        id_of("changed@example.com").await,
        "a new password 42",
    )
    .await
    .expect("new password");
    drop(conn);
    let changed = app
        .call(
            None,
            "login",
            &[
                ("email", "changed@example.com"),
                ("password", "a new password 42"),
                ("next", "/"),
            ],
        )
        .await;
    let changed_cookie = changed.headers()[header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let res = app
        .delete_as("/api/v1/privacy/users/erase-me/events", &admin_key)
        .await;
    assert_eq!(res.status(), 200);

    let res = app
        .post_as(&format!("/api/v1/backups/{backup_id}/restore"), &admin_key)
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);

    // The demoted user's session is over and their role stays lowered.
    let role: String =
        sqlx::query_scalar("select role from users where email = 'demoted@example.com'")
            .fetch_one(&app.pool)
            .await
            .expect("role");
    assert_eq!(role, "viewer");
    let res = raw_client()
        .get(app.url(&format!("{}?", rpc("list_users"))))
        .header(header::COOKIE, &demoted.cookie)
        .send()
        .await
        .expect("sent");
    assert!(
        res.status() == 401 || res.status() == 403,
        "{}",
        res.status()
    );
    let again = app.session("demoted@example.com").await;
    let res = raw_client()
        .get(app.url(&format!("{}?", rpc("list_users"))))
        .header(header::COOKIE, &again.cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 403, "signed in again, still a viewer");

    // The changed password stays, the session made with it ends.
    let res = raw_client()
        .get(app.url(&format!("{}?", rpc("me"))))
        .header(header::COOKIE, &changed_cookie)
        .send()
        .await
        .expect("sent");
    let me: Value = res.json().await.expect("json");
    assert!(me.is_null(), "session ended: {me}");
    assert_eq!(
        app.login("changed@example.com", PASSWORD).await.status(),
        401
    );
    let res = app
        .call(
            None,
            "login",
            &[
                ("email", "changed@example.com"),
                ("password", "a new password 42"),
                ("next", "/"),
            ],
        )
        .await;
    assert!(res.status().is_redirection() || res.status().is_success());

    // The erased user's events stay erased, with the figures adjusted.
    let left: Vec<(String, i64)> = sqlx::query_as(
        "select user_ref, count(*) from events where user_ref is not null group by user_ref",
    )
    .fetch_all(&app.pool)
    .await
    .expect("events");
    assert_eq!(left, vec![("keep-me".to_owned(), 1)]);
    let (events, rolled): (i64, i64) = sqlx::query_as(
        "select (select count(*) from events), (select coalesce(sum(events), 0)::bigint from event_rollups)",
    )
    .fetch_one(&app.pool)
    .await
    .expect("counts");
    assert_eq!(events, rolled, "rollups match the events");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_cannot_choose_its_address_with_an_extra_header_line() {
    let app = spawn_app_with(|s| {
        s.http.trust_proxy = true;
        s.limits.auth_failures_per_minute = 3;
    })
    .await;
    app.add_user("ops@example.com", Role::Admin).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let res = raw_client()
            .post(app.url(&rpc("login")))
            .header(header::ORIGIN, app.origin())
            // What the client sent itself, then what the proxy appended.
            .header("x-forwarded-for", format!("10.9.9.{i}"))
            .header("x-forwarded-for", "203.0.113.9")
            .form(&[
                ("email", format!("user{i}@example.com")),
                ("password", "wrong password!".into()),
                ("next", "/".into()),
            ])
            .send()
            .await
            .expect("sent");
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, vec![401, 401, 401, 429, 429, 429]);
}

#[tokio::test]
async fn a_key_bound_to_a_service_reads_only_that_service() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    app.post_events(
        &key,
        &json!([
            { "service": "shop", "feature": "checkout", "level": "error" },
            { "service": "other", "feature": "secret-feature", "level": "error" },
            { "service": "other", "level": "info" }
        ]),
    )
    .await;
    let bound = app.key(&[Scope::Read], Some("shop")).await;
    let get = |path: &'static str| app.client.get(app.url(path)).bearer_auth(&bound).send();
    for path in [
        "/api/v1/dashboard?service=other",
        "/api/v1/export?format=json&service=other",
        "/api/v1/stream?service=other",
    ] {
        assert_eq!(get(path).await.expect("sent").status(), 403, "{path}");
    }
    for path in ["/api/v1/dashboard", "/api/v1/export?format=json"] {
        let body: Value = get(path).await.expect("sent").json().await.expect("json");
        assert_eq!(body["kpis"]["events"], 1, "{path}: {body}");
        let text = body.to_string();
        assert!(
            !text.contains("other") && !text.contains("secret-feature"),
            "{path}: {text}"
        );
    }
    let bound_admin = app.key(&[Scope::Admin], Some("shop")).await;
    for (method, path) in [
        ("GET", "/api/v1/backups"),
        ("GET", "/api/v1/privacy/users/u/events"),
    ] {
        let res = app
            .with_key(method.parse().expect("method"), path, &bound_admin)
            .await;
        assert_eq!(res.status(), 403, "{method} {path}");
    }
}

#[tokio::test]
async fn a_request_with_a_session_cookie_is_judged_by_the_cookies_rules_even_with_a_key() {
    let app = spawn_app().await;
    app.add_user("admin@example.com", Role::Admin).await;
    let session = app.session("admin@example.com").await;
    let key = app.key(&[Scope::Admin], None).await;
    // A POST from another site's page, with the key, and with or without
    // the session cookie.
    let from_elsewhere = |path: String, cookie: Option<&str>| {
        let mut req = raw_client()
            .post(app.url(&path))
            .header(header::ORIGIN, "http://evil.example")
            .bearer_auth(&key)
            .json(&json!({}));
        if let Some(cookie) = cookie {
            req = req.header(header::COOKIE, cookie);
        }
        async move { req.send().await.expect("sent").status() }
    };
    let cookie = Some(session.cookie.as_str());
    assert_eq!(
        from_elsewhere(rpc("create_backup"), cookie).await,
        403,
        "server function"
    );
    assert_eq!(
        from_elsewhere("/api/v1/backups".into(), cookie).await,
        403,
        "REST with a cookie"
    );
    assert_eq!(
        from_elsewhere("/api/v1/backups".into(), None).await,
        201,
        "REST with the key alone"
    );
}

#[tokio::test]
async fn backup_files_are_private_and_only_admins_download_them() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let backup_key = app.key(&[Scope::Backup], None).await;
    let admin_key = app.key(&[Scope::Admin], None).await;
    let res = app.post_as("/api/v1/backups", &backup_key).await;
    assert_eq!(res.status(), 201);
    let info: Value = res.json().await.expect("json");
    let dir = app.data_dir.path().join("backups");
    let file = dir.join(info["name"].as_str().expect("name"));
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "directory");
    assert_eq!(mode(&file), 0o600, "file");
    let download = format!("/api/v1/backups/{}/download", info["id"]);
    let res = app.get_as(&download, &backup_key).await;
    assert_eq!(res.status(), 403, "backup scope");
    let res = app.get_as(&download, &admin_key).await;
    assert_eq!(res.status(), 200, "admin scope");
}

#[tokio::test]
async fn nul_in_any_input_is_a_clear_400_and_readiness_keeps_database_details_private() {
    let app = spawn_app().await;
    let res = app.login("a\u{0}b@example.com", "x").await;
    assert_eq!(res.status(), 400, "login with NUL");
    let key = app.key(&[Scope::Admin], None).await;
    let res = raw_http(
        app.addr,
        &format!(
            "GET /api/v1/privacy/users/%00/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(res.status, 400);

    // The database goes away: /readyz says so, without the server's words.
    let name = app.db_name.clone();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&crate::helpers::admin_url())
        .await
        .expect("admin");
    sqlx::Executor::execute(
        &mut admin,
        sqlx::AssertSqlSafe(format!("drop database {name} with (force)")),
    )
    .await
    .expect("dropped");
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["reason"], "database unavailable");
}
