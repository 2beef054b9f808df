//! Alerts against local receivers started by the tests: signed webhooks
//! with retries, dead letters and replay, 410 Gone, the address guard,
//! every rule kind, e-mail through an in-test SMTP server, event
//! subscriptions, two processes and a kill between commit and send, and
//! retention.
//!
//! The retry schedule is shortened with `--delivery-schedule` and the tick
//! with `--alert-tick-ms`, so tests do not wait out real delays.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::keys::Scope;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::helpers::{
    ServerProcess, TestApp, db_url, eventually, run_cli, spawn_app_on, spawn_app_with,
};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    at: Instant,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("json body")
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

/// A local webhook receiver: answers `status`, fails the first
/// `fail_first` requests with 500, or hangs.
#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    status: Arc<AtomicU16>,
    fail_first: Arc<AtomicU32>,
    hang: Arc<AtomicBool>,
}

async fn receive(
    State(r): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    r.hits.lock().expect("hits").push(Hit {
        at: Instant::now(),
        path: uri.path().to_owned(),
        headers,
        body,
    });
    if r.hang.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    if r.fail_first
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::from_u16(r.status.load(Ordering::Relaxed)).unwrap_or(StatusCode::OK)
}

impl Receiver {
    async fn start() -> (Self, SocketAddr) {
        let r = Receiver::default();
        r.status.store(200, Ordering::Relaxed);
        let app = Router::new().fallback(receive).with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (r, addr)
    }

    fn hits(&self, path: &str) -> Vec<Hit> {
        self.hits
            .lock()
            .expect("hits")
            .iter()
            .filter(|h| h.path == path)
            .cloned()
            .collect()
    }

    async fn wait_for(&self, path: &str, n: usize) -> Vec<Hit> {
        let ok = eventually(Duration::from_secs(20), || async {
            self.hits(path).len() >= n
        })
        .await;
        let hits = self.hits(path);
        assert!(ok, "{n} requests to {path}, got {}", hits.len());
        hits
    }
}

/// Leitstand with a short schedule, local receivers allowed and a fast tick.
async fn alerting_app(schedule: &str) -> TestApp {
    let schedule = schedule.to_owned();
    spawn_app_with(move |s| alerting(s, &schedule)).await
}

/// What the alerting tests change: the schedule, local receivers allowed,
/// a fast tick, and one sealing key (processes sharing a database need it).
fn alerting(s: &mut server::config::Settings, schedule: &str) {
    s.alerts.delivery_schedule = schedule.to_owned();
    s.alerts.outbound_allow = vec!["127.0.0.0/8".into()];
    s.alerts.alert_tick_ms = 200;
    s.alerts.secret_key = Some(
        base64::engine::general_purpose::STANDARD
            .encode([7u8; 32])
            .parse()
            .expect("key"),
    );
}

impl TestApp {
    async fn admin_key(&self) -> String {
        self.key(&[Scope::Admin], None).await
    }

    async fn created(&self, path: &str, key: &str, body: Value) -> Value {
        let res = self.post_json(path, key, &body).await;
        let status = res.status();
        let doc: Value = res.json().await.expect("json");
        assert_eq!(status, 201, "POST {path}: {doc}");
        doc
    }

    async fn webhook(&self, key: &str, name: &str, url: &str) -> (i64, String) {
        let doc = self
            .created(
                "/api/v1/alert-channels",
                key,
                json!({ "kind": "webhook", "name": name, "url": url }),
            )
            .await;
        (
            doc["id"].as_i64().expect("id"),
            doc["secret"].as_str().expect("secret").to_owned(),
        )
    }

    async fn rule(&self, key: &str, body: Value) -> i64 {
        self.created("/api/v1/alert-rules", key, body).await["id"]
            .as_i64()
            .expect("id")
    }

    async fn delivery_states(&self) -> Vec<(String, String, i32)> {
        sqlx::query_as("select purpose, status, attempts from deliveries order by created_at, id")
            .fetch_all(&self.pool)
            .await
            .expect("deliveries")
    }

    /// Waits up to `seconds` until exactly `n` dead letters are listed.
    async fn dead_letters_become(&self, key: &str, n: usize, seconds: u64) -> bool {
        eventually(Duration::from_secs(seconds), || async {
            self.get_json("/api/v1/dead-letters", key)
                .await
                .as_array()
                .is_some_and(|a| a.len() == n)
        })
        .await
    }

    async fn audit_actions(&self) -> Vec<String> {
        sqlx::query_scalar("select action from audit_log order by id")
            .fetch_all(&self.pool)
            .await
            .expect("audit")
    }
}

fn event(level: &str, kind: &str, message: &str) -> Value {
    json!({ "service": "shop", "feature": "checkout", "type": kind, "level": level, "message": message })
}

/// Standard Webhooks, checked with ring's HMAC rather than the server's code.
fn signature_verifies(secret: &str, hit: &Hit) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("secret is base64");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let mut signed = format!(
        "{}.{}.",
        hit.header("webhook-id"),
        hit.header("webhook-timestamp")
    )
    .into_bytes();
    signed.extend_from_slice(&hit.body);
    let expected =
        base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, &signed).as_ref());
    hit.header("webhook-signature")
        .split(' ')
        .any(|s| s == format!("v1,{expected}"))
}

