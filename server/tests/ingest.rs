//! POST /api/v1/events: storage, idempotency, compression, concurrency and
//! every way of getting it wrong.

use std::io::Write;

use app::keys::Scope;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

#[tokio::test]
async fn one_event_is_stored_with_its_rollups() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let res = app
        .post_events(
            &key,
            &json!({ "service": "shop", "feature": "checkout", "type": "order.placed",
                                    "level": "warning", "message": "slow", "user": "u1",
                                    "attributes": { "ms": 812 } }),
        )
        .await;
    assert_eq!(res.status(), 202);
    assert_eq!(
        res.json::<Value>().await.expect("json"),
        json!({ "accepted": 1, "duplicates": 0 })
    );

    let row = sqlx::query_as::<_, (String, String, i16, String, Value)>(
        "select feature, kind, level, message, attributes from events",
    )
    .fetch_one(&app.pool)
    .await
    .expect("event row");
    assert_eq!(
        row,
        (
            "checkout".into(),
            "order.placed".into(),
            2,
            "slow".into(),
            json!({ "ms": 812 })
        )
    );
    let rollup = sqlx::query_as::<_, (i64, i64)>("select events, warning from event_rollups")
        .fetch_one(&app.pool)
        .await
        .expect("hourly rollup");
    assert_eq!(rollup, (1, 1));
    let daily = sqlx::query_as::<_, (i64, i64)>("select events, warning from event_rollups_daily")
        .fetch_one(&app.pool)
        .await
        .expect("daily rollup");
    assert_eq!(daily, (1, 1));
}

#[tokio::test]
async fn the_same_event_id_is_stored_once() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let id = uuid::Uuid::new_v4().to_string();
    let event = json!({ "id": id, "service": "shop" });

    let first = app
        .post_events(&key, &event)
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(first, json!({ "accepted": 1, "duplicates": 0 }));
    // A retry (even with another timestamp) is a duplicate.
    let retry = json!({ "id": id, "service": "shop", "timestamp": (Utc::now() - Duration::hours(3)).to_rfc3339() });
    let second = app
        .post_events(&key, &retry)
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(second, json!({ "accepted": 0, "duplicates": 1 }));
    // Inside one array as well.
    let other = uuid::Uuid::new_v4().to_string();
    let batch =
        json!([{ "id": other, "service": "shop" }, { "id": other, "service": "shop" }, event]);
    let third = app
        .post_events(&key, &batch)
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(third, json!({ "accepted": 1, "duplicates": 2 }));

    assert_eq!(app.stored_counts().await[0], 2);
    let rolled: i64 = sqlx::query_scalar("select sum(events)::int8 from event_rollups")
        .fetch_one(&app.pool)
        .await
        .expect("sum");
    assert_eq!(rolled, 2, "duplicates are not counted twice");
}

#[tokio::test]
async fn gzip_bodies_are_accepted() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let events: Vec<Value> = (0..50)
        .map(|i| json!({ "service": "shop", "message": format!("e{i}") }))
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(Value::Array(events).to_string().as_bytes())
        .expect("compress");
    let body = gz.finish().expect("finish");
    let res = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 202);
    assert_eq!(res.json::<Value>().await.expect("json")["accepted"], 50);
}

#[tokio::test]
async fn concurrent_requests_are_all_committed() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let client = app.client.clone();
        let url = app.url("/api/v1/events");
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(key)
                .json(&json!({ "service": format!("svc-{}", i % 7), "feature": "f", "level": if i % 10 == 0 { "error" } else { "info" } }))
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("join").expect("sent"), 202);
    }
    let counts = app.stored_counts().await;
    assert_eq!(counts[0], 200);
    assert_eq!(counts[5], 7, "each service created once");
    let (events, errors): (i64, i64) =
        sqlx::query_as("select sum(events)::int8, sum(error)::int8 from event_rollups_daily")
            .fetch_one(&app.pool)
            .await
            .expect("sums");
    assert_eq!((events, errors), (200, 20));
    let distinct_seq: i64 = sqlx::query_scalar("select count(distinct seq) from events")
        .fetch_one(&app.pool)
        .await
        .expect("seq");
    assert_eq!(distinct_seq, 200, "every event has its own stream cursor");
}

