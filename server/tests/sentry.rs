//! Sentry-SDK compatible ingest: recorded envelopes of current SDKs, every
//! way of authenticating and compressing, the refusals (each storing
//! nothing), CORS, cron check-ins, the DSN, and the error-group REST API.

use std::io::Write;

use app::keys::Scope;
use serde_json::{Value, json};

use crate::helpers::*;

const KEY: &str = "0123456789abcdef0123456789abcdef";

type Encoder = fn(&[u8]) -> Vec<u8>;
/// What is wrong, project, body, headers, expected status.
type BadCase = (&'static str, i64, Vec<u8>, Vec<(&'static str, String)>, u16);

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sentry")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A service `shop` whose DSN key is [`KEY`]; returns its project id.
async fn shop(app: &TestApp) -> i64 {
    let id = app::services::store::ensure(&app.pool, "shop")
        .await
        .expect("service");
    sqlx::query("update services set sentry_key = $2 where id = $1")
        .bind(id)
        .bind(KEY)
        .execute(&app.pool)
        .await
        .expect("key");
    id
}

fn auth_header(key: &str) -> String {
    format!("Sentry sentry_version=7, sentry_client=sentry.python/2.76.0, sentry_key={key}")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// An envelope of one event.
fn envelope(event: &Value, header: Value) -> Vec<u8> {
    let payload = event.to_string();
    format!(
        "{header}\n{{\"type\":\"event\",\"length\":{}}}\n{payload}\n",
        payload.len()
    )
    .into_bytes()
}

fn error_event(id: &str, line: i64, release: &str) -> Value {
    json!({
        "event_id": id,
        "level": "error",
        "platform": "python",
        "release": release,
        "environment": "production",
        "tags": {"feature": "checkout"},
        "user": {"id": "u-1", "email": "anna@example.com"},
        "exception": {"values": [{
            "type": "ZeroDivisionError", "value": "division by zero",
            "stacktrace": {"frames": [
                {"function": "handle", "module": "shop.web", "lineno": 10, "in_app": true},
                {"function": "total", "module": "shop.cart", "lineno": line, "in_app": true,
                 "context_line": "    return a / b", "vars": {"token": "t-secret", "b": "0"}}
            ]}
        }]},
        "request": {"url": "https://shop.example/cart?token=abc", "method": "POST",
                    "headers": {"Authorization": "Bearer xyz", "Accept": "text/html"},
                    "cookies": {"session": "s3cr3t"},
                    "data": {"password": "hunter2", "card": "4111 1111 1111 1111"}},
    })
}

async fn post_envelope(
    app: &TestApp,
    project: i64,
    body: Vec<u8>,
    headers: &[(&str, String)],
    query: &str,
) -> reqwest::Response {
    let mut req = raw_client()
        .post(app.url(&format!("/api/{project}/envelope/{query}")))
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    req.send().await.expect("sent")
}

/// Every kept payload and attribute as one text, to look for secrets in.
async fn stored_text(app: &TestApp) -> String {
    let rows: Vec<(String, Option<Vec<u8>>)> =
        sqlx::query_as("select attributes::text, payload from events")
            .fetch_all(&app.pool)
            .await
            .expect("events");
    let mut out = String::new();
    for (attributes, payload) in rows {
        out.push_str(&attributes);
        if let Some(p) = payload {
            let json = zstd::decode_all(&p[..]).expect("zstd");
            let v: Value = serde_json::from_slice(&json).expect("json");
            out.push_str(&v.to_string());
        }
    }
    out
}

async fn event_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from events")
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn recorded_sdk_envelopes_are_stored_grouped_and_scrubbed() {
    let app = spawn_app().await;
    let project = shop(&app).await;
    let python = [
        ("content-type", "application/x-sentry-envelope".to_string()),
        ("content-encoding", "gzip".to_string()),
        ("x-sentry-auth", auth_header(KEY)),
    ];
    let node_query =
        format!("?sentry_version=7&sentry_key={KEY}&sentry_client=sentry.javascript.node%2F9.47.2");
    let cases: [(&str, bool, Option<&str>); 10] = [
        (
            "python-error.envelope.gz",
            true,
            Some("8e10e014b3144f0598b31926fbfb91b9"),
        ),
        ("python-transaction.envelope.gz", true, None),
        (
            "python-message.envelope.gz",
            true,
            Some("ba96e7d3f28740b8a3922efb79a0deff"),
        ),
        (
            "python-attachment.envelope.gz",
            true,
            Some("ce1483240f3e485a89bd54c666177822"),
        ),
        ("node-session.envelope", false, None),
        (
            "node-message.envelope",
            false,
            Some("8a05ec3903ea4c30b9b292ea51cf4591"),
        ),
        ("node-transaction.envelope", false, None),
        (
            "node-error.envelope",
            false,
            Some("6a60fd92fc5e4a0c93de1b44126b4600"),
        ),
        (
            "rust-error.envelope",
            true,
            Some("e5a42bfa1fc1496abd1ddc6f74a94fb3"),
        ),
        (
            "rust-message.envelope",
            true,
            Some("dfdcc009994d4e8c93eef9107b4fe573"),
        ),
    ];
    let rust = [("x-sentry-auth", auth_header(KEY))];
    for (name, header_key, event_id) in cases {
        let res = if name.starts_with("rust") {
            post_envelope(&app, project, fixture(name), &rust, "").await
        } else if header_key {
            post_envelope(&app, project, fixture(name), &python, "").await
        } else {
            post_envelope(&app, project, fixture(name), &[], &node_query).await
        };
        assert_eq!(
            res.status(),
            200,
            "{name}: {:?}",
            res.headers().get("x-sentry-error")
        );
        let body: Value = res.json().await.expect("json");
        if let Some(id) = event_id {
            assert_eq!(body["id"], id, "{name}");
        }
    }
    // Seven events (three errors, four messages); transactions, sessions
    // and the attachment are skipped.
    assert_eq!(event_count(&app).await, 7);
    let read = app.key(&[Scope::Read], None).await;
    let groups = app
        .get_json("/api/v1/error-groups?service=shop", &read)
        .await;
    let groups = groups.as_array().expect("array");
    let titles: Vec<&str> = groups.iter().filter_map(|g| g["title"].as_str()).collect();
    assert!(
        titles.contains(&"CheckoutError: could not check out the cart"),
        "{titles:?}"
    );
    assert!(titles.contains(&"Error: order rejected"), "{titles:?}");
    assert!(
        titles.contains(&"ConfigError: the port in the config is not a number"),
        "{titles:?}"
    );
    let py = groups
        .iter()
        .find(|g| g["title"] == "CheckoutError: could not check out the cart")
        .expect("python group");
    assert_eq!(py["status"], "open");
    assert_eq!(py["events"], 1);
    assert_eq!(py["users"], 1);
    assert_eq!(py["first_release"], "shop@2.4.1");
    assert!(
        py["culprit"].as_str().unwrap_or("").contains("checkout"),
        "{py}"
    );

    // The detail: the chain with frames, innermost cause first.
    let d = app
        .get_json(&format!("/api/v1/error-groups/{}", py["id"]), &read)
        .await;
    let chain = d["exception"].as_array().expect("chain");
    assert_eq!(chain.len(), 2, "{d}");
    assert_eq!(chain[0]["type"], "KeyError");
    assert_eq!(chain[1]["type"], "CheckoutError");
    let frames = chain[0]["frames"].as_array().expect("frames");
    assert!(
        frames
            .iter()
            .any(|f| f["function"] == "lookup" && f["in_app"] == true),
        "{frames:?}"
    );
    assert_eq!(d["user"]["id"], "u-4711");
    assert_eq!(d["tags"]["feature"], "checkout");
    assert!(d["breadcrumbs"].as_array().is_some_and(|b| b.len() >= 2));
    assert!(
        d["sdk"]
            .as_str()
            .is_some_and(|s| s.starts_with("sentry.python"))
    );

    // As Leitstand events: service, type, level, feature, release, user.
    let row: (String, String, i16, String, Option<String>, Option<String>) = sqlx::query_as(
        "select kind, message, level, feature, release, user_ref from events
         where id = '8e10e014-b314-4f05-98b3-1926fbfb91b9'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("event");
    assert_eq!(row.0, "CheckoutError");
    assert_eq!(row.1, "could not check out the cart");
    assert_eq!(row.2, 3);
    assert_eq!(row.3, "checkout");
    assert_eq!(row.4.as_deref(), Some("shop@2.4.1"));
    assert_eq!(row.5.as_deref(), Some("u-4711"));
    let warning: i16 = sqlx::query_scalar(
        "select level from events where id = 'ba96e7d3-f287-40b8-a392-2efb79a0deff'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("message");
    assert_eq!(warning, 2);
    // The local `password` is a frame variable: its value is not kept (the
    // source line that assigns it is code, shown as sent).
    let stored = stored_text(&app).await;
    assert!(stored.contains(r#""password":"[Filtered]""#), "{stored}");
    assert!(!stored.contains(r#""password":"'hunter2'""#));
    // They count in the KPIs like any event.
    let dash = app.get_dashboard(&read, "?service=shop&window=24h").await;
    assert!(dash.to_string().contains("\"events\""), "{dash}");
    app.stop().await;
}

#[tokio::test]
async fn every_auth_method_encoding_and_content_type_is_accepted() {
    let app = spawn_app().await;
    let project = shop(&app).await;
    let mut n = 0;
    let mut next_id = || {
        n += 1;
        format!("{n:032x}")
    };
    let plain_header = json!({});
    // Key in the header, with each encoding.
    let encodings: [(&str, Encoder); 5] = [
        ("identity", |b| b.to_vec()),
        ("gzip", gzip),
        ("deflate", |b| {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(b).expect("deflate");
            e.finish().expect("deflate")
        }),
        ("br", |b| {
            let mut out = Vec::new();
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(b).expect("br");
            drop(w);
            out
        }),
        ("zstd", |b| zstd::encode_all(b, 3).expect("zstd")),
    ];
    for (encoding, encode) in encodings {
        let body = envelope(&error_event(&next_id(), 20, "1.0"), plain_header.clone());
        let res = post_envelope(
            &app,
            project,
            encode(&body),
            &[
                ("content-encoding", encoding.to_string()),
                ("x-sentry-auth", auth_header(KEY)),
            ],
            "",
        )
        .await;
        assert_eq!(
            res.status(),
            200,
            "{encoding}: {:?}",
            res.headers().get("x-sentry-error")
        );
    }
    // Key in the query, without a content type.
    let body = envelope(&error_event(&next_id(), 20, "1.0"), plain_header.clone());
    let res = post_envelope(&app, project, body, &[], &format!("?sentry_key={KEY}")).await;
    assert_eq!(res.status(), 200);
    // Key only in the envelope's DSN, content type text/plain (browser SDKs).
    let dsn = format!("http://{KEY}@127.0.0.1/{project}");
    let body = envelope(&error_event(&next_id(), 20, "1.0"), json!({ "dsn": dsn }));
    let res = post_envelope(
        &app,
        project,
        body,
        &[("content-type", "text/plain;charset=UTF-8".into())],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
    // Chunked transfer: a streamed body of unknown length.
    let body = envelope(&error_event(&next_id(), 20, "1.0"), plain_header.clone());
    let stream = futures::stream::iter(
        body.chunks(100)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let res = raw_client()
        .post(app.url(&format!("/api/{project}/envelope/")))
        .header("x-sentry-auth", auth_header(KEY))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    // The legacy store endpoint: JSON, gzip, key in the header or query.
    for (ct, encoding) in [("application/json", "identity"), ("text/plain", "gzip")] {
        let event = error_event(&next_id(), 20, "1.0").to_string().into_bytes();
        let body = if encoding == "gzip" {
            gzip(&event)
        } else {
            event
        };
        let res = raw_client()
            .post(app.url(&format!("/api/{project}/store/?sentry_key={KEY}")))
            .header("content-type", ct)
            .header("content-encoding", encoding)
            .body(body)
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), 200, "store {ct}");
        assert!(res.json::<Value>().await.expect("json")["id"].is_string());
    }
    // Every other item type is accepted and skipped: sessions in aggregate,
    // a client report, a profile, a replay, a log, an unknown type.
    let event = error_event(&next_id(), 20, "1.0").to_string();
    let mut body = format!(
        "{{}}\n{{\"type\":\"event\",\"length\":{}}}\n{event}\n",
        event.len()
    );
    for (kind, payload) in [
        (
            "sessions",
            r#"{"aggregates":[{"started":"2026-12-04T10:00:00Z","exited":12,"errored":1}],"attrs":{"release":"1.0"}}"#,
        ),
        (
            "client_report",
            r#"{"timestamp":1764756000,"discarded_events":[{"reason":"queue_overflow","category":"error","quantity":3}]}"#,
        ),
        ("profile", r#"{"version":"1","samples":[]}"#),
        (
            "replay_event",
            r#"{"type":"replay_event","replay_id":"abc"}"#,
        ),
        ("log", r#"{"items":[{"level":"info","body":"hello"}]}"#),
        ("something_new", "opaque\u{0}bytes"),
    ] {
        body.push_str(&format!(
            "{{\"type\":\"{kind}\",\"length\":{}}}\n{payload}\n",
            payload.len()
        ));
    }
    let res = post_envelope(
        &app,
        project,
        body.into_bytes(),
        &[("x-sentry-auth", auth_header(KEY))],
        "",
    )
    .await;
    assert_eq!(
        res.status(),
        200,
        "{:?}",
        res.headers().get("x-sentry-error")
    );
    assert_eq!(event_count(&app).await, 11);
    let read = app.key(&[Scope::Read], None).await;
    let stats = app.get_json("/api/v1/sentry/stats", &read).await;
    for kind in [
        "sessions",
        "client_report",
        "profile",
        "replay_event",
        "log",
        "unknown",
    ] {
        assert!(
            stats["skipped_items"][kind].as_u64() >= Some(1),
            "{kind}: {stats}"
        );
    }
    // Eleven events of one release: one group.
    let groups: i64 = sqlx::query_scalar("select count(*) from error_groups where event_count > 0")
        .fetch_one(&app.pool)
        .await
        .expect("groups");
    assert_eq!(groups, 1);
    // A new line number and release: still the same group.
    let body = envelope(&error_event(&next_id(), 99, "2.0"), plain_header);
    let res = post_envelope(
        &app,
        project,
        body,
        &[("x-sentry-auth", auth_header(KEY))],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
    let (groups, events): (i64, i64) = sqlx::query_as(
        "select count(*), sum(event_count)::int8 from error_groups where event_count > 0",
    )
    .fetch_one(&app.pool)
    .await
    .expect("groups");
    assert_eq!((groups, events), (1, 12));
    // Scrubbed in the stored payload: headers, cookies, passwords, cards, tokens.
    let stored = stored_text(&app).await;
    assert!(stored.contains("text/html"), "the payload was kept");
    for secret in [
        "Bearer xyz",
        "s3cr3t",
        "hunter2",
        "4111 1111",
        "t-secret",
        "token=abc",
    ] {
        assert!(!stored.contains(secret), "{secret} was stored");
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_envelopes_get_a_clear_error_and_store_nothing() {
    let app = spawn_app().await;
    let project = shop(&app).await;
    let other = app::services::store::ensure(&app.pool, "other")
        .await
        .expect("service");
    let good = envelope(&error_event(&format!("{:032x}", 1), 1, "1"), json!({}));
    let auth = || vec![("x-sentry-auth", auth_header(KEY))];
    let huge_event = json!({"message": "x".repeat(2 * 1024 * 1024)});
    let bomb = gzip(&vec![b' '; 101 * 1024 * 1024]);
    let cases: Vec<BadCase> = vec![
        ("no key", project, good.clone(), vec![], 401),
        (
            "unknown key",
            project,
            good.clone(),
            vec![(
                "x-sentry-auth",
                auth_header("ffffffffffffffffffffffffffffffff"),
            )],
            401,
        ),
        ("key of another project", other, good.clone(), auth(), 403),
        (
            "two different keys",
            project,
            envelope(
                &error_event(&format!("{:032x}", 2), 1, "1"),
                json!({"dsn": "http://ffffffffffffffffffffffffffffffff@h/1"}),
            ),
            auth(),
            400,
        ),
        (
            "truncated envelope",
            project,
            b"{}\n{\"type\":\"event\",\"length\":500}\n{\"message\":\"hi\"}".to_vec(),
            auth(),
            400,
        ),
        (
            "bad item length",
            project,
            b"{}\n{\"type\":\"event\",\"length\":-3}\n{}\n".to_vec(),
            auth(),
            400,
        ),
        (
            "item header lying about its length",
            project,
            b"{}\n{\"type\":\"event\",\"length\":2}\n{\"message\":\"hi\"}\n".to_vec(),
            auth(),
            400,
        ),
        (
            "non-JSON event",
            project,
            b"{}\n{\"type\":\"event\"}\nthis is not json\n".to_vec(),
            auth(),
            400,
        ),
        (
            "2 MB event",
            project,
            envelope(&huge_event, json!({})),
            auth(),
            413,
        ),
        ("garbage", project, b"\x00\x01garbage".to_vec(), auth(), 400),
        (
            "gzip bomb",
            project,
            bomb,
            vec![
                ("x-sentry-auth", auth_header(KEY)),
                ("content-encoding", "gzip".into()),
            ],
            413,
        ),
        (
            "corrupt gzip",
            project,
            b"\x1f\x8b\x08\x00garbage".to_vec(),
            vec![
                ("x-sentry-auth", auth_header(KEY)),
                ("content-encoding", "gzip".into()),
            ],
            400,
        ),
        (
            "unknown encoding",
            project,
            good.clone(),
            vec![
                ("x-sentry-auth", auth_header(KEY)),
                ("content-encoding", "lzma".into()),
            ],
            415,
        ),
    ];
    for (what, project, body, headers, status) in cases {
        let res = post_envelope(&app, project, body, &headers, "").await;
        assert_eq!(res.status(), status, "{what}");
        let message = res
            .headers()
            .get("x-sentry-error")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(!message.is_empty(), "{what}: no X-Sentry-Error");
        let body: Value = res.json().await.expect("json error");
        assert!(body["error"]["message"].is_string(), "{what}: {body}");
    }
    // The store endpoint's own limits: 200 KiB sent, 1 MiB decompressed.
    let store = |body: Vec<u8>, encoding: &'static str| {
        raw_client()
            .post(app.url(&format!("/api/{project}/store/?sentry_key={KEY}")))
            .header("content-encoding", encoding)
            .body(body)
            .send()
    };
    let big = json!({"message": "y".repeat(300 * 1024)})
        .to_string()
        .into_bytes();
    assert_eq!(store(big, "identity").await.expect("sent").status(), 413);
    let inflated = gzip(
        json!({"message": "z".repeat(2 * 1024 * 1024)})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(store(inflated, "gzip").await.expect("sent").status(), 413);
    assert_eq!(
        store(b"[1,2]".to_vec(), "identity")
            .await
            .expect("sent")
            .status(),
        400
    );
    assert_eq!(
        event_count(&app).await,
        0,
        "a refused request stored something"
    );
    let groups: i64 = sqlx::query_scalar("select count(*) from error_groups")
        .fetch_one(&app.pool)
        .await
        .expect("groups");
    assert_eq!(groups, 0);
    app.stop().await;
}

#[tokio::test]
async fn over_the_rate_limit_the_sdk_is_told_when_to_retry() {
    let app = spawn_app_with(|s| s.limits.ingest_rate_per_key = 1).await;
    let project = shop(&app).await;
    let mut limited = None;
    for i in 0..6 {
        let body = envelope(&error_event(&format!("{:032x}", i + 1), 1, "1"), json!({}));
        let res = post_envelope(
            &app,
            project,
            body,
            &[("x-sentry-auth", auth_header(KEY))],
            "",
        )
        .await;
        if res.status() == 429 {
            limited = Some(res);
            break;
        }
        assert_eq!(res.status(), 200);
    }
    let res = limited.expect("a 429 within six quick envelopes");
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!(retry >= 1);
    let limits = res.headers()["x-sentry-rate-limits"]
        .to_str()
        .expect("text");
    assert!(limits.starts_with(&format!("{retry}:")), "{limits}");
    assert!(res.headers().contains_key("x-sentry-error"));
    app.stop().await;
}

#[tokio::test]
async fn browser_sdks_get_cors_answers_only_for_allowed_origins() {
    let app = spawn_app().await;
    let project = shop(&app).await;
    let admin = app.key(&[Scope::Admin], None).await;
    // A bad origin is refused and changes nothing.
    let res = app
        .client
        .patch(app.url("/api/v1/services/shop"))
        .bearer_auth(&admin)
        .json(&json!({"allowed_origins": ["shop.example/path"]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 422);
    let res = app
        .client
        .patch(app.url("/api/v1/services/shop"))
        .bearer_auth(&admin)
        .json(&json!({"allowed_origins": ["https://shop.example"]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.expect("json")["allowed_origins"],
        json!(["https://shop.example"])
    );
    let preflight = |origin: &'static str| {
        raw_client()
            .request(
                reqwest::Method::OPTIONS,
                app.url(&format!("/api/{project}/envelope/")),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight("https://shop.example").await.expect("sent");
    assert_eq!(ok.status(), 204);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert!(
        ok.headers()["access-control-allow-methods"]
            .to_str()
            .expect("text")
            .contains("POST")
    );
    let refused = preflight("https://evil.example").await.expect("sent");
    assert_eq!(refused.status(), 403);
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
    // The POST itself, cross-origin, with the key in the query.
    let body = envelope(&error_event(&format!("{:032x}", 9), 1, "1"), json!({}));
    let res = post_envelope(
        &app,
        project,
        body,
        &[
            ("origin", "https://shop.example".into()),
            ("content-type", "text/plain;charset=UTF-8".into()),
        ],
        &format!("?sentry_key={KEY}"),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    app.stop().await;
}

#[tokio::test]
async fn cron_check_ins_ping_the_heartbeat_of_the_same_name() {
    let app = spawn_app().await;
    let project = shop(&app).await;
    let admin = app.key(&[Scope::Admin], None).await;
    let res = app
        .post_json(
            "/api/v1/services/shop/probes",
            &admin,
            &json!({"kind": "heartbeat", "name": "Nightly import", "period_seconds": 3600, "grace_seconds": 600}),
        )
        .await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let check_in = |status: &str| {
        let payload = json!({"check_in_id": "83a7c0f2d1a94b3c9d0e1f2a3b4c5d6e",
                             "monitor_slug": "nightly-import", "status": status, "duration": 12.5});
        let p = payload.to_string();
        format!(
            "{{}}\n{{\"type\":\"check_in\",\"length\":{}}}\n{p}\n",
            p.len()
        )
        .into_bytes()
    };
    let probe = || async {
        sqlx::query_as::<_, (Option<chrono::DateTime<chrono::Utc>>, String)>(
            "select last_ping_at, state from probes where name = 'Nightly import'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("probe")
    };
    // Started: nothing yet.
    let res = post_envelope(
        &app,
        project,
        check_in("in_progress"),
        &[("x-sentry-auth", auth_header(KEY))],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(probe().await.0, None);
    let res = post_envelope(
        &app,
        project,
        check_in("ok"),
        &[("x-sentry-auth", auth_header(KEY))],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
    let (pinged, state) = probe().await;
    assert!(pinged.is_some());
    assert_eq!(state, "up");
    let results: i64 = sqlx::query_scalar("select count(*) from probe_results")
        .fetch_one(&app.pool)
        .await
        .expect("results");
    assert_eq!(results, 1);
    // A failed run is a failed check.
    let res = post_envelope(
        &app,
        project,
        check_in("error"),
        &[("x-sentry-auth", auth_header(KEY))],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
    let failed: i64 =
        sqlx::query_scalar("select count(*) from probe_results where outcome <> 'up'")
            .fetch_one(&app.pool)
            .await
            .expect("results");
    assert_eq!(failed, 1);
    // A monitor without a heartbeat is accepted and skipped.
    let payload = json!({"monitor_slug": "unknown-job", "status": "ok"}).to_string();
    let body = format!("{{}}\n{{\"type\":\"check_in\"}}\n{payload}\n").into_bytes();
    let res = post_envelope(
        &app,
        project,
        body,
        &[("x-sentry-auth", auth_header(KEY))],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn the_dsn_is_shown_rotated_and_printed_by_the_cli() {
    let app = spawn_app().await;
    let read = app.key(&[Scope::Read], None).await;
    let admin = app.key(&[Scope::Admin], None).await;
    app::services::store::ensure(&app.pool, "shop")
        .await
        .expect("service");
    let doc = app.get_json("/api/v1/services/shop", &read).await;
    let dsn = doc["dsn"].as_str().expect("dsn").to_owned();
    let parsed = server::sentry::auth::parse_dsn(&dsn).expect("a DSN");
    assert_eq!(parsed.public_key.len(), 32);
    assert_eq!(parsed.host, app.addr.to_string());
    // The same DSN on every read.
    assert_eq!(
        app.get_json("/api/v1/services/shop", &read).await["dsn"],
        dsn.as_str()
    );
    // It works.
    let project: i64 = parsed.project_id.parse().expect("id");
    let body = envelope(&error_event(&format!("{:032x}", 1), 1, "1"), json!({}));
    let res = post_envelope(
        &app,
        project,
        body.clone(),
        &[("x-sentry-auth", auth_header(&parsed.public_key))],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
    // Rotating needs admin; afterwards the old key is refused.
    assert_eq!(
        app.post_as("/api/v1/services/shop/dsn/rotate", &read)
            .await
            .status(),
        403
    );
    let res = app
        .post_as("/api/v1/services/shop/dsn/rotate", &admin)
        .await;
    assert_eq!(res.status(), 200);
    let rotated = res.json::<Value>().await.expect("json")["dsn"]
        .as_str()
        .expect("dsn")
        .to_owned();
    assert_ne!(rotated, dsn);
    let body = envelope(&error_event(&format!("{:032x}", 2), 1, "1"), json!({}));
    let res = post_envelope(
        &app,
        project,
        body,
        &[("x-sentry-auth", auth_header(&parsed.public_key))],
        "",
    )
    .await;
    assert_eq!(res.status(), 401);
    // The command line prints a DSN, creating the service when missing.
    let db = db_url(&app.db_name);
    let (ok, out, err) = run_cli(&db, &["service", "dsn", "billing"]).await;
    assert!(ok, "{err}");
    let cli = server::sentry::auth::parse_dsn(out.trim()).expect("a DSN");
    let stored: Option<String> =
        sqlx::query_scalar("select sentry_key from services where slug = 'billing'")
            .fetch_one(&app.pool)
            .await
            .expect("service");
    assert_eq!(stored.as_deref(), Some(cli.public_key.as_str()));
    let (ok, rotated, err) = run_cli(&db, &["service", "dsn", "billing", "--rotate"]).await;
    assert!(ok, "{err}");
    let rotated = server::sentry::auth::parse_dsn(rotated.trim()).expect("a DSN");
    assert_ne!(rotated.public_key, cli.public_key);
    assert_eq!(rotated.project_id, cli.project_id);
    let (ok, _, err) = run_cli(&db, &["service", "dsn", "Not A Slug"]).await;
    assert!(!ok);
    assert!(err.contains("lowercase"), "{err}");
    app.stop().await;
}

#[tokio::test]
async fn error_groups_change_status_over_rest_with_the_right_scope() {
    let app = spawn_app().await;
    let project = shop(&app).await;
    let read = app.key(&[Scope::Read], None).await;
    let errors = app.key(&[Scope::Errors], None).await;
    let body = envelope(&error_event(&format!("{:032x}", 1), 1, "1.0"), json!({}));
    let res = post_envelope(
        &app,
        project,
        body,
        &[("x-sentry-auth", auth_header(KEY))],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
    let groups = app
        .get_json("/api/v1/error-groups?status=open", &read)
        .await;
    let id = groups[0]["id"].as_i64().expect("id");
    let patch = |key: &str, body: Value| {
        app.client
            .patch(app.url(&format!("/api/v1/error-groups/{id}")))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    // A read key may not; a bad status is refused and changes nothing.
    assert_eq!(
        patch(&read, json!({"status": "resolved"}))
            .await
            .expect("sent")
            .status(),
        403
    );
    let res = patch(&errors, json!({"status": "fixed"}))
        .await
        .expect("sent");
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<Value>().await.expect("json")["error"]["field"],
        "status"
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/error-groups/{id}"), &read)
            .await["status"],
        "open"
    );
    let res = patch(&errors, json!({"status": "resolved"}))
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.expect("json")["status"],
        "resolved"
    );
    assert_eq!(
        app.get_json("/api/v1/error-groups?status=resolved", &read)
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // Ignored, then open again.
    let res = patch(&errors, json!({"status": "ignored"}))
        .await
        .expect("sent");
    assert_eq!(
        res.json::<Value>().await.expect("json")["status"],
        "ignored"
    );
    let res = patch(&errors, json!({"status": "open"}))
        .await
        .expect("sent");
    assert_eq!(res.json::<Value>().await.expect("json")["status"], "open");
    // Resolved in the next release: once 1.1 is seen, it is resolved.
    let res = patch(&errors, json!({"status": "resolved_in_next_release"}))
        .await
        .expect("sent");
    let g = res.json::<Value>().await.expect("json");
    assert_eq!(g["resolve_after_release"], "1.0");
    assert_eq!(g["status"], "open");
    let ingest = app.key(&[Scope::Ingest], None).await;
    let res = app
        .post_events(
            &ingest,
            &json!({"service": "shop", "type": "deploy", "level": "info", "release": "1.1"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let mut conn = app.pool.acquire().await.expect("conn");
    app::error_groups::store::resolve_released(&mut conn)
        .await
        .expect("resolve");
    drop(conn);
    let g = app
        .get_json(&format!("/api/v1/error-groups/{id}"), &read)
        .await;
    assert_eq!(g["status"], "resolved", "{g}");
    // A key bound to another service sees none of it.
    let bound = app.key(&[Scope::Read], Some("other")).await;
    assert_eq!(
        app.get_as(&format!("/api/v1/error-groups/{id}"), &bound)
            .await
            .status(),
        403
    );
    let listed = app.get_json("/api/v1/error-groups", &bound).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(0));
    // Unknown ids and bad filters.
    assert_eq!(
        app.get_as("/api/v1/error-groups/999999", &read)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_as("/api/v1/error-groups?status=nope", &read)
            .await
            .status(),
        422
    );
    assert_eq!(
        app.get_as("/api/v1/error-groups?cursor=zz", &read)
            .await
            .status(),
        422
    );
    // The releases of the service.
    let releases = app::error_groups::store::releases(&app.pool, "shop")
        .await
        .expect("releases");
    let versions: Vec<&str> = releases.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, vec!["1.1", "1.0"]);
    assert!(releases[0].deployed);
    assert_eq!(releases[1].new_groups, 1);
    app.stop().await;
}

#[tokio::test]
async fn erasing_a_user_takes_their_errors_out_of_groups_hours_and_releases() {
    let app = spawn_app().await;
    let project = shop(&app).await;
    let admin = app.key(&[Scope::Admin], None).await;
    for i in 1..=3 {
        let mut event = error_event(&format!("{i:032x}"), 1, "1.0");
        if i == 3 {
            event["user"] = json!({"id": "u-2"});
        }
        let res = post_envelope(
            &app,
            project,
            envelope(&event, json!({})),
            &[("x-sentry-auth", auth_header(KEY))],
            "",
        )
        .await;
        assert_eq!(res.status(), 200);
    }
    let sums = || async {
        sqlx::query_as::<_, (i64, i64, i64)>(
            "select (select coalesce(sum(events), 0)::int8 from error_group_hourly),
                    (select coalesce(sum(events), 0)::int8 from releases),
                    (select coalesce(sum(event_count), 0)::int8 from error_groups)",
        )
        .fetch_one(&app.pool)
        .await
        .expect("sums")
    };
    assert_eq!(sums().await, (3, 3, 3));
    // The export holds what the SDK sent, too.
    let export = app
        .get_json("/api/v1/privacy/users/u-1/events", &admin)
        .await;
    let text = export.to_string();
    assert!(
        text.contains("ZeroDivisionError") && text.contains("return a / b"),
        "{text}"
    );
    let res = app
        .delete_as("/api/v1/privacy/users/u-1/events", &admin)
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(sums().await, (1, 1, 1));
    app.stop().await;
}