#[tokio::test]
async fn a_webhook_alert_is_signed_retried_until_it_succeeds_and_sent_once() {
    let (receiver, addr) = Receiver::start().await;
    receiver.fail_first.store(2, Ordering::Relaxed);
    let app = alerting_app("0s,400ms,400ms,400ms").await;
    let key = app.admin_key().await;
    let (channel, secret) = app
        .webhook(&key, "ops", &format!("http://{addr}/hook"))
        .await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    app.rule(
        &key,
        json!({ "name": "critical", "kind": "critical_event", "service": null,
                "channels": [channel], "cooldown_seconds": 300 }),
    )
    .await;
    // The secret is never shown again.
    let listed = app.get_json("/api/v1/alert-channels", &key).await;
    assert!(!listed.to_string().contains(&secret));

    let ingest = app.ingest_key().await;
    let res = app
        .post_events(
            &ingest,
            &event("critical", "payment.failed", "card declined"),
        )
        .await;
    assert_eq!(res.status(), 202);

    let hits = receiver.wait_for("/hook", 3).await;
    let id = hits[0].header("webhook-id");
    assert!(!id.is_empty());
    for h in &hits {
        assert_eq!(h.header("webhook-id"), id, "one delivery, one id");
        assert!(signature_verifies(&secret, h), "signature of {h:?}");
    }
    // 400 ms ± 10 % between attempts.
    for pair in hits.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(350), "gap {gap:?}");
    }
    let doc = hits[2].json();
    assert_eq!(doc["type"], "alert.firing");
    assert_eq!(doc["data"]["service"], "shop");
    assert!(
        doc["data"]["title"]
            .as_str()
            .is_some_and(|t| t.contains("card declined")),
        "{doc}"
    );
    assert!(
        doc["data"]["link"]
            .as_str()
            .is_some_and(|l| l.contains("/events?service=shop")),
        "{doc}"
    );
    let ok = eventually(Duration::from_secs(5), || async {
        app.delivery_states().await == vec![("alert".into(), "delivered".into(), 3)]
    })
    .await;
    assert!(ok, "{:?}", app.delivery_states().await);
    // Nothing more is sent once delivered.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(receiver.hits("/hook").len(), 3);
    let attempts: Vec<(i32, Option<i32>)> =
        sqlx::query_as("select attempt, status_code from delivery_attempts order by attempt")
            .fetch_all(&app.pool)
            .await
            .expect("attempts");
    assert_eq!(
        attempts,
        vec![(1, Some(500)), (2, Some(500)), (3, Some(200))]
    );
}