#[tokio::test]
async fn partitions_are_created_for_old_and_future_months() {
    let app = spawn_app().await;
    let now = Utc::now();
    let events: Vec<app::events::NewEvent> = [
        now - Duration::days(40),
        now + Duration::days(5),
        now - Duration::days(364),
    ]
    .into_iter()
    .map(|t| app::events::NewEvent {
        id: uuid::Uuid::new_v4(),
        occurred_at: t,
        service: "shop".into(),
        feature: String::new(),
        kind: "event".into(),
        level: app::events::Level::Info,
        message: String::new(),
        fingerprint: None,
        release: None,
        environment: None,
        user: None,
        attributes: json!({}),
        payload: None,
    })
    .collect();
    let mut tx = app.pool.begin().await.expect("tx");
    let result =
        app::events::store::write_batch(&mut tx, &events, &Default::default(), &Default::default())
            .await
            .expect("stored");
    tx.commit().await.expect("commit");
    assert_eq!(result.stored, vec![true, true, true]);
    assert_eq!(app.stored_counts().await[0], 3);
}

#[tokio::test]
async fn api_key_last_use_is_recorded() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    assert_eq!(
        app.post_events(&key, &json!({ "service": "s" }))
            .await
            .status(),
        202
    );
    let used: Option<chrono::DateTime<Utc>> =
        sqlx::query_scalar("select last_used_at from api_keys")
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert!(used.is_some());
}

async fn expect_error(app: &TestApp, res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status for {code}");
    let body: Value = res.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(
        app.stored_counts().await[..5],
        [0, 0, 0, 0, 0],
        "nothing stored after {code}"
    );
    body
}

#[tokio::test]
async fn bad_input_gets_a_precise_error_and_changes_nothing() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let url = app.url("/api/v1/events");
    let raw = |body: &'static str| app.client.post(&url).bearer_auth(&key).body(body).send();

    // Malformed JSON.
    expect_error(
        &app,
        raw("{\"service\": \"shop\",").await.expect("sent"),
        400,
        "malformed",
    )
    .await;
    expect_error(
        &app,
        raw("\"just a string\"").await.expect("sent"),
        400,
        "malformed",
    )
    .await;

    // Wrong field types, unknown level, unknown field, bad timestamp, bad id.
    for (event, field) in [
        (json!({ "service": "shop", "message": 42 }), "message"),
        (json!({ "service": "shop", "level": "fatal" }), "level"),
        (json!({ "service": "shop", "colour": "red" }), "colour"),
        (
            json!({ "service": "shop", "timestamp": "yesterday" }),
            "timestamp",
        ),
        (
            json!({ "service": "shop", "timestamp": (Utc::now() - Duration::days(400)).to_rfc3339() }),
            "timestamp",
        ),
        (
            json!({ "service": "shop", "timestamp": (Utc::now() + Duration::days(2)).to_rfc3339() }),
            "timestamp",
        ),
        (json!({ "service": "shop", "id": "not-a-uuid" }), "id"),
        (json!({ "service": "Shop API" }), "service"),
        (json!({ "feature": "no service" }), "service"),
        (
            json!({ "service": "shop", "attributes": "text" }),
            "attributes",
        ),
        (
            json!({ "service": "shop", "attributes": { "blob": "x".repeat(17 * 1024) } }),
            "attributes",
        ),
    ] {
        let body = expect_error(&app, app.post_events(&key, &event).await, 422, "validation").await;
        assert_eq!(body["error"]["field"], field, "{body}");
    }

    // One bad event in an array rejects all, naming its index.
    let batch = json!([{ "service": "shop" }, { "service": "shop" }, { "service": "shop", "level": 3 }, { "service": "shop" }]);
    let body = expect_error(&app, app.post_events(&key, &batch).await, 422, "validation").await;
    assert_eq!(body["error"]["index"], 2);
    assert_eq!(body["error"]["field"], "level");

    // Too many events, too large a body.
    let many: Vec<Value> = (0..1001).map(|_| json!({ "service": "shop" })).collect();
    expect_error(
        &app,
        app.post_events(&key, &Value::Array(many)).await,
        413,
        "too_large",
    )
    .await;
    let huge = json!({ "service": "shop", "message": "x".repeat(1024 * 1024) });
    expect_error(&app, app.post_events(&key, &huge).await, 413, "too_large").await;

    // Corrupt gzip.
    let res = app
        .client
        .post(&url)
        .bearer_auth(&key)
        .header("content-encoding", "gzip")
        .body("not gzip at all")
        .send()
        .await
        .expect("sent");
    expect_error(&app, res, 400, "malformed").await;
}

