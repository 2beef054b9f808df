//! Probes against local targets started by the tests: state changes,
//! incidents, maintenance, heartbeats, certificates, recovery actions,
//! scheduling across processes, the status API and `leitstand status`.
//!
//! Checks are made due at once by moving `next_due_at` (a controllable
//! clock), so a test does not wait out real intervals.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

use app::keys::Scope;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};

use crate::helpers::{TestApp, eventually, spawn_app, spawn_app_with};

/// A local HTTP target whose answer the test changes.
#[derive(Clone, Default)]
struct Target {
    status: Arc<AtomicU16>,
    delay_ms: Arc<AtomicU64>,
    hits: Arc<AtomicU64>,
}

async fn health(State(t): State<Target>) -> impl IntoResponse {
    t.hits.fetch_add(1, Ordering::Relaxed);
    let delay = t.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = StatusCode::from_u16(t.status.load(Ordering::Relaxed)).unwrap_or(StatusCode::OK);
    (
        status,
        axum::Json(json!({ "db": { "status": if status.is_success() { "up" } else { "down" } } })),
    )
}

impl Target {
    async fn start() -> (Self, SocketAddr) {
        let t = Target::default();
        t.status.store(200, Ordering::Relaxed);
        let app = Router::new()
            .route("/health", get(health))
            .route(
                "/ftp",
                get(|| async { axum::response::Redirect::temporary("ftp://127.0.0.1/file") }),
            )
            .with_state(t.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (t, addr)
    }

    fn set(&self, status: u16) {
        self.status.store(status, Ordering::Relaxed);
    }
}

impl TestApp {
    async fn create_probe(&self, key: &str, service: &str, spec: Value) -> Value {
        let res = self
            .post_json(&format!("/api/v1/services/{service}/probes"), key, &spec)
            .await;
        assert_eq!(res.status(), 201, "create probe");
        res.json().await.expect("json")
    }

    /// Makes the probe due now and waits until its next result is recorded.
    async fn check_now(&self, probe: i64) -> Value {
        let before: i64 =
            sqlx::query_scalar("select count(*) from probe_results where probe_id = $1")
                .bind(probe)
                .fetch_one(&self.pool)
                .await
                .expect("count");
        sqlx::query("update probes set next_due_at = now() where id = $1")
            .bind(probe)
            .execute(&self.pool)
            .await
            .expect("make due");
        let checked = eventually(Duration::from_secs(15), || async {
            let n: i64 =
                sqlx::query_scalar("select count(*) from probe_results where probe_id = $1")
                    .bind(probe)
                    .fetch_one(&self.pool)
                    .await
                    .unwrap_or(0);
            n > before
        })
        .await;
        assert!(checked, "probe {probe} checked");
        self.probe_row(probe).await
    }