#[tokio::test]
async fn an_exhausted_delivery_becomes_a_dead_letter_that_replay_delivers() {
    let (receiver, addr) = Receiver::start().await;
    receiver.status.store(503, Ordering::Relaxed);
    let (pager, pager_addr) = Receiver::start().await;
    let app = alerting_app("0s,100ms").await;
    let key = app.admin_key().await;
    let (failing, _) = app
        .webhook(&key, "failing", &format!("http://{addr}/hook"))
        .await;
    let (healthy, _) = app
        .webhook(&key, "pager", &format!("http://{pager_addr}/page"))
        .await;
    app.rule(
        &key,
        json!({ "name": "critical", "kind": "critical_event", "channels": [failing], "cooldown_seconds": 0 }),
    )
    .await;
    app.rule(
        &key,
        json!({ "name": "dead letters", "kind": "dead_letters", "channels": [healthy], "cooldown_seconds": 0 }),
    )
    .await;
    let ingest = app.ingest_key().await;
    app.post_events(&ingest, &event("critical", "disk.full", "no space left"))
        .await;
    receiver.wait_for("/hook", 2).await;

    let dead = app.dead_letters_become(&key, 1, 10).await;
    assert!(dead, "one dead letter");
    let letters = app.get_json("/api/v1/dead-letters", &key).await;
    let letter = &letters[0];
    assert_eq!(letter["attempts"], 2);
    assert_eq!(letter["last_status"], 503);
    assert_eq!(letter["destination"], addr.ip().to_string());
    assert_eq!(letter["tries"].as_array().map(Vec::len), Some(2));
    let id = letter["id"].as_str().expect("id").to_owned();

    // The dead-letter rule tells the healthy channel, and the status says so.
    let paged = pager.wait_for("/page", 1).await;
    assert_eq!(paged[0].json()["data"]["title"], "1 dead letter");
    app.state.status_cache.clear();
    let status = app.get_json("/api/v1/system/status", &key).await;
    assert_eq!(status["leitstand"]["dead_letters"], 1);
    assert_eq!(status["status"], "degraded");
    let slo = status["services"][0]["slos"]
        .as_array()
        .and_then(|s| s.iter().find(|o| o["name"] == "dead_letters"))
        .cloned()
        .expect("dead-letter SLO");
    assert_eq!(slo["value"], 1.0);
    assert_eq!(slo["met"], false);

    // Replay with the receiver fixed: delivered in a new round.
    receiver.status.store(200, Ordering::Relaxed);
    let res = app
        .post_as(&format!("/api/v1/dead-letters/{id}/replay"), &key)
        .await;
    assert_eq!(res.status(), 200);
    receiver.wait_for("/hook", 3).await;
    let ok = eventually(Duration::from_secs(10), || async {
        app.get_json(&format!("/api/v1/deliveries/{id}"), &key)
            .await["status"]
            == "delivered"
    })
    .await;
    assert!(ok, "replayed and delivered");
    let rounds: Vec<(i32, i32, Option<i32>)> = sqlx::query_as(
        "select a.round, a.attempt, a.status_code from delivery_attempts a join deliveries d on d.id = a.delivery_id
         where d.purpose = 'alert' and d.channel_id = $1 order by a.round, a.attempt",
    )
    .bind(failing)
    .fetch_all(&app.pool)
    .await
    .expect("rounds");
    assert_eq!(
        rounds,
        vec![(0, 1, Some(503)), (0, 2, Some(503)), (1, 1, Some(200))]
    );
    // The dead-letter rule resolves on its next tick.
    let resolved = pager.wait_for("/page", 2).await;
    assert_eq!(resolved[1].json()["type"], "alert.resolved");
    assert!(
        app.audit_actions()
            .await
            .contains(&"dead_letter.replay".to_owned())
    );

    // Discard: audited, gone from the list; unknown or malformed ids are 404.
    receiver.status.store(500, Ordering::Relaxed);
    app.post_events(&ingest, &event("critical", "disk.full", "again"))
        .await;
    let again = app.dead_letters_become(&key, 1, 10).await;
    assert!(again);
    let id = app.get_json("/api/v1/dead-letters", &key).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let res = app
        .delete_as(&format!("/api/v1/dead-letters/{id}"), &key)
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.get_json("/api/v1/dead-letters", &key).await, json!([]));
    assert!(
        app.audit_actions()
            .await
            .contains(&"dead_letter.discard".to_owned())
    );
    let res = app
        .delete_as(&format!("/api/v1/dead-letters/{id}"), &key)
        .await;
    assert_eq!(res.status(), 404);
    let res = app.delete_as("/api/v1/dead-letters/not-a-uuid", &key).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.expect("json error");
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_410_gone_disables_the_channel_and_buries_what_was_waiting() {
    let (receiver, addr) = Receiver::start().await;
    receiver.status.store(410, Ordering::Relaxed);
    let app = alerting_app("0s,5s").await;
    let key = app.admin_key().await;
    let (channel, _) = app
        .webhook(&key, "gone", &format!("http://{addr}/hook"))
        .await;
    let res = app
        .post_as(&format!("/api/v1/alert-channels/{channel}/test"), &key)
        .await;
    assert_eq!(res.status(), 202);
    receiver.wait_for("/hook", 1).await;
    let disabled = eventually(Duration::from_secs(10), || async {
        app.get_json(&format!("/api/v1/alert-channels/{channel}"), &key)
            .await["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("410"))
    })
    .await;
    assert!(disabled, "disabled with the reason");
    assert_eq!(
        app.delivery_states().await,
        vec![("test".into(), "dead".into(), 1)],
        "no retry after 410"
    );
    // A test to a disabled channel is refused with the reason.
    let res = app
        .post_as(&format!("/api/v1/alert-channels/{channel}/test"), &key)
        .await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("disabled") && m.contains("410")),
        "{body}"
    );
    // Enabled again, it sends.
    receiver.status.store(200, Ordering::Relaxed);
    let res = app
        .post_as(&format!("/api/v1/alert-channels/{channel}/enable"), &key)
        .await;
    assert_eq!(res.status(), 200);
    app.post_as(&format!("/api/v1/alert-channels/{channel}/test"), &key)
        .await;
    receiver.wait_for("/hook", 2).await;
}

#[tokio::test]
async fn the_address_guard_refuses_internal_destinations_unless_allowed() {
    let (receiver, addr) = Receiver::start().await;
    // No --outbound-allow here.
    let app = spawn_app_with(|s| {
        s.alerts.delivery_schedule = "0s".into();
    })
    .await;
    let key = app.admin_key().await;
    let mut ids = Vec::new();
    for (name, url) in [
        ("loopback", format!("http://{addr}/hook")),
        (
            "localhost",
            format!("http://localhost:{}/hook", addr.port()),
        ),
        ("metadata", "http://169.254.169.254/latest/meta-data".into()),
        ("private", "http://10.1.2.3/hook".into()),
    ] {
        let (id, _) = app.webhook(&key, name, &url).await;
        let res = app
            .post_as(&format!("/api/v1/alert-channels/{id}/test"), &key)
            .await;
        assert_eq!(res.status(), 202);
        ids.push(id);
    }
    let all_dead = app.dead_letters_become(&key, 4, 20).await;
    assert!(all_dead, "{:?}", app.delivery_states().await);
    let letters = app.get_json("/api/v1/dead-letters", &key).await;
    for l in letters.as_array().expect("list") {
        let error = l["last_error"].as_str().unwrap_or_default();
        assert!(
            error.contains("--outbound-allow"),
            "{}: {error}",
            l["destination"]
        );
        assert_eq!(l["last_status"], Value::Null);
    }
    assert!(
        receiver.hits("/hook").is_empty(),
        "nothing reached the receiver"
    );
}

