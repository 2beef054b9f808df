//! Sessions, roles, rate limits, same-origin checks, security headers,
//! privacy, and the authorization matrix over every route and server
//! function.

use std::collections::BTreeMap;

use app::auth::Role;
use app::keys::Scope;
use reqwest::header;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, db_url, raw_client, rpc, rpc_names, run_cli, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn an_empty_installation_sends_everyone_to_setup_and_setup_makes_the_first_admin() {
    let app = spawn_app().await;
    let res = raw_client()
        .get(app.url("/"))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/setup");

    let res = app
        .call(
            None,
            "setup",
            &[
                ("email", "Ops@Example.com"),
                ("name", "Ops"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(
        res.status().is_redirection() || res.status().is_success(),
        "{}",
        res.status()
    );
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag");

    // A second setup is refused; the page redirects to sign-in.
    let again = app
        .call(
            None,
            "setup",
            &[
                ("email", "x@example.com"),
                ("name", ""),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status(), 409);
    let res = raw_client()
        .get(app.url("/setup"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.headers()[header::LOCATION], "/login");
    let role: String = sqlx::query_scalar("select role from users where email = 'ops@example.com'")
        .fetch_one(&app.pool)
        .await
        .expect("admin");
    assert_eq!(role, "admin");
}

#[tokio::test]
async fn sessions_live_on_the_server_and_logout_ends_them() {
    let app = spawn_app().await;
    app.add_user("viewer@example.com", Role::Viewer).await;
    let unauthenticated = raw_client()
        .get(app.url("/events?level=error"))
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("sent");
    assert_eq!(unauthenticated.status(), 303);
    assert_eq!(
        unauthenticated.headers()[header::LOCATION],
        "/login?next=%2Fevents%3Flevel%3Derror"
    );

    let session = app.session("viewer@example.com").await;
    let page = raw_client()
        .get(app.url("/"))
        .header(header::COOKIE, &session.cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(page.status(), 200);

    let stored: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(stored, 1);
    let token = session
        .cookie
        .split_once('=')
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default();
    let raw_token_stored: bool = sqlx::query_scalar(
        "select exists (select 1 from sessions where token_sha256 = convert_to($1, 'UTF8'))",
    )
    .bind(&token)
    .fetch_one(&app.pool)
    .await
    .expect("query");
    assert!(!raw_token_stored, "only a hash of the token is stored");

    let out = app.call(Some(&session), "logout", &[]).await;
    assert!(out.status().is_redirection() || out.status().is_success());
    let after = raw_client()
        .get(app.url("/"))
        .header(header::COOKIE, &session.cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(after.status(), 401, "the old cookie no longer works");
    let audited: Vec<String> = sqlx::query_scalar("select action from audit_log order by id")
        .fetch_all(&app.pool)
        .await
        .expect("audit");
    assert_eq!(audited, vec!["auth.login", "auth.logout"]);
}

#[tokio::test]
async fn idle_and_expired_sessions_end() {
    let app = spawn_app().await;
    app.add_user("a@example.com", Role::Viewer).await;
    let idle = app.session("a@example.com").await;
    sqlx::query("update sessions set last_seen_at = now() - interval '13 hours'")
        .execute(&app.pool)
        .await
        .expect("age");
    let res = raw_client()
        .get(app.url("/"))
        .header(header::COOKIE, &idle.cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 401, "idle for longer than 12 h");

    let old = app.session("a@example.com").await;
    sqlx::query("update sessions set expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .expect("expire");
    let res = raw_client()
        .get(app.url("/"))
        .header(header::COOKIE, &old.cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 401, "past the absolute expiry");
}

#[tokio::test]
async fn brute_force_logins_get_429_with_growing_delays_but_other_addresses_do_not() {
    let app = spawn_app_with(|s| s.limits.auth_failures_per_minute = 5).await;
    app.add_user("ops@example.com", Role::Admin).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            app.login("ops@example.com", "wrong password!")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429, 429]);
    let locked = app.login("ops@example.com", PASSWORD).await;
    assert_eq!(
        locked.status(),
        429,
        "even the right password waits while locked"
    );
    let retry: u64 = locked.headers()[header::RETRY_AFTER]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=60).contains(&retry), "{retry}");
    let failed: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'auth.login_failed'")
            .fetch_one(&app.pool)
            .await
            .expect("audit");
    assert_eq!(
        failed, 5,
        "only the checked attempts are audited as failed; the refused ones were never checked"
    );

    // API keys are counted per presented key: the locked sign-ins do not
    // touch them, and a valid key from this address works.
    let fake = "lst_AAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    let res = app.post_events(fake, &json!({ "service": "s" })).await;
    assert_eq!(res.status(), 401);
    let key = app.ingest_key().await;
    assert_eq!(
        app.post_events(&key, &json!({ "service": "s" }))
            .await
            .status(),
        202
    );

    // The limiter is per address: the same account from elsewhere is fine.
    let limiter = &app.state.auth_failures;
    let other = app::auth::limiter::login_keys("198.51.100.7".parse().ok(), "ops@example.com");
    assert!(limiter.reserve(&other, std::time::Instant::now()).is_ok());
}

#[tokio::test]
async fn cross_origin_state_changes_are_refused() {
    let app = spawn_app().await;
    app.add_user("ops@example.com", Role::Admin).await;
    let session = app.session("ops@example.com").await;
    for origin in [Some("http://evil.example"), Some("null"), None] {
        let mut req = raw_client()
            .post(app.url(&rpc("create_key")))
            .header(header::COOKIE, &session.cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(r#"{"name":"x","scopes":["admin"],"service":null}"#);
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        let res = req.send().await.expect("sent");
        assert_eq!(res.status(), 403, "origin {origin:?}");
    }
    let keys: i64 = sqlx::query_scalar("select count(*) from api_keys")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(keys, 0, "nothing was created");
    // The same request from our own origin works.
    let res = raw_client()
        .post(app.url(&rpc("create_key")))
        .header(header::COOKIE, &session.cookie)
        .header(header::ORIGIN, app.origin())
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"name":"x","scopes":["admin"],"service":null}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn security_headers_are_on_pages_api_and_static_files() {
    let site = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg");
    std::fs::write(site.path().join("pkg/leitstand.css"), "body{}").expect("css");
    let root = site.path().to_path_buf();
    let app = spawn_app_with(move |s| s.http.site_root = Some(root)).await;
    app.add_user("v@example.com", Role::Viewer).await;
    let session = app.session("v@example.com").await;

    let page = raw_client()
        .get(app.url("/"))
        .header(header::COOKIE, &session.cookie)
        .send()
        .await
        .expect("page");
    let html_csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    let body = page.text().await.expect("html");
    let nonce = html_csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("the page policy names a nonce");
    assert!(
        body.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
    assert!(
        !html_csp.contains("'unsafe-inline'")
            || html_csp.contains("style-src 'self' 'unsafe-inline'")
    );
    assert!(html_csp.contains("frame-ancestors 'none'"));

    let key = app.key(&[Scope::Read], None).await;
    let api = app
        .client
        .get(app.url("/api/v1/dashboard"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("api");
    let file = app.get("/pkg/leitstand.css").await;
    assert_eq!(file.status(), 200);
    for (what, res) in [("api", &api), ("static file", &file)] {
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(h["x-frame-options"], "DENY", "{what}");
        assert_eq!(
            h["referrer-policy"], "strict-origin-when-cross-origin",
            "{what}"
        );
        assert!(
            h["permissions-policy"]
                .to_str()
                .unwrap_or_default()
                .contains("camera=()"),
            "{what}"
        );
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap_or_default()
                .contains("default-src 'none'"),
            "{what}"
        );
        assert!(
            !h.contains_key("strict-transport-security"),
            "{what}: no HSTS over plain HTTP"
        );
    }
}

#[tokio::test]
async fn behind_an_https_proxy_cookies_are_secure_and_hsts_is_sent() {
    let app = spawn_app_with(|s| s.http.trust_proxy = true).await;
    app.add_user("a@example.com", Role::Viewer).await;
    let res = raw_client()
        .post(app.url(&rpc("login")))
        .header("x-forwarded-proto", "https")
        .header(header::ORIGIN, app.origin().replace("http://", "https://"))
        .form(&[
            ("email", "a@example.com"),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("sent");
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(res.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn user_data_is_exported_and_erased_with_every_figure_adjusted() {
    let app = spawn_app().await;
    let key = app
        .key(&[Scope::Ingest, Scope::Read, Scope::Admin], None)
        .await;
    let events = json!([
        { "service": "shop", "feature": "cart", "level": "error", "message": "cart 1 lost", "user": "alice" },
        { "service": "shop", "feature": "cart", "level": "error", "message": "cart 2 lost", "user": "bob" },
        { "service": "shop", "feature": "cart", "message": "ok", "user": "alice", "attributes": { "password": "pw" } },
        { "service": "shop", "feature": "cart", "message": "ok", "user": "bob" },
        { "service": "shop", "feature": "cart", "message": "anonymous" }
    ]);
    assert_eq!(app.post_events(&key, &events).await.status(), 202);

    let export: Value = app
        .get_as("/api/v1/privacy/users/alice/events", &key)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(export["events"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        export["events"][1]["attributes"]["password"], "[Filtered]",
        "secrets were never stored"
    );

    let erased: Value = app
        .delete_as("/api/v1/privacy/users/alice/events", &key)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(erased, json!({ "erased": 2 }));

    // Rollups equal a recount of what is left.
    let (rolled, errors): (i64, i64) =
        sqlx::query_as("select sum(events)::int8, sum(error)::int8 from event_rollups_daily")
            .fetch_one(&app.pool)
            .await
            .expect("sums");
    let (left, left_errors): (i64, i64) =
        sqlx::query_as("select count(*), count(*) filter (where level >= 3) from events")
            .fetch_one(&app.pool)
            .await
            .expect("recount");
    assert_eq!((rolled, errors), (left, left_errors));
    assert_eq!(left, 3);
    let groups: (i64, i64) = sqlx::query_as(
        "select sum(event_count)::int8, sum(users_affected)::int8 from error_groups",
    )
    .fetch_one(&app.pool)
    .await
    .expect("groups");
    assert_eq!(groups, (1, 1), "bob's error and bob remain");
    let d = app.get_dashboard(&key, "").await;
    assert_eq!(d["kpis"]["events"], 3);
    assert_eq!(d["kpis"]["errors"], 1);

    let again: Value = app
        .get_as("/api/v1/privacy/users/alice/events", &key)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["events"], json!([]));
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action like 'privacy.%'")
            .fetch_one(&app.pool)
            .await
            .expect("audit");
    assert_eq!(audited, 3);

    // The same from the command line.
    let (ok, out, err) = run_cli(
        &db_url(&app.db_name),
        &["privacy", "export", "--user", "bob"],
    )
    .await;
    assert!(ok, "{err}");
    let cli_export: Value = serde_json::from_str(&out).expect("json on stdout");
    assert_eq!(cli_export["events"].as_array().map(Vec::len), Some(2));
    let (ok, out, _) = run_cli(
        &db_url(&app.db_name),
        &["privacy", "erase", "--user", "bob"],
    )
    .await;
    assert!(ok && out.contains("erased 2"), "{out}");
}

#[tokio::test]
async fn user_add_reads_the_password_from_stdin() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    // Awaited: the server in this test's runtime goes on meanwhile.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_leitstand"))
        .args([
            "user",
            "add",
            "--email",
            "root@example.com",
            "--role",
            "admin",
        ])
        .env("DATABASE_URL", db_url(&app.db_name))
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .await
        .expect("write");
    drop(stdin);
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        child.wait_with_output(),
    )
    .await
    .expect("user add finishes")
    .expect("done");
    assert!(out.status.success());
    let res = app.login("root@example.com", PASSWORD).await;
    assert!(res.status().is_redirection() || res.status().is_success());
}

/// Who may call what. A route or server function without an entry here
/// fails the matrix test, so none can be added unguarded by accident.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Needs {
    Public,
    /// No key: a secret in the path is the credential (404 when unknown).
    Secret,
    /// A service's Sentry DSN key (401 without one).
    DsnKey,
    AtLeast(Role),
    Key(Scope),
}

fn rpc_expectations() -> BTreeMap<&'static str, (Needs, &'static str)> {
    use Needs::*;
    // (needs, form body or "json:<body>" or "get:<query>")
    BTreeMap::from([
        ("me", (Public, "get:")),
        ("get_public_status", (Public, "get:")),
        ("services_overview", (AtLeast(Role::Viewer), "get:")),
        (
            "get_service_detail",
            (AtLeast(Role::Viewer), "get:slug=shop&range=24h"),
        ),
        (
            "save_probe",
            (
                AtLeast(Role::Admin),
                "json:{\"slug\":\"shop\",\"id\":null,\"spec\":{\"kind\":\"tcp\",\"host\":\"db\",\"port\":5432}}",
            ),
        ),
        (
            "remove_probe",
            (
                AtLeast(Role::Admin),
                "json:{\"slug\":\"shop\",\"id\":999999}",
            ),
        ),
        (
            "save_service_settings",
            (
                AtLeast(Role::Admin),
                "json:{\"slug\":\"shop\",\"targets\":{\"p95_ms\":100,\"error_rate_percent\":0.5,\"uptime_percent\":99.9,\"dead_letters\":0},\"public_status\":false}",
            ),
        ),
        (
            "add_maintenance",
            (
                AtLeast(Role::Operator),
                "json:{\"window\":{\"title\":\"t\",\"starts_at\":\"2026-01-01T00:00:00Z\",\"ends_at\":\"2026-01-01T01:00:00Z\"}}",
            ),
        ),
        (
            "remove_maintenance",
            (AtLeast(Role::Operator), "json:{\"id\":999999}"),
        ),
        ("needs_setup", (Public, "get:")),
        (
            "setup",
            (
                Public,
                "email=x%40example.com&name=&password=correct%20horse%20battery",
            ),
        ),
        ("login", (Public, "")),
        ("logout", (AtLeast(Role::Viewer), "")),
        (
            "get_dashboard_parts",
            (AtLeast(Role::Viewer), "get:query[range]=30d"),
        ),
        ("onboarding_info", (AtLeast(Role::Viewer), "get:")),
        ("create_first_key", (AtLeast(Role::Admin), "")),
        ("load_demo", (AtLeast(Role::Admin), "")),
        ("recent_events", (AtLeast(Role::Viewer), "get:")),
        (
            "search_events",
            (AtLeast(Role::Viewer), "get:query[range]=24h"),
        ),
        (
            "get_event",
            (
                AtLeast(Role::Viewer),
                "get:id=00000000-0000-0000-0000-000000000000",
            ),
        ),
        ("event_facets", (AtLeast(Role::Viewer), "get:")),
        ("list_users", (AtLeast(Role::Admin), "get:")),
        (
            "add_user",
            (
                AtLeast(Role::Admin),
                "email=new%40example.com&name=&password=correct%20horse%20battery&role=viewer",
            ),
        ),
        (
            "change_user",
            (
                AtLeast(Role::Admin),
                "json:{\"id\":999999,\"change\":{\"Disabled\":false}}",
            ),
        ),
        ("list_keys", (AtLeast(Role::Admin), "get:")),
        (
            "create_key",
            (
                AtLeast(Role::Admin),
                "json:{\"name\":\"m\",\"scopes\":[\"read\"],\"service\":null}",
            ),
        ),
        (
            "revoke_key",
            (AtLeast(Role::Admin), "json:{\"prefix\":\"lst_nothere\"}"),
        ),
        (
            "list_error_groups",
            (AtLeast(Role::Viewer), "get:query[sort]=last_seen"),
        ),
        ("get_error_group", (AtLeast(Role::Viewer), "get:id=1")),
        (
            "change_error_groups",
            (
                AtLeast(Role::Operator),
                "json:{\"ids\":[1],\"action\":\"resolve\"}",
            ),
        ),
        ("get_releases", (AtLeast(Role::Viewer), "get:service=shop")),
        (
            "get_service_dsn",
            (AtLeast(Role::Viewer), "get:service=shop"),
        ),
        ("rotate_service_dsn", (AtLeast(Role::Admin), "service=shop")),
        (
            "set_service_origins",
            (
                AtLeast(Role::Admin),
                "service=shop&origins=https://a.example",
            ),
        ),
        (
            "audit_entries",
            (AtLeast(Role::Admin), "get:query[range]=24h"),
        ),
        ("list_backups", (AtLeast(Role::Viewer), "get:")),
        ("get_backup_health", (AtLeast(Role::Viewer), "get:")),
        ("create_backup", (AtLeast(Role::Operator), "json:{}")),
        (
            "verify_backup",
            (AtLeast(Role::Operator), "json:{\"id\":999999}"),
        ),
        (
            "delete_backup",
            (AtLeast(Role::Admin), "json:{\"id\":999999}"),
        ),
        (
            "restore_backup",
            (
                AtLeast(Role::Admin),
                "json:{\"id\":999999,\"confirm\":\"x\"}",
            ),
        ),
        (
            "count_user_events",
            (AtLeast(Role::Admin), "get:user=nobody"),
        ),
        (
            "erase_user_events",
            (
                AtLeast(Role::Admin),
                "json:{\"user\":\"nobody\",\"confirm\":\"nobody\"}",
            ),
        ),
        ("get_alerts_overview", (AtLeast(Role::Admin), "get:")),
        ("dead_letter_count", (AtLeast(Role::Viewer), "get:")),
        (
            "create_alert_channel",
            (
                AtLeast(Role::Admin),
                "json:{\"spec\":{\"kind\":\"webhook\",\"name\":\"m\",\"url\":\"https://hooks.example/x\"}}",
            ),
        ),
        (
            "delete_alert_channel",
            (AtLeast(Role::Admin), "json:{\"id\":999999}"),
        ),
        (
            "rotate_alert_channel_secret",
            (AtLeast(Role::Admin), "json:{\"id\":999999}"),
        ),
        (
            "set_alert_channel_enabled",
            (
                AtLeast(Role::Admin),
                "json:{\"id\":999999,\"enabled\":true}",
            ),
        ),
        (
            "send_alert_test",
            (AtLeast(Role::Admin), "json:{\"id\":999999}"),
        ),
        (
            "create_alert_rule",
            (
                AtLeast(Role::Admin),
                "json:{\"spec\":{\"name\":\"m\",\"kind\":\"critical_event\",\"channels\":[999999]}}",
            ),
        ),
        (
            "set_alert_rule_enabled",
            (
                AtLeast(Role::Admin),
                "json:{\"id\":999999,\"enabled\":true}",
            ),
        ),
        (
            "delete_alert_rule",
            (AtLeast(Role::Admin), "json:{\"id\":999999}"),
        ),
        (
            "create_event_subscription",
            (
                AtLeast(Role::Admin),
                "json:{\"form\":{\"name\":\"m\",\"url\":\"https://hooks.example/x\"}}",
            ),
        ),
        (
            "delete_event_subscription",
            (AtLeast(Role::Admin), "json:{\"id\":999999}"),
        ),
        (
            "rotate_event_subscription_secret",
            (AtLeast(Role::Admin), "json:{\"id\":999999}"),
        ),
        (
            "set_event_subscription_enabled",
            (
                AtLeast(Role::Admin),
                "json:{\"id\":999999,\"enabled\":true}",
            ),
        ),
        (
            "replay_dead_letters",
            (AtLeast(Role::Admin), "json:{\"id\":null}"),
        ),
        (
            "discard_dead_letter",
            (
                AtLeast(Role::Admin),
                "json:{\"id\":\"00000000-0000-0000-0000-000000000000\"}",
            ),
        ),
        ("get_retention", (AtLeast(Role::Admin), "get:")),
        (
            "save_retention",
            (
                AtLeast(Role::Admin),
                "json:{\"policy\":{\"events_days\":90,\"probe_results_days\":90,\"deliveries_days\":30,\"audit_days\":365}}",
            ),
        ),
        (
            "run_retention",
            (AtLeast(Role::Admin), "json:{\"dry_run\":false}"),
        ),
    ])
}

fn rest_expectations() -> BTreeMap<(&'static str, &'static str), Needs> {
    use Needs::*;
    BTreeMap::from([
        (("GET", "/healthz"), Public),
        (("GET", "/readyz"), Public),
        (("GET", "/api/openapi.json"), Public),
        (("GET", "/api/docs"), Public),
        (("GET", "/api/docs.css"), Public),
        (("GET", "/metrics"), Key(app::keys::Scope::Metrics)),
        (("POST", "/api/v1/events"), Key(app::keys::Scope::Ingest)),
        (("GET", "/api/v1/dashboard"), Key(app::keys::Scope::Read)),
        (("GET", "/api/v1/export"), Key(app::keys::Scope::Read)),
        (("GET", "/api/v1/stream"), Key(app::keys::Scope::Read)),
        (
            ("GET", "/api/v1/privacy/users/{user}/events"),
            Key(app::keys::Scope::Admin),
        ),
        (
            ("DELETE", "/api/v1/privacy/users/{user}/events"),
            Key(app::keys::Scope::Admin),
        ),
        (("GET", "/api/v1/backups"), Key(app::keys::Scope::Backup)),
        (("POST", "/api/v1/backups"), Key(app::keys::Scope::Backup)),
        (
            ("GET", "/api/v1/backups/{id}/download"),
            Key(app::keys::Scope::Admin),
        ),
        (
            ("POST", "/api/v1/backups/{id}/verify"),
            Key(app::keys::Scope::Backup),
        ),
        (
            ("POST", "/api/v1/backups/{id}/restore"),
            Key(app::keys::Scope::Admin),
        ),
        (
            ("POST", "/api/v1/backups/restore"),
            Key(app::keys::Scope::Admin),
        ),
        (
            ("DELETE", "/api/v1/backups/{id}"),
            Key(app::keys::Scope::Admin),
        ),
        (("GET", "/api/v1/services"), Key(Scope::Read)),
        (("GET", "/api/v1/services/{slug}"), Key(Scope::Read)),
        (("PATCH", "/api/v1/services/{slug}"), Key(Scope::Admin)),
        (("GET", "/api/v1/services/{slug}/probes"), Key(Scope::Admin)),
        (
            ("POST", "/api/v1/services/{slug}/probes"),
            Key(Scope::Admin),
        ),
        (
            ("GET", "/api/v1/services/{slug}/probes/{id}"),
            Key(Scope::Admin),
        ),
        (
            ("PATCH", "/api/v1/services/{slug}/probes/{id}"),
            Key(Scope::Admin),
        ),
        (
            ("DELETE", "/api/v1/services/{slug}/probes/{id}"),
            Key(Scope::Admin),
        ),
        (("GET", "/api/v1/heartbeat/{token}"), Secret),
        (("POST", "/api/v1/heartbeat/{token}"), Secret),
        (("GET", "/api/v1/heartbeat/{token}/fail"), Secret),
        (("POST", "/api/v1/heartbeat/{token}/fail"), Secret),
        (("GET", "/api/v1/maintenance"), Key(Scope::Admin)),
        (("POST", "/api/v1/maintenance"), Key(Scope::Admin)),
        (("DELETE", "/api/v1/maintenance/{id}"), Key(Scope::Admin)),
        (("GET", "/api/v1/system/status"), Key(Scope::Read)),
        (("GET", "/api/v1/alert-channels"), Key(Scope::Admin)),
        (("POST", "/api/v1/alert-channels"), Key(Scope::Admin)),
        (("GET", "/api/v1/alert-channels/{id}"), Key(Scope::Admin)),
        (("DELETE", "/api/v1/alert-channels/{id}"), Key(Scope::Admin)),
        (
            ("POST", "/api/v1/alert-channels/{id}/test"),
            Key(Scope::Admin),
        ),
        (
            ("POST", "/api/v1/alert-channels/{id}/rotate-secret"),
            Key(Scope::Admin),
        ),
        (
            ("POST", "/api/v1/alert-channels/{id}/enable"),
            Key(Scope::Admin),
        ),
        (
            ("POST", "/api/v1/alert-channels/{id}/disable"),
            Key(Scope::Admin),
        ),
        (("GET", "/api/v1/alert-rules"), Key(Scope::Admin)),
        (("POST", "/api/v1/alert-rules"), Key(Scope::Admin)),
        (("GET", "/api/v1/alert-rules/{id}"), Key(Scope::Admin)),
        (("PUT", "/api/v1/alert-rules/{id}"), Key(Scope::Admin)),
        (("DELETE", "/api/v1/alert-rules/{id}"), Key(Scope::Admin)),
        (
            ("POST", "/api/v1/alert-rules/{id}/enable"),
            Key(Scope::Admin),
        ),
        (
            ("POST", "/api/v1/alert-rules/{id}/disable"),
            Key(Scope::Admin),
        ),
        (("GET", "/api/v1/event-subscriptions"), Key(Scope::Admin)),
        (("POST", "/api/v1/event-subscriptions"), Key(Scope::Admin)),
        (
            ("DELETE", "/api/v1/event-subscriptions/{id}"),
            Key(Scope::Admin),
        ),
        (
            ("POST", "/api/v1/event-subscriptions/{id}/rotate-secret"),
            Key(Scope::Admin),
        ),
        (
            ("POST", "/api/v1/event-subscriptions/{id}/enable"),
            Key(Scope::Admin),
        ),
        (
            ("POST", "/api/v1/event-subscriptions/{id}/disable"),
            Key(Scope::Admin),
        ),
        (("GET", "/api/v1/dead-letters"), Key(Scope::Admin)),
        (("POST", "/api/v1/dead-letters/replay"), Key(Scope::Admin)),
        (
            ("POST", "/api/v1/dead-letters/{id}/replay"),
            Key(Scope::Admin),
        ),
        (("DELETE", "/api/v1/dead-letters/{id}"), Key(Scope::Admin)),
        (("GET", "/api/v1/deliveries/{id}"), Key(Scope::Admin)),
        (("GET", "/api/v1/retention"), Key(Scope::Admin)),
        (("POST", "/api/{project_id}/envelope/"), DsnKey),
        (("GET", "/api/v1/sentry/stats"), Key(Scope::Read)),
        (("POST", "/api/{project_id}/envelope"), DsnKey),
        (("POST", "/api/{project_id}/store/"), DsnKey),
        (("POST", "/api/{project_id}/store"), DsnKey),
        (
            ("POST", "/api/v1/services/{slug}/dsn/rotate"),
            Key(Scope::Admin),
        ),
        (("GET", "/api/v1/error-groups"), Key(Scope::Read)),
        (("GET", "/api/v1/error-groups/{id}"), Key(Scope::Read)),
        (("PATCH", "/api/v1/error-groups/{id}"), Key(Scope::Errors)),
        (("PUT", "/api/v1/retention"), Key(Scope::Admin)),
        (("POST", "/api/v1/retention/run"), Key(Scope::Admin)),
        (("GET", "/backups/{id}/download"), AtLeast(Role::Admin)),
        (("POST", "/backups/upload"), AtLeast(Role::Admin)),
        (("GET", "/export/dashboard"), AtLeast(Role::Viewer)),
        (("GET", "/live/stream"), AtLeast(Role::Viewer)),
        (("GET", "/privacy/export"), AtLeast(Role::Admin)),
    ])
}

/// (method, path) of every operation of the OpenAPI document (every API
/// route is registered from it) and of every `.route(...)` in the API
/// sources (the UI's downloads and streams).
fn declared_routes() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut out = Vec::new();
    let doc = serde_json::to_value(server::api::openapi()).expect("document");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    for entry in std::fs::read_dir(&dir).expect("api dir") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
        let mut rest = text.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + 7..];
            let Some(path) = rest.split('"').nth(1) else {
                continue;
            };
            let call_end = rest
                .find("\n        .")
                .unwrap_or(rest.len())
                .min(rest.find(");\n").unwrap_or(rest.len()))
                .min(rest.find("\n}").unwrap_or(rest.len()));
            let call = &rest[..call_end];
            for (needle, method) in [
                ("get(", "GET"),
                ("post(", "POST"),
                ("delete(", "DELETE"),
                ("put(", "PUT"),
                ("patch(", "PATCH"),
            ] {
                if call.contains(needle) {
                    out.push((method.to_owned(), path.to_owned()));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn every_route_and_server_function_has_an_authorization_rule() {
    let rpc = rpc_expectations();
    let missing: Vec<String> = rpc_names()
        .into_iter()
        .filter(|n| !rpc.contains_key(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "server functions without an authorization rule: {missing:?}"
    );
    let rest = rest_expectations();
    let missing: Vec<(String, String)> = declared_routes()
        .into_iter()
        .filter(|(m, p)| !rest.contains_key(&(m.as_str(), p.as_str())))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without an authorization rule: {missing:?}"
    );
}

/// The scope the OpenAPI document names for each operation is the one the
/// matrix (and so the server) enforces, and routes documented as needing no
/// key are the public, secret or DSN-key ones.
#[test]
fn the_documented_scopes_are_the_enforced_ones() {
    let doc = serde_json::to_value(server::api::openapi()).expect("document");
    let rest = rest_expectations();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else {
                continue;
            };
            let upper = method.to_uppercase();
            let needs = rest
                .get(&(upper.as_str(), path.as_str()))
                .unwrap_or_else(|| panic!("{upper} {path} has no authorization rule"));
            let documented: Vec<&str> = op["security"][0]["api_key"]
                .as_array()
                .map(|s| s.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            match needs {
                Needs::Key(scope) => assert_eq!(
                    documented,
                    vec![scope.as_str()],
                    "{upper} {path}: documented scope"
                ),
                Needs::Public | Needs::Secret | Needs::DsnKey => assert!(
                    op.get("security").is_none(),
                    "{upper} {path} is documented as needing a key"
                ),
                Needs::AtLeast(_) => panic!("{upper} {path}: a session route in the API document"),
            }
        }
    }
}

#[tokio::test]
async fn the_authorization_matrix_holds() {
    let app = spawn_app().await;
    for (email, role) in [
        ("viewer@example.com", Role::Viewer),
        ("operator@example.com", Role::Operator),
        ("admin@example.com", Role::Admin),
    ] {
        app.add_user(email, role).await;
    }
    let viewer = app.session("viewer@example.com").await;
    let operator = app.session("operator@example.com").await;
    let admin = app.session("admin@example.com").await;
    // An event, so demo loading answers 409 quickly instead of loading.
    let seed_key = app.key(&[Scope::Ingest], None).await;
    app.post_events(&seed_key, &json!({ "service": "shop" }))
        .await;

    // Server functions: anonymous, then each role, lowest first.
    for (name, (needs, body)) in rpc_expectations() {
        for (who, session) in [
            ("anonymous", None),
            ("viewer", Some(&viewer)),
            ("operator", Some(&operator)),
            ("admin", Some(&admin)),
        ] {
            if name == "logout" || name == "login" {
                continue; // signing out would end the session the next rows use; login answers 401 by design
            }
            let url = app.url(&rpc(name));
            let client = raw_client();
            let mut req = if let Some(q) = body.strip_prefix("get:") {
                client.get(format!("{url}?{q}"))
            } else if let Some(json) = body.strip_prefix("json:") {
                client
                    .post(&url)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(json.to_owned())
            } else {
                client
                    .post(&url)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body.to_owned())
            };
            req = req.header(header::ORIGIN, app.origin());
            if let Some(s) = session {
                req = req.header(header::COOKIE, &s.cookie);
            }
            let status = req.send().await.expect("sent").status().as_u16();
            let role = match who {
                "viewer" => Some(Role::Viewer),
                "operator" => Some(Role::Operator),
                "admin" => Some(Role::Admin),
                _ => None,
            };
            match (needs, role) {
                (Needs::Public, _) => {
                    assert!(status != 401 && status != 403, "{name} as {who}: {status}")
                }
                (Needs::AtLeast(_), None) => assert_eq!(status, 401, "{name} as {who}"),
                (Needs::AtLeast(min), Some(r)) if !r.allows(min) => {
                    assert_eq!(status, 403, "{name} as {who}")
                }
                (Needs::AtLeast(_), Some(_)) => {
                    assert!(status != 401 && status != 403, "{name} as {who}: {status}")
                }
                (Needs::Key(_) | Needs::Secret | Needs::DsnKey, _) => unreachable!(),
            }
        }
    }

    // REST routes with each key scope; UI routes with each role.
    let mut keys: Vec<(Scope, String)> = Vec::new();
    for s in Scope::ALL {
        keys.push((s, app.key(&[s], None).await));
    }
    for ((method, path), needs) in rest_expectations() {
        let concrete = path
            .replace("{user}", "nobody")
            .replace("{id}", "999999")
            .replace("{slug}", "shop")
            .replace("{token}", "nosuchtoken")
            .replace("{project_id}", "1");
        let send = |auth: Option<(&str, String)>| {
            let mut req = raw_client()
                .request(method.parse().expect("method"), app.url(&concrete))
                .header(header::ORIGIN, app.origin());
            if method == "POST" {
                req = req.json(&json!({ "service": "shop" }));
            }
            if let Some((name, value)) = auth {
                req = req.header(name, value);
            }
            async move {
                let res = req.send().await.expect("sent");
                res.status().as_u16()
            }
        };
        match needs {
            Needs::Public => assert_eq!(send(None).await, 200, "{method} {path}"),
            Needs::Secret => assert_eq!(
                send(None).await,
                404,
                "{method} {path} with an unknown secret"
            ),
            Needs::DsnKey => assert_eq!(send(None).await, 401, "{method} {path} without a key"),
            Needs::Key(scope) => {
                assert_eq!(send(None).await, 401, "{method} {path} anonymous");
                for (have, key) in &keys {
                    let status = send(Some(("authorization", format!("Bearer {key}")))).await;
                    let allowed = *have == Scope::Admin || *have == scope;
                    if allowed {
                        assert!(
                            status != 401 && status != 403,
                            "{method} {path} with {have}: {status}"
                        );
                    } else {
                        assert_eq!(status, 403, "{method} {path} with {have}");
                    }
                }
            }
            Needs::AtLeast(min) => {
                assert_eq!(send(None).await, 401, "{method} {path} anonymous");
                for (role, s) in [
                    (Role::Viewer, &viewer),
                    (Role::Operator, &operator),
                    (Role::Admin, &admin),
                ] {
                    let status = send(Some(("cookie", s.cookie.clone()))).await;
                    if role.allows(min) {
                        assert!(
                            status != 401 && status != 403,
                            "{method} {path} as {role}: {status}"
                        );
                    } else {
                        assert_eq!(status, 403, "{method} {path} as {role}");
                    }
                }
            }
        }
    }
}

/// A raw request (no client normalises the path) with a cookie and a key.
async fn with_cookie_and_key(
    app: &crate::helpers::TestApp,
    method: &str,
    path: &str,
    cookie: &str,
    key: &str,
) -> crate::helpers::RawResponse {
    crate::helpers::raw_http(
        app.addr,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
             Cookie: {cookie}\r\nAuthorization: Bearer {key}\r\nAccept: text/html\r\n\
             Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}",
            addr = app.addr
        ),
    )
    .await
}

#[tokio::test]
async fn path_variants_and_mixed_credentials_never_widen_access() {
    let app = spawn_app().await;
    app.add_user("viewer@example.com", Role::Viewer).await;
    app.add_user("admin@example.com", Role::Admin).await;
    let viewer = app.session("viewer@example.com").await;
    let admin = app.session("admin@example.com").await;
    let admin_key = app.key(&[Scope::Admin], None).await;
    let ingest_key = app.key(&[Scope::Ingest], None).await;
    let read_key = app.key(&[Scope::Read], None).await;

    // Server functions above a viewer: a viewer's session with an admin key
    // beside it, under every path variant, is never let through.
    for (name, (needs, _)) in rpc_expectations() {
        let Needs::AtLeast(min) = needs else { continue };
        if Role::Viewer.allows(min) {
            continue;
        }
        for variant in crate::helpers::path_variants(&rpc(name)) {
            for method in ["GET", "POST"] {
                let res =
                    with_cookie_and_key(&app, method, &variant, &viewer.cookie, &admin_key).await;
                assert!(
                    !(200..300).contains(&res.status),
                    "{method} {variant} as a viewer with an admin key: {}",
                    res.status
                );
            }
        }
    }

    // REST routes: a key without the scope, with an admin's session beside
    // it, under every path variant, is never let through.
    for ((method, path), needs) in rest_expectations() {
        let Needs::Key(scope) = needs else { continue };
        let weak = if scope == Scope::Ingest {
            &read_key
        } else {
            &ingest_key
        };
        let concrete = path
            .replace("{user}", "nobody")
            .replace("{id}", "999999")
            .replace("{slug}", "shop");
        for variant in crate::helpers::path_variants(&concrete) {
            let res = with_cookie_and_key(&app, method, &variant, &admin.cookie, weak).await;
            assert!(
                !(200..300).contains(&res.status),
                "{method} {variant} with a key lacking `{scope}` and an admin session: {}",
                res.status
            );
        }
    }
}

#[tokio::test]
async fn over_the_per_address_limit_requests_get_a_json_429() {
    let app = spawn_app_with(|s| s.limits.rate_limit_per_ip = 1).await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..15 {
        let res = app.get("/healthz").await;
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            last = Some(res);
        }
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses[0], 200, "the burst allows the first requests");
    let res = last.expect("a 429");
    assert!(res.headers().contains_key(header::RETRY_AFTER));
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limited");
    // Ingest is limited per key, not per address.
    let key = app.ingest_key().await;
    assert_eq!(
        app.post_events(&key, &json!({ "service": "s" }))
            .await
            .status(),
        202
    );
}

#[tokio::test]
async fn exports_are_limited_per_key() {
    let app = spawn_app_with(|s| s.limits.exports_per_minute = 3).await;
    let key = app.key(&[Scope::Read], None).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let res = app.get_as("/api/v1/export?format=csv", &key).await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 200, 429]);
}

#[tokio::test]
async fn ingest_is_limited_per_key() {
    let app = spawn_app_with(|s| s.limits.ingest_rate_per_key = 1).await;
    let key = app.ingest_key().await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            app.post_events(&key, &json!({ "service": "s" }))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(&statuses[..2], &[202, 202], "a burst of two");
    assert!(statuses[2..].contains(&429), "{statuses:?}");
    let other = app.ingest_key().await;
    assert_eq!(
        app.post_events(&other, &json!({ "service": "s" }))
            .await
            .status(),
        202,
        "another key is unaffected"
    );
}

#[tokio::test]
async fn with_a_certificate_leitstand_serves_https() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (c, k) = (cert.clone(), key.clone());
    let app = spawn_app_with(move |s| {
        s.http.tls_cert = Some(c);
        s.http.tls_key = Some(k);
    })
    .await;
    // Asynchronously: the server runs on this test's runtime.
    let out = tokio::process::Command::new("curl")
        .args(["-sk", "--max-time", "10", "-D", "-", "-o", "/dev/null"])
        .arg(format!("https://127.0.0.1:{}/healthz", app.addr.port()))
        .output()
        .await
        .expect("curl runs");
    let headers = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(
        headers.starts_with("http/") && headers.contains(" 200"),
        "{headers}"
    );
    assert!(
        headers.contains("strict-transport-security: max-age="),
        "{headers}"
    );
    // Plain HTTP on the TLS port is not served.
    let plain = app
        .client
        .get(format!("http://127.0.0.1:{}/healthz", app.addr.port()))
        .send()
        .await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
}