    async fn probe_row(&self, probe: i64) -> Value {
        sqlx::query_scalar(
            "select json_build_object('state', state, 'failures', consecutive_failures, \
             'error', last_error, 'status', last_status, 'cert', cert_expires_at) from probes where id = $1",
        )
        .bind(probe)
        .fetch_one(&self.pool)
        .await
        .expect("probe")
    }
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

#[tokio::test]
async fn an_http_probe_goes_down_after_n_failures_and_its_incident_lasts_exactly_the_outage() {
    let app = spawn_app().await;
    let key = app.key(&[Scope::Admin], None).await;
    let (target, addr) = Target::start().await;
    let probe = app
        .create_probe(
            &key,
            "shop",
            json!({ "kind": "http", "url": format!("http://{addr}/health"), "interval_seconds": 3600,
                    "timeout_seconds": 2, "failures_before_down": 2 }),
        )
        .await;
    assert_eq!(probe["state"], "unknown");
    assert_eq!(probe["expected_status"], "2xx");
    let p = id(&probe);

    assert_eq!(app.check_now(p).await["state"], "up");
    target.set(503);
    let one = app.check_now(p).await;
    assert_eq!(
        (one["state"].as_str(), one["failures"].as_i64()),
        (Some("up"), Some(1)),
        "one failure is not down"
    );
    let two = app.check_now(p).await;
    assert_eq!(two["state"], "down");
    assert_eq!(two["error"], "status 503, expected 2xx");
    let open: (i64, Option<chrono::DateTime<chrono::Utc>>, String) = sqlx::query_as(
        "select count(*), max(ended_at), max(cause) from incidents where probe_id = $1",
    )
    .bind(p)
    .fetch_one(&app.pool)
    .await
    .expect("incident");
    assert_eq!(
        (open.0, open.1, open.2.as_str()),
        (1, None, "status 503, expected 2xx")
    );

    target.set(200);
    assert_eq!(app.check_now(p).await["state"], "up");
    // The incident began at the first failure and ended at the first success.
    let (started, ended, first_fail, first_ok): (
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
    ) = sqlx::query_as(
        "select i.started_at, i.ended_at,
                (select min(checked_at) from probe_results where probe_id = $1 and outcome = 'down'),
                (select max(checked_at) from probe_results where probe_id = $1 and outcome = 'up')
         from incidents i where i.probe_id = $1",
    )
    .bind(p)
    .fetch_one(&app.pool)
    .await
    .expect("closed incident");
    assert_eq!(started, first_fail);
    assert_eq!(ended, first_ok);

    // Rollups count every check: 4 checks, 2 failures.
    let (checks, failures): (i64, i64) = sqlx::query_as(
        "select sum(checks)::int8, sum(failures)::int8 from probe_rollups where probe_id = $1",
    )
    .bind(p)
    .fetch_one(&app.pool)
    .await
    .expect("rollups");
    assert_eq!((checks, failures), (4, 2));
    // The daily and monthly tiers hold the same counts.
    for (table, sql) in [
        (
            "daily",
            "select sum(checks)::int8, sum(failures)::int8 from probe_rollups_daily where probe_id = $1",
        ),
        (
            "monthly",
            "select sum(checks)::int8, sum(failures)::int8 from probe_rollups_monthly where probe_id = $1",
        ),
    ] {
        let tier: (i64, i64) = sqlx::query_as(sql)
            .bind(p)
            .fetch_one(&app.pool)
            .await
            .expect("tier");
        assert_eq!(tier, (4, 2), "{table}");
    }
}

#[tokio::test]
async fn wrong_bodies_slow_answers_and_closed_ports_are_failures_with_a_reason() {
    let app = spawn_app().await;
    let key = app.key(&[Scope::Admin], None).await;
    let (target, addr) = Target::start().await;
    let url = format!("http://{addr}/health");
    let contains = app
        .create_probe(&key, "shop", json!({ "kind": "http", "url": url, "body_contains": "nope", "failures_before_down": 1, "interval_seconds": 3600 }))
        .await;
    let pointer = app
        .create_probe(&key, "shop", json!({ "kind": "http", "url": url, "json_pointer": "/db/status", "json_equals": "up", "failures_before_down": 1, "interval_seconds": 3600 }))
        .await;
    let slow = app
        .create_probe(&key, "shop", json!({ "kind": "http", "url": url, "timeout_seconds": 0.3, "failures_before_down": 1, "interval_seconds": 3600 }))
        .await;
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let tcp_down = app
        .create_probe(&key, "db", json!({ "kind": "tcp", "host": "127.0.0.1", "port": closed_port, "failures_before_down": 1, "interval_seconds": 3600 }))
        .await;
    let tcp_up = app
        .create_probe(&key, "db", json!({ "kind": "tcp", "host": "127.0.0.1", "port": addr.port(), "interval_seconds": 3600 }))
        .await;

    let ftp = app
        .create_probe(&key, "shop", json!({ "kind": "http", "url": format!("http://{addr}/ftp"), "failures_before_down": 1, "interval_seconds": 3600 }))
        .await;
    let f = app.check_now(id(&ftp)).await;
    assert!(
        f["error"]
            .as_str()
            .is_some_and(|e| e.contains("redirect") && e.contains("ftp")),
        "a redirect to another scheme is refused: {f}"
    );
    let c = app.check_now(id(&contains)).await;
    assert_eq!(
        (c["state"].as_str(), c["error"].as_str()),
        (Some("down"), Some("the body does not contain “nope”"))
    );
    assert_eq!(app.check_now(id(&pointer)).await["state"], "up");
    target.set(500);
    let p = app.check_now(id(&pointer)).await;
    assert_eq!(p["error"], "status 500, expected 2xx");
    target.set(200);
    target.delay_ms.store(1000, Ordering::Relaxed);
    let s = app.check_now(id(&slow)).await;
    assert_eq!(s["state"], "down");
    assert!(
        s["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("timed out")),
        "{s}"
    );
    target.delay_ms.store(0, Ordering::Relaxed);
    let t = app.check_now(id(&tcp_down)).await;
    assert!(
        t["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("cannot connect")),
        "{t}"
    );
    assert_eq!(app.check_now(id(&tcp_up)).await["state"], "up");
}

#[tokio::test]
async fn a_certificate_expiring_soon_degrades_the_probe_and_shows_its_date() {
    // A CA trusted through --probe-ca, and a server certificate from it
    // that expires in five days.
    let dir = tempfile::tempdir().expect("dir");
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let leaf_key = rcgen::KeyPair::generate().expect("key");
    let mut leaf_params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    let soon = chrono::Utc::now() + chrono::Duration::days(5);
    leaf_params.not_after = rcgen::date_time_ymd(
        chrono::Datelike::year(&soon),
        chrono::Datelike::month(&soon) as u8,
        chrono::Datelike::day(&soon) as u8,
    );
    let leaf = leaf_params
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("leaf");
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).expect("write ca");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem(
        leaf.pem().into_bytes(),
        leaf_key.serialize_pem().into_bytes(),
    )
    .await
    .expect("tls config");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let target = Router::new().route("/health", get(|| async { "ok" }));
    tokio::spawn(async move {
        if let Ok(server) = axum_server::from_tcp_rustls(listener, tls) {
            let _ = server.serve(target.into_make_service()).await;
        }
    });

    let app = spawn_app_with(|s| s.probes.probe_ca = Some(ca_path.clone())).await;
    let key = app.key(&[Scope::Admin], None).await;
    let probe = app
        .create_probe(&key, "shop", json!({ "kind": "http", "url": format!("https://localhost:{port}/health"), "interval_seconds": 3600 }))
        .await;
    let checked = app.check_now(id(&probe)).await;
    assert_eq!(checked["state"], "degraded", "{checked}");
    assert!(
        checked["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("TLS certificate expires")),
        "{checked}"
    );
    assert!(checked["cert"].is_string());
    // An incident is for outages, not for a warning.
    let incidents: i64 = sqlx::query_scalar("select count(*) from incidents")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(incidents, 0);
}

#[tokio::test]
async fn failures_in_a_maintenance_window_open_no_incident_and_count_nowhere() {
    let app = spawn_app().await;
    let key = app.key(&[Scope::Admin], None).await;
    let (target, addr) = Target::start().await;
    let probe = app
        .create_probe(&key, "shop", json!({ "kind": "http", "url": format!("http://{addr}/health"), "failures_before_down": 1, "interval_seconds": 3600 }))
        .await;
    let now = chrono::Utc::now();
    let res = app
        .post_json(
            "/api/v1/maintenance",
            &key,
            &json!({ "service": "shop", "title": "deploy",
                     "starts_at": (now - chrono::Duration::minutes(5)).to_rfc3339(),
                     "ends_at": (now + chrono::Duration::minutes(30)).to_rfc3339() }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let window: Value = res.json().await.expect("json");
    assert_eq!(window["active"], true);
    target.set(503);
    for _ in 0..3 {
        app.check_now(id(&probe)).await;
    }
    let row = app.probe_row(id(&probe)).await;
    assert_ne!(row["state"], "down");
    let (results, in_maintenance, failures, incidents): (i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from probe_results), (select count(*) from probe_results where maintenance),
                (select coalesce(sum(failures), 0)::int8 from probe_rollups), (select count(*) from incidents)",
    )
    .fetch_one(&app.pool)
    .await
    .expect("counts");
    assert_eq!((results, in_maintenance, failures, incidents), (3, 3, 0, 0));
    let status = app.get_json("/api/v1/system/status", &key).await;
    assert_eq!(status["services"][0]["state"], "maintenance");
    assert_ne!(
        status["status"], "down",
        "a service in maintenance is not down"
    );

    // Removing the window: the next failure counts.
    let res = app
        .delete_as(&format!("/api/v1/maintenance/{}", window["id"]), &key)
        .await;
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_secs(6)).await; // the runner caches windows for 5 s
    assert_eq!(app.check_now(id(&probe)).await["state"], "down");
}

#[tokio::test]
async fn heartbeats_are_up_when_pinged_down_when_late_or_failed() {
    let app = spawn_app().await;
    let key = app.key(&[Scope::Admin], None).await;
    let beat = app
        .create_probe(
            &key,
            "backup-job",
            json!({ "kind": "heartbeat", "period_seconds": 60, "grace_seconds": 30 }),
        )
        .await;
    let token = beat["token"].as_str().expect("token").to_owned();
    assert_eq!(token.len(), 32);
    assert!(
        beat["ping_url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/api/v1/heartbeat/{token}")))
    );
    let p = id(&beat);

    let res = app
        .client
        .post(app.url(&format!("/api/v1/heartbeat/{token}")))
        .body("nightly ok")
        .send()
        .await
        .expect("ping");
    assert_eq!(res.status(), 200);
    assert_eq!(app.probe_row(p).await["state"], "up");
    let (body, due): (Option<String>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("select last_ping_body, next_due_at from probes where id = $1")
            .bind(p)
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(body.as_deref(), Some("nightly ok"));
    assert!(
        due > chrono::Utc::now() + chrono::Duration::seconds(80),
        "due after period + grace"
    );

    // Late: the last ping was longer ago than period + grace.
    sqlx::query("update probes set last_ping_at = now() - interval '2 minutes' where id = $1")
        .bind(p)
        .execute(&app.pool)
        .await
        .expect("age");
    let late = app.check_now(p).await;
    assert_eq!(late["state"], "down");
    assert!(
        late["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("no ping since")),
        "{late}"
    );

    let res = app.get(&format!("/api/v1/heartbeat/{token}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.probe_row(p).await["state"], "up");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/heartbeat/{token}/fail")))
        .body("disk full")
        .send()
        .await
        .expect("ping");
    assert_eq!(res.status(), 200);
    let failed = app.probe_row(p).await;
    assert_eq!(failed["state"], "down");
    assert_eq!(failed["error"], "reported a failure: disk full");

    // Unknown and malformed tokens, and oversized bodies, change nothing.
    assert_eq!(
        app.get("/api/v1/heartbeat/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .await
            .status(),
        404
    );
    assert_eq!(app.get("/api/v1/heartbeat/short").await.status(), 404);
    let big = "x".repeat(100 * 1024);
    let res = app
        .client
        .post(app.url(&format!("/api/v1/heartbeat/{token}")))
        .body(big)
        .send()
        .await
        .expect("ping");
    assert_eq!(res.status(), 413);
    assert_eq!(app.probe_row(p).await["state"], "down");
}

#[tokio::test]
async fn bad_probe_definitions_get_a_clear_error_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.key(&[Scope::Admin], None).await;
    let reader = app.key(&[Scope::Read], None).await;
    for (spec, field) in [
        (json!({ "kind": "http" }), "url"),
        (
            json!({ "kind": "http", "url": "file:///etc/passwd" }),
            "url",
        ),
        (
            json!({ "kind": "http", "url": "http://x", "interval_seconds": 1 }),
            "interval_seconds",
        ),
        (json!({ "kind": "tcp", "host": "db" }), "port"),
        (json!({ "kind": "heartbeat" }), "period_seconds"),
        (json!({ "kind": "smtp" }), ""),
        (
            json!({ "kind": "http", "url": "http://x", "shell": "rm -rf /" }),
            "",
        ),
    ] {
        let res = app
            .post_json("/api/v1/services/shop/probes", &admin, &spec)
            .await;
        let status = res.status().as_u16();
        assert!(status == 422 || status == 400, "{spec}: {status}");
        if !field.is_empty() {
            let body: Value = res.json().await.expect("json");
            assert_eq!(body["error"]["field"], field, "{spec}");
        }
    }
    let res = app
        .post_json(
            "/api/v1/services/shop/probes",
            &reader,
            &json!({ "kind": "tcp", "host": "db", "port": 5432 }),
        )
        .await;
    assert_eq!(res.status(), 403, "probes are for admins");
    let probes: i64 = sqlx::query_scalar("select count(*) from probes")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(probes, 0);

    // Another service's probe is not reachable through this one.
    let probe = app
        .create_probe(
            &admin,
            "shop",
            json!({ "kind": "tcp", "host": "db", "port": 5432 }),
        )
        .await;
    let res = app
        .get_as(
            &format!("/api/v1/services/crm/probes/{}", id(&probe)),
            &admin,
        )
        .await;
    assert_eq!(res.status(), 404);
    // PATCH changes what it names; the kind never changes.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/services/shop/probes/{}", id(&probe))))
        .bearer_auth(&admin)
        .json(&json!({ "port": 6432, "interval_seconds": 60 }))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.expect("json");
    assert_eq!(
        (
            changed["port"].as_i64(),
            changed["interval_seconds"].as_i64(),
            changed["host"].as_str()
        ),
        (Some(6432), Some(60), Some("db"))
    );
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/services/shop/probes/{}", id(&probe))))
        .bearer_auth(&admin)
        .json(&json!({ "kind": "http" }))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), 422);
    assert_eq!(
        app.delete_as(
            &format!("/api/v1/services/shop/probes/{}", id(&probe)),
            &admin
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn the_recovery_action_runs_after_its_failures_respects_the_hourly_limit_and_is_audited() {
    let dir = tempfile::tempdir().expect("dir");
    let marker = dir.path().join("restarts");
    let action = server::jobs::recovery::RecoveryConfig {
        service: "shop".into(),
        command: vec![
            "sh".into(),
            "-c".into(),
            format!("echo restarted >> {}; echo done", marker.display()),
        ],
        after_failures: 2,
        timeout_seconds: 10,
        cooldown_seconds: 0,
        max_runs_per_hour: 2,
    };
    let app = spawn_app_with(|s| s.recovery = vec![action]).await;
    let key = app.key(&[Scope::Admin], None).await;
    let (target, addr) = Target::start().await;
    target.set(503);
    let probe = app
        .create_probe(&key, "shop", json!({ "kind": "http", "url": format!("http://{addr}/health"), "failures_before_down": 1, "interval_seconds": 3600 }))
        .await;
    let p = id(&probe);
    app.check_now(p).await; // 1 failure: down, but the action waits for 2
    let runs = || async {
        sqlx::query_as::<_, (Option<i32>, Option<String>, Option<String>)>(
            "select exit_code, output, error from recovery_runs order by id",
        )
        .fetch_all(&app.pool)
        .await
        .expect("runs")
    };
    assert!(runs().await.is_empty());
    for _ in 0..4 {
        app.check_now(p).await;
    }
    let ran = eventually(Duration::from_secs(10), || async {
        runs().await.len() == 3
    })
    .await;
    let all = runs().await;
    assert!(ran, "{all:?}");
    assert_eq!(all[0], (Some(0), Some("done\n".into()), None));
    assert_eq!(all[1].0, Some(0));
    assert_eq!(all[2].2.as_deref(), Some(server::jobs::recovery::GAVE_UP));
    assert_eq!(
        std::fs::read_to_string(&marker)
            .expect("marker")
            .lines()
            .count(),
        2
    );
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action like 'recovery.%'")
            .fetch_one(&app.pool)
            .await
            .expect("audit");
    assert_eq!(audited, 3);
}

#[tokio::test]
async fn two_processes_on_one_database_run_each_check_once_per_interval() {
    let first = spawn_app().await;
    let db = first.db_name.clone();
    let second =
        crate::helpers::spawn_app_on(&crate::helpers::db_url(&db), String::new(), |_| {}).await;
    let key = first.key(&[Scope::Admin], None).await;
    let (target, addr) = Target::start().await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(id(&first
            .create_probe(&key, "shop", json!({ "kind": "http", "url": format!("http://{addr}/health"), "interval_seconds": 5 }))
            .await));
    }
    // Every probe due now, then two intervals and a half of running.
    sqlx::query("update probes set next_due_at = now()")
        .execute(&first.pool)
        .await
        .expect("due");
    tokio::time::sleep(Duration::from_millis(12_500)).await;
    let per_probe: Vec<(i64, i64, Option<f64>)> = sqlx::query_as(
        "select probe_id, count(*), min(gap) from (
             select probe_id, extract(epoch from checked_at - lag(checked_at) over (partition by probe_id order by checked_at))::float8 as gap
             from probe_results) g group by probe_id order by probe_id",
    )
    .fetch_all(&first.pool)
    .await
    .expect("results");
    assert_eq!(per_probe.len(), ids.len(), "every probe ran");
    for (probe, n, gap) in &per_probe {
        assert!(
            (2..=3).contains(n),
            "probe {probe}: {n} checks in 12.5 s at a 5 s interval"
        );
        assert!(
            gap.is_some_and(|g| g > 4.0),
            "probe {probe} ran twice in one interval: {gap:?}"
        );
    }
    assert_eq!(
        target.hits.load(Ordering::Relaxed) as i64,
        per_probe.iter().map(|p| p.1).sum::<i64>(),
        "every request recorded once"
    );
    drop(second);
}

#[tokio::test]
async fn the_status_api_reports_states_slos_and_is_cached_for_five_seconds() {
    let app = spawn_app().await;
    let admin = app.key(&[Scope::Admin], None).await;
    let reader = app.key(&[Scope::Read], None).await;
    let (target, addr) = Target::start().await;
    let probe = app
        .create_probe(&admin, "shop", json!({ "kind": "http", "url": format!("http://{addr}/health"), "failures_before_down": 1, "interval_seconds": 3600 }))
        .await;
    app.check_now(id(&probe)).await;
    let status = app.get_json("/api/v1/system/status", &reader).await;
    assert_eq!(status["status"], "degraded", "no backup yet: {status}");
    let shop = &status["services"][0];
    assert_eq!(
        (shop["slug"].as_str(), shop["state"].as_str()),
        (Some("shop"), Some("up"))
    );
    assert_eq!(shop["uptime_24h"], 100.0);
    assert!(shop["p95_ms_24h"].as_f64().is_some());
    let slos: Vec<&str> = shop["slos"]
        .as_array()
        .expect("slos")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(slos, ["p95_ms", "error_rate", "uptime", "dead_letters"]);
    assert!(status["leitstand"]["memory_bytes"].as_u64().is_some());

    target.set(500);
    app.check_now(id(&probe)).await;
    let cached = app.get_json("/api/v1/system/status", &reader).await;
    assert_eq!(
        cached["generated_at"], status["generated_at"],
        "served from the cache"
    );
    tokio::time::sleep(Duration::from_millis(5200)).await;
    let fresh = app.get_json("/api/v1/system/status", &reader).await;
    assert_ne!(fresh["generated_at"], status["generated_at"]);
    assert_eq!(fresh["status"], "down");
    assert!(
        fresh["services"][0]["open_incident"]["cause"]
            .as_str()
            .is_some()
    );
    assert_eq!(
        app.get_as(
            "/api/v1/system/status",
            &app.key(&[Scope::Ingest], None).await
        )
        .await
        .status(),
        403
    );
}

#[tokio::test]
async fn a_failed_probe_check_makes_its_hour_unstable_in_the_dashboard() {
    let app = spawn_app().await;
    let key = app.key(&[Scope::Admin], None).await;
    let (target, addr) = Target::start().await;
    let probe = app
        .create_probe(&key, "shop", json!({ "kind": "http", "url": format!("http://{addr}/health"), "interval_seconds": 3600 }))
        .await;
    app.check_now(id(&probe)).await;
    let stable = app.get_dashboard(&key, "?service=shop").await;
    assert_eq!(stable["kpis"]["stability"], 100.0);
    target.set(503);
    app.check_now(id(&probe)).await;
    let after = app.get_dashboard(&key, "?service=shop").await;
    let expected = 167.0 / 168.0 * 100.0;
    let got = after["kpis"]["stability"].as_f64().expect("stability");
    assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
    // Another service's dashboard is unaffected.
    let ingest = app.ingest_key().await;
    app.post_events(&ingest, &json!({ "service": "crm" })).await;
    let other = app.get_dashboard(&key, "?service=crm").await;
    assert_eq!(other["kpis"]["stability"], 100.0);
}

#[tokio::test]
async fn leitstand_status_prints_a_line_per_service_and_exits_0_1_or_2() {
    let app = spawn_app().await;
    let admin = app.key(&[Scope::Admin], None).await;
    let (target, addr) = Target::start().await;
    let probe = app
        .create_probe(&admin, "shop", json!({ "kind": "http", "url": format!("http://{addr}/health"), "failures_before_down": 1, "interval_seconds": 3600 }))
        .await;
    app.check_now(id(&probe)).await;
    // A fresh backup, so backups do not warn.
    assert_eq!(app.post_as("/api/v1/backups", &admin).await.status(), 201);
    let url = crate::helpers::db_url(&app.db_name);
    let cli = async |args: &[&str]| crate::helpers::run_cli_code(&url, args).await;

    let (code, out, err) = cli(&["status"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("Leitstand status: OK"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("shop") && l.contains("up") && l.contains("100.00 %")),
        "{out}"
    );
    let (code, out, _) = cli(&["status", "--json"]).await;
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        (doc["status"].as_str(), doc["services"][0]["slug"].as_str()),
        (Some("ok"), Some("shop"))
    );

    // An error event: the error-rate SLO is missed, a warning.
    let ingest = app.ingest_key().await;
    app.post_events(
        &ingest,
        &json!({ "service": "shop", "level": "error", "message": "boom" }),
    )
    .await;
    let (code, out, _) = cli(&["status"]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("missed: error_rate"), "{out}");

    // Down: exit 2, over the database and over HTTP alike.
    target.set(503);
    app.check_now(id(&probe)).await;
    let (code, out, _) = cli(&["status"]).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("down since"), "{out}");
    let reader = app.key(&[Scope::Read], None).await;
    let (code, out, err) = cli(&["status", "--url", &app.base, "--key", &reader]).await;
    assert_eq!(code, 2, "{out}{err}");
    let (code, _, err) = cli(&["status", "--url", &app.base, "--key", "lst_wrong"]).await;
    assert_eq!(code, 3, "an unreadable status is its own code: {err}");
}

#[tokio::test]
async fn the_public_status_page_shows_only_opted_in_services_and_nothing_internal() {
    let app = spawn_app_with(|s| s.probes.public_status = true).await;
    let admin = app.key(&[Scope::Admin], None).await;
    let (target, addr) = Target::start().await;
    target.set(503);
    let shown = app
        .create_probe(&admin, "shop", json!({ "kind": "http", "url": format!("http://{addr}/health"), "failures_before_down": 1, "interval_seconds": 3600 }))
        .await;
    app.create_probe(
        &admin,
        "internal-crm",
        json!({ "kind": "tcp", "host": "10.1.2.3", "port": 5432, "interval_seconds": 3600 }),
    )
    .await;
    app.check_now(id(&shown)).await;
    let res = app
        .client
        .patch(app.url("/api/v1/services/shop"))
        .bearer_auth(&admin)
        .json(&json!({ "public_status": true, "name": "Web shop" }))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), 200);

    // Anonymous: the page renders and its data holds the opted-in service only.
    let page = crate::helpers::raw_get(app.addr, "/status", "").await;
    assert_eq!(page.status, 200, "{}", page.head);
    let data = public_data(&app).await;
    assert_eq!(data.status, 200, "{}", data.body);
    let body: Value = serde_json::from_str(&data.body).expect("json");
    assert_eq!(body["status"], "down");
    let services = body["services"].as_array().expect("services");
    assert_eq!(services.len(), 1);
    assert_eq!(
        (services[0]["name"].as_str(), services[0]["state"].as_str()),
        (Some("Web shop"), Some("down"))
    );
    assert_eq!(services[0]["days"].as_array().map(Vec::len), Some(90));
    // The probe's answer (status 503) as text or as a value; a timestamp's
    // digits may contain "503" by chance.
    for secret in [
        addr.to_string().as_str(),
        "status 503",
        ":503,",
        ":503}",
        "internal-crm",
        "10.1.2.3",
        "health",
    ] {
        assert!(
            !data.body.contains(secret),
            "the public page shows `{secret}`: {}",
            data.body
        );
    }
}

#[tokio::test]
async fn without_the_setting_there_is_no_public_status_page() {
    let app = spawn_app().await;
    let data = public_data(&app).await;
    assert_eq!(data.status, 404);
}

/// The public status page's data, fetched anonymously as its script does.
async fn public_data(app: &TestApp) -> crate::helpers::RawResponse {
    let path = format!("{}?", crate::helpers::rpc("get_public_status"));
    crate::helpers::raw_http(
        app.addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nConnection: close\r\n\r\n", app.addr),
    )
    .await
}