#[tokio::test]
async fn bad_alert_input_gets_a_clear_error_and_changes_nothing() {
    let app = alerting_app("0s").await;
    let key = app.admin_key().await;
    for (body, field) in [
        (
            json!({ "kind": "webhook", "name": "x", "url": "ftp://example.com/" }),
            "url",
        ),
        (
            json!({ "kind": "webhook", "name": "", "url": "http://example.com/" }),
            "name",
        ),
        (
            json!({ "kind": "email", "name": "m", "host": "smtp.example.com", "from": "a@example.com", "to": [] }),
            "to",
        ),
        (json!({ "kind": "slack", "name": "s" }), "url"),
    ] {
        let res = app.post_json("/api/v1/alert-channels", &key, &body).await;
        assert_eq!(res.status(), 422, "{body}");
        let err: Value = res.json().await.expect("json");
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
    }
    let res = app
        .post_json(
            "/api/v1/alert-channels",
            &key,
            &json!({ "kind": "pager", "name": "x" }),
        )
        .await;
    assert!(matches!(res.status().as_u16(), 400 | 422));
    let (channel, _) = app.webhook(&key, "ok", "http://example.com/hook").await;
    for (body, field) in [
        (
            json!({ "name": "r", "kind": "critical_event", "channels": [] }),
            "channels",
        ),
        (
            json!({ "name": "r", "kind": "critical_event", "channels": [999] }),
            "channels",
        ),
        (
            json!({ "name": "r", "kind": "error_rate", "channels": [channel], "threshold": 0 }),
            "threshold",
        ),
        (
            json!({ "name": "r", "kind": "dead_letters", "service": "shop", "channels": [channel] }),
            "service",
        ),
        (
            json!({ "name": "r", "kind": "critical_event", "channels": [channel], "cooldown_seconds": -1 }),
            "cooldown_seconds",
        ),
    ] {
        let res = app.post_json("/api/v1/alert-rules", &key, &body).await;
        assert_eq!(res.status(), 422, "{body}");
        let err: Value = res.json().await.expect("json");
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
    }
    assert_eq!(app.get_json("/api/v1/alert-rules", &key).await, json!([]));
    let res = app
        .client
        .put(app.url("/api/v1/retention"))
        .bearer_auth(&key)
        .json(&json!({ "events_days": 0, "probe_results_days": 90, "deliveries_days": 30, "audit_days": 365 }))
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), 422);
    assert_eq!(
        app.get_json("/api/v1/retention", &key).await["events_days"],
        90
    );
    // Event subscriptions: a bad URL, name, type prefix or an unknown
    // service is named, and nothing is stored.
    for (body, field) in [
        (
            json!({ "name": "w", "url": "ftp://example.com/events" }),
            "url",
        ),
        (json!({ "name": "w", "url": "not a url" }), "url"),
        (
            json!({ "name": " ", "url": "http://example.com/events" }),
            "name",
        ),
        (
            json!({ "name": "w", "url": "http://example.com/events", "service": "nosuch" }),
            "service",
        ),
        (
            json!({ "name": "w", "url": "http://example.com/events", "kind_prefix": "x".repeat(201) }),
            "kind_prefix",
        ),
    ] {
        let res = app
            .post_json("/api/v1/event-subscriptions", &key, &body)
            .await;
        assert_eq!(res.status(), 422, "{body}");
        let err: Value = res.json().await.expect("json");
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
    }
    let res = app
        .post_json(
            "/api/v1/event-subscriptions",
            &key,
            &json!({ "name": "w", "url": "http://example.com/", "min_level": "loud" }),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        app.get_json("/api/v1/event-subscriptions", &key).await,
        json!([])
    );
    // Scope and binding: read keys and service-bound admin keys are refused.
    let read = app.key(&[Scope::Read], None).await;
    assert_eq!(
        app.get_as("/api/v1/alert-channels", &read).await.status(),
        403
    );
    let bound = app.key(&[Scope::Admin], Some("shop")).await;
    assert_eq!(
        app.get_as("/api/v1/dead-letters", &bound).await.status(),
        403
    );
    let channels = app.get_json("/api/v1/alert-channels", &key).await;
    assert_eq!(channels.as_array().map(Vec::len), Some(1));
}