#[tokio::test]
async fn missing_unknown_or_revoked_keys_are_401_and_wrong_rights_403() {
    let app = spawn_app().await;
    let event = json!({ "service": "shop" });

    let res = app
        .client
        .post(app.url("/api/v1/events"))
        .json(&event)
        .send()
        .await
        .expect("sent");
    expect_error(&app, res, 401, "unauthorized").await;
    let fake = "lst_AAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    expect_error(
        &app,
        app.post_events(fake, &event).await,
        401,
        "unauthorized",
    )
    .await;
    expect_error(
        &app,
        app.post_events("garbage", &event).await,
        401,
        "unauthorized",
    )
    .await;

    let revoked = app.key(&[Scope::Ingest], None).await;
    let prefix = app::keys::key_prefix(&revoked).expect("prefix").to_owned();
    app::keys::store::revoke(&app.pool, &prefix)
        .await
        .expect("revoke");
    expect_error(
        &app,
        app.post_events(&revoked, &event).await,
        401,
        "unauthorized",
    )
    .await;

    let read_only = app.key(&[Scope::Read], None).await;
    expect_error(
        &app,
        app.post_events(&read_only, &event).await,
        403,
        "forbidden",
    )
    .await;

    let bound = app.key(&[Scope::Ingest], Some("billing")).await;
    let body = expect_error(
        &app,
        app.post_events(
            &bound,
            &json!([{ "service": "billing" }, { "service": "shop" }]),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(body["error"]["index"], 1);
    // The bound service itself is fine.
    assert_eq!(
        app.post_events(&bound, &json!({ "service": "billing" }))
            .await
            .status(),
        202
    );
}

#[tokio::test]
async fn fixes_resolve_groups_and_later_errors_reopen_them() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let t = |h: i64| (Utc::now() - Duration::hours(h)).to_rfc3339();
    let status = || async {
        sqlx::query_as::<_, (i64, bool)>(
            "select event_count, coalesce(resolved_at >= last_seen, false) from error_groups where fingerprint = 'fp'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("group")
    };
    // A fix that arrives before its error (older timestamp first is irrelevant).
    app.post_events(&key, &json!({ "service": "shop", "type": "fix", "fingerprint": "fp", "timestamp": t(5), "release": "1.0.1" })).await;
    app.post_events(
        &key,
        &json!({ "service": "shop", "level": "error", "fingerprint": "fp", "timestamp": t(6) }),
    )
    .await;
    assert_eq!(status().await, (1, true), "error before the fix: resolved");
    app.post_events(
        &key,
        &json!({ "service": "shop", "level": "critical", "fingerprint": "fp", "timestamp": t(2) }),
    )
    .await;
    assert_eq!(status().await, (2, false), "error after the fix: reopened");
    app.post_events(
        &key,
        &json!({ "service": "shop", "type": "fix", "fingerprint": "fp", "timestamp": t(1) }),
    )
    .await;
    assert_eq!(status().await, (2, true));
    let resolutions: i64 = sqlx::query_scalar("select count(*) from error_resolutions")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(resolutions, 2);
}

#[tokio::test]
async fn errors_without_fingerprint_group_by_normalised_message() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    app.post_events(&key, &json!([
        { "service": "shop", "feature": "cart", "level": "error", "message": "cart 4711 not found", "user": "a" },
        { "service": "shop", "feature": "cart", "level": "error", "message": "cart 815 not found", "user": "b" },
        { "service": "shop", "feature": "cart", "level": "error", "message": "cart 9 not found", "user": "a" },
        { "service": "shop", "feature": "cart", "level": "error", "message": "price mismatch" }
    ])).await;
    let groups: Vec<(i64, i64)> = sqlx::query_as(
        "select event_count, users_affected from error_groups order by event_count desc",
    )
    .fetch_all(&app.pool)
    .await
    .expect("groups");
    assert_eq!(groups, vec![(3, 2), (1, 0)]);
}