/// Opens the firing/resolved messages the receiver got for a rule kind.
fn kinds_of(hits: &[Hit], rule: &str) -> Vec<String> {
    hits.iter()
        .map(Hit::json)
        .filter(|d| d["data"]["rule"] == rule)
        .map(|d| d["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn wait_kinds(receiver: &Receiver, rule: &str, want: &[&str]) {
    let ok = eventually(Duration::from_secs(20), || async {
        kinds_of(&receiver.hits("/hook"), rule) == want
    })
    .await;
    assert!(
        ok,
        "{rule}: wanted {want:?}, got {:?}",
        kinds_of(&receiver.hits("/hook"), rule)
    );
}

#[tokio::test]
async fn error_rules_fire_once_hold_within_the_cooldown_and_resolve_when_quiet() {
    let (receiver, addr) = Receiver::start().await;
    let app = alerting_app("0s").await;
    let key = app.admin_key().await;
    let (channel, _) = app
        .webhook(&key, "ops", &format!("http://{addr}/hook"))
        .await;
    let ingest = app.ingest_key().await;
    // Rules name services that exist.
    let res = app
        .post_json(
            "/api/v1/alert-rules",
            &key,
            &json!({ "name": "early", "kind": "new_error_group", "service": "shop", "channels": [channel] }),
        )
        .await;
    assert_eq!(res.status(), 422);
    app.post_events(&ingest, &event("info", "page.view", "ok"))
        .await;
    for (name, kind) in [("new", "new_error_group"), ("back", "regression")] {
        app.rule(
            &key,
            json!({ "name": name, "kind": kind, "service": "shop", "channels": [channel], "cooldown_seconds": 2 }),
        )
        .await;
    }
    app.post_events(&ingest, &event("error", "db.timeout", "query timed out"))
        .await;
    wait_kinds(&receiver, "new", &["alert.firing"]).await;
    // A second new group within the cooldown is held, then counted.
    app.post_events(&ingest, &event("error", "db.deadlock", "deadlock detected"))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(kinds_of(&receiver.hits("/hook"), "new"), ["alert.firing"]);
    wait_kinds(&receiver, "new", &["alert.firing", "alert.firing"]).await;
    let held = receiver
        .hits("/hook")
        .iter()
        .map(Hit::json)
        .filter(|d| d["data"]["rule"] == "new")
        .nth(1)
        .expect("second");
    assert_eq!(held["data"]["suppressed"], 1, "{held}");
    // Quiet for a cooldown: resolved.
    wait_kinds(
        &receiver,
        "new",
        &["alert.firing", "alert.firing", "alert.resolved"],
    )
    .await;
    // Regression: a fixed group is back.
    sqlx::query("update error_groups set resolved_at = last_seen + interval '1 ms' where kind = 'db.timeout'")
        .execute(&app.pool)
        .await
        .expect("mark fixed");
    app.post_events(&ingest, &event("error", "db.timeout", "query timed out"))
        .await;
    wait_kinds(&receiver, "back", &["alert.firing"]).await;
    wait_kinds(&receiver, "back", &["alert.firing", "alert.resolved"]).await;
    // The repeat of a known, unfixed group is neither new nor a regression.
    app.post_events(&ingest, &event("error", "db.deadlock", "deadlock detected"))
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(kinds_of(&receiver.hits("/hook"), "new").len(), 3);
    assert_eq!(kinds_of(&receiver.hits("/hook"), "back").len(), 2);
}

#[tokio::test]
async fn condition_rules_fire_once_and_resolve_when_the_condition_clears() {
    let (receiver, addr) = Receiver::start().await;
    let app = alerting_app("0s").await;
    let key = app.admin_key().await;
    let (channel, _) = app
        .webhook(&key, "ops", &format!("http://{addr}/hook"))
        .await;
    let ingest = app.ingest_key().await;
    // The service exists before its rules refer to it.
    app.post_events(&ingest, &event("info", "page.view", "ok"))
        .await;
    app.rule(
        &key,
        json!({ "name": "rate", "kind": "error_rate", "service": "shop", "channels": [channel],
                "threshold": 20.0, "window_seconds": 600, "min_events": 5, "cooldown_seconds": 0 }),
    )
    .await;
    app.rule(
        &key,
        json!({ "name": "slo", "kind": "slo_missed", "service": "shop", "channels": [channel], "cooldown_seconds": 0 }),
    )
    .await;
    app.rule(
        &key,
        json!({ "name": "burn", "kind": "slo_burn", "service": "shop", "channels": [channel], "cooldown_seconds": 0 }),
    )
    .await;
    let errors: Vec<Value> = (0..5)
        .map(|i| event("error", "api.fail", &format!("failure {i}")))
        .collect();
    app.post_events(&ingest, &json!(errors)).await;
    wait_kinds(&receiver, "rate", &["alert.firing"]).await;
    wait_kinds(&receiver, "slo", &["alert.firing"]).await;
    wait_kinds(&receiver, "burn", &["alert.firing"]).await;
    let rate = receiver
        .hits("/hook")
        .iter()
        .map(Hit::json)
        .find(|d| d["data"]["rule"] == "rate")
        .expect("rate");
    // 5 errors of 6 events.
    let value = rate["data"]["value"].as_f64().expect("value");
    assert!((value - 500.0 / 6.0).abs() < 0.01, "{rate}");
    assert_eq!(rate["data"]["threshold"], 20.0);
    // Stays firing without repeating while the condition holds.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(kinds_of(&receiver.hits("/hook"), "rate").len(), 1);

    // Many good events bring the rate under 20 % and the burn under 14.4×
    // with a generous error-rate target; the SLO is met once the target allows it.
    let fine: Vec<Value> = (0..60).map(|_| event("info", "page.view", "ok")).collect();
    app.post_events(&ingest, &json!(fine)).await;
    let res = app
        .client
        .patch(app.url("/api/v1/services/shop"))
        .bearer_auth(&key)
        .json(&json!({ "slo_targets": { "p95_ms": 100, "error_rate_percent": 50.0, "uptime_percent": 99.9, "dead_letters": 0 } }))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), 200);
    wait_kinds(&receiver, "rate", &["alert.firing", "alert.resolved"]).await;
    wait_kinds(&receiver, "slo", &["alert.firing", "alert.resolved"]).await;
    wait_kinds(&receiver, "burn", &["alert.firing", "alert.resolved"]).await;
}

#[tokio::test]
async fn probe_and_backup_rules_follow_their_state_changes() {
    let (receiver, addr) = Receiver::start().await;
    receiver.status.store(200, Ordering::Relaxed);
    let app = alerting_app("0s").await;
    let key = app.admin_key().await;
    let (channel, _) = app
        .webhook(&key, "ops", &format!("http://{addr}/hook"))
        .await;
    app.rule(
        &key,
        json!({ "name": "down", "kind": "probe_down", "channels": [channel], "cooldown_seconds": 0 }),
    )
    .await;
    app.rule(
        &key,
        json!({ "name": "backups", "kind": "backup_stale", "channels": [channel], "cooldown_seconds": 0 }),
    )
    .await;
    // No backup yet: stale.
    wait_kinds(&receiver, "backups", &["alert.firing"]).await;
    let res = app.post_as("/api/v1/backups", &key).await;
    assert!(res.status().is_success(), "{}", res.status());
    wait_kinds(&receiver, "backups", &["alert.firing", "alert.resolved"]).await;

    // A probe against a port nothing listens on goes down at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let probe = app
        .created(
            "/api/v1/services/shop/probes",
            &key,
            json!({ "kind": "http", "url": format!("http://{closed}/health"), "interval_seconds": 5,
                    "timeout_seconds": 2, "failures_before_down": 1 }),
        )
        .await;
    let probe_id = probe["id"].as_i64().expect("id");
    wait_kinds(&receiver, "down", &["alert.firing"]).await;
    let down = receiver
        .hits("/hook")
        .iter()
        .map(Hit::json)
        .find(|d| d["data"]["rule"] == "down")
        .expect("down");
    assert_eq!(down["data"]["service"], "shop");
    assert!(
        down["data"]["link"]
            .as_str()
            .is_some_and(|l| l.ends_with("/services/shop")),
        "{down}"
    );
    // Pointed at the receiver, it recovers.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/services/shop/probes/{probe_id}")))
        .bearer_auth(&key)
        .json(&json!({ "url": format!("http://{addr}/health") }))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), 200);
    sqlx::query("update probes set next_due_at = now() where id = $1")
        .bind(probe_id)
        .execute(&app.pool)
        .await
        .expect("due");
    wait_kinds(&receiver, "down", &["alert.firing", "alert.resolved"]).await;
}

/// A minimal SMTP server: accepts one message per connection and keeps it.
async fn smtp_sink() -> (Arc<Mutex<Vec<String>>>, SocketAddr) {
    let mails = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let store = mails.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut data = false;
                let mut message = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if data {
                        if line == "." {
                            data = false;
                            store
                                .lock()
                                .expect("mails")
                                .push(std::mem::take(&mut message));
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                        "DATA" => {
                            data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"502 not here\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (mails, addr)
}

#[tokio::test]
async fn email_alerts_reach_the_smtp_server_with_a_text_and_an_html_part() {
    let (mails, smtp) = smtp_sink().await;
    let app = alerting_app("0s,200ms").await;
    let key = app.admin_key().await;
    let doc = app
        .created(
            "/api/v1/alert-channels",
            &key,
            json!({ "kind": "email", "name": "team", "host": "127.0.0.1", "port": smtp.port(),
                    "tls": "none", "from": "leitstand@example.com",
                    "to": ["ops@example.com", "dev@example.com"] }),
        )
        .await;
    assert_eq!(
        doc["secret"],
        Value::Null,
        "e-mail channels have no signing secret"
    );
    let channel = doc["id"].as_i64().expect("id");
    app.rule(
        &key,
        json!({ "name": "critical", "kind": "critical_event", "channels": [channel], "cooldown_seconds": 0 }),
    )
    .await;
    let ingest = app.ingest_key().await;
    app.post_events(
        &ingest,
        &event("critical", "payment.failed", "card declined"),
    )
    .await;
    let got = eventually(Duration::from_secs(20), || async {
        !mails.lock().expect("mails").is_empty()
    })
    .await;
    assert!(got, "{:?}", app.delivery_states().await);
    let mail = mails.lock().expect("mails")[0].clone();
    for part in [
        "Subject: [Leitstand] FIRING: shop",
        "To: ops@example.com, dev@example.com",
        "text/plain",
        "text/html",
        "card declined",
    ] {
        assert!(mail.contains(part), "{part} in\n{mail}");
    }
    let ok = eventually(Duration::from_secs(5), || async {
        app.delivery_states().await == vec![("alert".into(), "delivered".into(), 1)]
    })
    .await;
    assert!(ok, "{:?}", app.delivery_states().await);
}

#[tokio::test]
async fn event_subscriptions_forward_matching_events_in_signed_batches() {
    let (receiver, addr) = Receiver::start().await;
    let app = alerting_app("0s").await;
    let key = app.admin_key().await;
    let ingest = app.ingest_key().await;
    app.post_events(&ingest, &event("info", "page.view", "before"))
        .await;
    let doc = app
        .created(
            "/api/v1/event-subscriptions",
            &key,
            json!({ "name": "warehouse", "url": format!("http://{addr}/events"), "service": "shop",
                    "min_level": "warning", "kind_prefix": "order." }),
        )
        .await;
    let secret = doc["secret"].as_str().expect("secret").to_owned();
    let mut batch = Vec::new();
    for i in 0..150 {
        batch.push(event("warning", "order.slow", &format!("slow {i}")));
        batch.push(event("info", "order.placed", "not at the level"));
        batch.push(event("error", "payment.failed", "not the type"));
    }
    batch.push(json!({ "service": "blog", "feature": "x", "type": "order.slow", "level": "error", "message": "other service" }));
    for chunk in batch.chunks(200) {
        let res = app.post_events(&ingest, &json!(chunk)).await;
        assert_eq!(res.status(), 202);
    }
    let ok = eventually(Duration::from_secs(20), || async {
        receiver
            .hits("/events")
            .iter()
            .map(|h| h.json()["data"]["events"].as_array().map_or(0, Vec::len))
            .sum::<usize>()
            >= 150
    })
    .await;
    assert!(ok, "150 events forwarded");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let hits = receiver.hits("/events");
    let mut messages = Vec::new();
    for h in &hits {
        assert!(signature_verifies(&secret, h));
        let doc = h.json();
        assert_eq!(doc["type"], "events.batch");
        let events = doc["data"]["events"].as_array().expect("events");
        assert!(events.len() <= 100, "batch of {}", events.len());
        for e in events {
            assert_eq!(e["service"], "shop");
            assert_eq!(e["type"], "order.slow");
            messages.push(e["message"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert_eq!(messages.len(), 150, "each once");
    messages.sort();
    messages.dedup();
    assert_eq!(messages.len(), 150);
}

#[tokio::test]
async fn two_processes_never_send_the_same_delivery_twice() {
    let (receiver, addr) = Receiver::start().await;
    let first = alerting_app("0s,200ms").await;
    let url = db_url(&first.db_name);
    let second = spawn_app_on(&url, String::new(), |s| alerting(s, "0s,200ms")).await;
    let key = first.admin_key().await;
    let (channel, _) = first
        .webhook(&key, "ops", &format!("http://{addr}/hook"))
        .await;
    for i in 0..60 {
        let app = if i % 2 == 0 { &first } else { &second };
        let res = app
            .post_as(&format!("/api/v1/alert-channels/{channel}/test"), &key)
            .await;
        assert_eq!(res.status(), 202);
    }
    receiver.wait_for("/hook", 60).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut ids: Vec<String> = receiver
        .hits("/hook")
        .iter()
        .map(|h| h.header("webhook-id"))
        .collect();
    assert_eq!(ids.len(), 60);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60, "every delivery sent once");
}

#[tokio::test]
async fn a_delivery_committed_before_a_kill_is_sent_once_after_restart() {
    let (receiver, addr) = Receiver::start().await;
    let secret_key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let env = [
        ("LEITSTAND_DELIVERY_SCHEDULE", "3s,1s"),
        ("LEITSTAND_OUTBOUND_ALLOW", "127.0.0.0/8"),
        ("LEITSTAND_SECRET_KEY", secret_key.as_str()),
    ];
    let mut first = ServerProcess::start(&env, false, |_| async {}).await;
    let db_name = std::mem::take(&mut first.db_name);
    let url = db_url(&db_name);
    let pool = sqlx::PgPool::connect(&url).await.expect("pool");
    let mut conn = pool.acquire().await.expect("conn");
    let key = app::keys::store::create(&mut conn, "test", &[Scope::Admin], None, "test")
        .await
        .expect("key")
        .secret;
    drop(conn);
    let client = crate::helpers::http_client();
    let doc: Value = client
        .post(format!("{}/api/v1/alert-channels", first.base))
        .bearer_auth(&key)
        .json(&json!({ "kind": "webhook", "name": "ops", "url": format!("http://{addr}/hook") }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let channel = doc["id"].as_i64().expect("id");
    let res = client
        .post(format!(
            "{}/api/v1/alert-channels/{channel}/test",
            first.base
        ))
        .bearer_auth(&key)
        .send()
        .await
        .expect("test");
    assert_eq!(res.status(), 202);
    // Committed, first attempt due in 3 s: kill -9 now.
    let _ = std::process::Command::new("kill")
        .arg("-KILL")
        .arg(first.pid().to_string())
        .status();
    drop(first);
    assert!(receiver.hits("/hook").is_empty());
    let pending: i64 =
        sqlx::query_scalar("select count(*) from deliveries where status = 'pending'")
            .fetch_one(&pool)
            .await
            .expect("pending");
    assert_eq!(pending, 1, "the outbox kept it");

    let second = ServerProcess::start_on(&db_name, &env).await;
    receiver.wait_for("/hook", 1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.hits("/hook").len(), 1, "sent once");
    let status: String = sqlx::query_scalar("select status from deliveries")
        .fetch_one(&pool)
        .await
        .expect("status");
    assert_eq!(status, "delivered");
    pool.close().await;
    drop(second);
}

#[tokio::test]
async fn retention_drops_old_partitions_and_keeps_the_dashboards_numbers() {
    let app = alerting_app("0s").await;
    let key = app.admin_key().await;
    let ingest = app.ingest_key().await;
    let now = chrono::Utc::now();
    let mut batch = Vec::new();
    for (days, n) in [(200, 30), (120, 20), (95, 10), (10, 40), (0, 5)] {
        let at = (now - chrono::Duration::days(days)).to_rfc3339();
        for i in 0..n {
            let level = if i % 5 == 0 { "error" } else { "info" };
            batch.push(
                json!({ "service": "shop", "feature": "checkout", "type": "order.placed",
                               "level": level, "message": format!("m{i}"), "timestamp": at }),
            );
        }
    }
    let res = app.post_events(&ingest, &json!(batch)).await;
    let status = res.status();
    assert_eq!(status, 202, "{}", res.text().await.unwrap_or_default());
    let before: Vec<Value> = {
        let mut v = Vec::new();
        for range in ["24h", "7d", "30d"] {
            v.push(app.get_dashboard(&key, &format!("?range={range}")).await);
        }
        v
    };
    let partition_200: String = sqlx::query_scalar(
        "select c.relname::text from pg_inherits i join pg_class c on c.oid = i.inhrelid
         join pg_class p on p.oid = i.inhparent
         where p.relname = 'events' and exists (select 1 from events e where e.tableoid = c.oid
                                                and e.occurred_at < now() - interval '190 days')",
    )
    .fetch_one(&app.pool)
    .await
    .expect("old partition");

    // A dry run removes nothing.
    let dry: Value = app
        .client
        .post(app.url("/api/v1/retention/run?dry_run=true"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("dry run")
        .json()
        .await
        .expect("json");
    let events = dry["classes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["class"] == "events"))
        .cloned()
        .expect("events class");
    assert_eq!(events["rows"], 60, "{dry}");
    let total: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(total, 105);

    let report: Value = app
        .client
        .post(app.url("/api/v1/retention/run"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("run")
        .json()
        .await
        .expect("json");
    let events = report["classes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["class"] == "events"))
        .cloned()
        .expect("events class");
    assert_eq!(events["rows"], 60, "{report}");
    assert!(
        events["partitions"]
            .as_array()
            .is_some_and(|p| p.iter().any(|n| n == partition_200.as_str())),
        "{report}"
    );
    let left: Vec<(i64, i64)> =
        sqlx::query_as("select (select count(*) from events), (select count(*) from event_ids)")
            .fetch_all(&app.pool)
            .await
            .expect("left");
    assert_eq!(left, vec![(45, 45)]);
    let gone: bool = sqlx::query_scalar("select to_regclass($1) is null")
        .bind(&partition_200)
        .fetch_one(&app.pool)
        .await
        .expect("regclass");
    assert!(gone, "{partition_200} dropped");
    for (i, range) in ["24h", "7d", "30d"].iter().enumerate() {
        let after = app.get_dashboard(&key, &format!("?range={range}")).await;
        assert_eq!(after["kpis"], before[i]["kpis"], "{range}");
    }
    assert!(
        app.audit_actions()
            .await
            .contains(&"retention.run".to_owned())
    );

    // The CLI's dry run now finds nothing more.
    let (ok, out, err) = run_cli(&db_url(&app.db_name), &["retention", "run", "--dry-run"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("would remove 0 rows"), "{out}");
}

#[tokio::test]
async fn the_deadletters_command_lists_replays_and_discards() {
    let (receiver, addr) = Receiver::start().await;
    receiver.status.store(500, Ordering::Relaxed);
    let app = alerting_app("0s").await;
    let key = app.admin_key().await;
    let (channel, _) = app
        .webhook(&key, "ops", &format!("http://{addr}/hook"))
        .await;
    for _ in 0..2 {
        app.post_as(&format!("/api/v1/alert-channels/{channel}/test"), &key)
            .await;
    }
    let dead = app.dead_letters_become(&key, 2, 10).await;
    assert!(dead);
    let url = db_url(&app.db_name);
    let (ok, out, err) = run_cli(&url, &["deadletters", "list"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("2 dead letter(s)") && out.contains("500"),
        "{out}"
    );
    let id = out.split_whitespace().next().expect("id").to_owned();

    let (ok, _, err) = run_cli(&url, &["deadletters", "discard"]).await;
    assert!(!ok, "discard needs an id or --older-than");
    assert!(
        err.contains("--older-than") || err.contains("required"),
        "{err}"
    );
    let (ok, _, err) = run_cli(&url, &["deadletters", "replay", "nonsense"]).await;
    assert!(!ok);
    assert!(err.contains("not a dead letter id"), "{err}");

    receiver.status.store(200, Ordering::Relaxed);
    let (ok, out, err) = run_cli(&url, &["deadletters", "replay", &id]).await;
    assert!(ok, "{err}");
    assert!(out.contains("queued 1"), "{out}");
    let ok = app.dead_letters_become(&key, 1, 10).await;
    assert!(ok, "replayed one is delivered");
    let (ok, out, err) = run_cli(&url, &["deadletters", "discard", "--older-than", "0s"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("discarded 1"), "{out}");
    let (ok, out, _) = run_cli(&url, &["deadletters", "list"]).await;
    assert!(ok);
    assert!(out.contains("no dead letters"), "{out}");
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"dead_letter.replay".to_owned()));
    assert!(actions.contains(&"dead_letter.discard".to_owned()));
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_new_one_for_a_day() {
    let (receiver, addr) = Receiver::start().await;
    let app = alerting_app("0s").await;
    let key = app.admin_key().await;
    let (channel, old) = app
        .webhook(&key, "ops", &format!("http://{addr}/hook"))
        .await;
    let res = app
        .post_as(
            &format!("/api/v1/alert-channels/{channel}/rotate-secret"),
            &key,
        )
        .await;
    assert_eq!(res.status(), 200);
    let new = res.json::<Value>().await.expect("json")["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_ne!(new, old);
    let listed = app
        .get_json(&format!("/api/v1/alert-channels/{channel}"), &key)
        .await;
    assert!(listed["previous_until"].is_string(), "{listed}");
    assert!(!listed.to_string().contains(&new));
    app.post_as(&format!("/api/v1/alert-channels/{channel}/test"), &key)
        .await;
    let hits = receiver.wait_for("/hook", 1).await;
    let signatures = hits[0].header("webhook-signature");
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    assert!(signature_verifies(&new, &hits[0]));
    assert!(signature_verifies(&old, &hits[0]));
    // Once the overlap has passed, only the new secret signs.
    sqlx::query("update alert_channels set previous_until = now() - interval '1 s'")
        .execute(&app.pool)
        .await
        .expect("expire");
    app.post_as(&format!("/api/v1/alert-channels/{channel}/test"), &key)
        .await;
    let hits = receiver.wait_for("/hook", 2).await;
    assert!(signature_verifies(&new, &hits[1]));
    assert!(!signature_verifies(&old, &hits[1]));
    assert!(
        app.audit_actions()
            .await
            .contains(&"alert_channel.rotate_secret".to_owned())
    );
}
