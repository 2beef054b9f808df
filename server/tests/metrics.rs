//! `/metrics`: who may read it, the formats, values that follow what the
//! server does, and the Grafana dashboard's queries.

use std::collections::BTreeSet;

use app::keys::Scope;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

/// The value of one sample (`name{labels} value`), labels given in the
/// order the exporter writes them (sorted as recorded).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            (name == series)
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .unwrap_or(0.0)
}

/// Names of the metric families in an exposition (`# TYPE name kind`).
fn families(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn metrics_need_a_key_with_the_metrics_scope() {
    let app = spawn_app().await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.expect("json error");
    assert_eq!(body["error"]["code"], "unauthorized");

    let read = app.key(&[Scope::Read, Scope::Ingest], None).await;
    let res = app.get_as("/metrics", &read).await;
    assert_eq!(res.status(), 403);

    for scopes in [&[Scope::Metrics][..], &[Scope::Admin][..]] {
        let key = app.key(scopes, None).await;
        let res = app.get_as("/metrics", &key).await;
        assert_eq!(res.status(), 200, "{scopes:?}");
        assert_eq!(
            res.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(res.headers()["cache-control"], "no-store");
        let text = res.text().await.expect("text");
        assert!(text.contains("# TYPE leitstand_build_info gauge"), "{text}");
    }
}

#[tokio::test]
async fn metrics_follow_ingest_and_requests() {
    let app = spawn_app().await;
    let metrics_key = app.key(&[Scope::Metrics], None).await;
    let ingest_key = app.ingest_key().await;
    let scrape = || async {
        let res = app.get_as("/metrics", &metrics_key).await;
        assert_eq!(res.status(), 200);
        res.text().await.expect("text")
    };
    let accepted = r#"leitstand_ingest_events_total{outcome="accepted"}"#;
    let duplicate = r#"leitstand_ingest_events_total{outcome="duplicate"}"#;
    let rejected = r#"leitstand_ingest_rejected_total{reason="validation_failed"}"#;
    let posted =
        r#"leitstand_http_requests_total{route="/api/v1/events",method="POST",status="202"}"#;

    let before = scrape().await;
    let ids: Vec<String> = (0..3).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let batch = json!(
        ids.iter()
            .map(|id| json!({ "id": id, "service": "shop", "type": "order.placed" }))
            .collect::<Vec<_>>()
    );
    assert_eq!(app.post_events(&ingest_key, &batch).await.status(), 202);
    assert_eq!(app.post_events(&ingest_key, &batch).await.status(), 202);
    let bad = app
        .post_events(&ingest_key, &json!({ "service": "", "type": "x" }))
        .await;
    assert_eq!(bad.status(), 422);
    let bad: serde_json::Value = bad.json().await.expect("json");
    let after = scrape().await;

    // Other tests in this process count too, so at least what we sent.
    assert!(
        sample(&after, accepted) >= sample(&before, accepted) + 3.0,
        "{after}"
    );
    assert!(
        sample(&after, duplicate) >= sample(&before, duplicate) + 3.0,
        "{after}"
    );
    let reason = bad["error"]["code"].as_str().expect("code");
    let rejected = rejected.replace("validation_failed", reason);
    assert!(
        sample(&after, &rejected) >= sample(&before, &rejected) + 1.0,
        "{after}"
    );
    assert!(
        sample(&after, posted) >= sample(&before, posted) + 2.0,
        "{after}"
    );

    let names = families(&after);
    for name in [
        "leitstand_http_request_duration_seconds",
        "leitstand_ingest_batch_events",
        "leitstand_ingest_batch_requests",
        "leitstand_ingest_commit_duration_seconds",
        "leitstand_db_pool_acquire_duration_seconds",
        "leitstand_db_pool_connections",
        "leitstand_live_streams_open",
        "leitstand_dead_letters",
        "leitstand_probes",
        "leitstand_process_resident_memory_bytes",
        "leitstand_process_open_fds",
        "leitstand_process_cpu_seconds_total",
    ] {
        assert!(names.contains(name), "{name} missing from:\n{after}");
    }
    // Paths that match no route are labelled by their area, never by path.
    let _ = app.get("/pkg/no-such-file-123.js").await;
    let text = scrape().await;
    assert!(!text.contains("no-such-file-123"), "{text}");
    assert!(text.contains(r#"route="(static)""#), "{text}");
    assert!(
        text.lines()
            .all(|l| l.is_empty() || l.starts_with('#') || l.starts_with("leitstand_")),
        "every metric name starts with leitstand_"
    );
}

#[tokio::test]
async fn backups_show_their_age_and_last_result() {
    let app = spawn_app().await;
    let key = app.key(&[Scope::Metrics], None).await;
    sqlx::query(
        "insert into backups (kind, status, created_at, finished_at)
         values ('manual', 'ok', now() - interval '2 hours', now() - interval '2 hours'),
                ('manual', 'failed', now() - interval '1 hour', now() - interval '1 hour')",
    )
    .execute(&app.pool)
    .await
    .expect("backups");
    let text = app
        .get_as("/metrics", &key)
        .await
        .text()
        .await
        .expect("text");
    let age = sample(&text, "leitstand_backup_age_seconds");
    assert!((7000.0..7400.0).contains(&age), "age {age}\n{text}");
    assert_eq!(sample(&text, "leitstand_backup_last_ok"), 0.0, "{text}");
    assert!(text.contains("leitstand_backup_last_ok 0"), "{text}");
}

#[tokio::test]
async fn openmetrics_is_served_when_asked_for() {
    let app = spawn_app().await;
    let key = app.key(&[Scope::Metrics], None).await;
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(&key)
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/openmetrics-text; version=1.0.0")
    );
    let text = res.text().await.expect("text");
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[tokio::test]
async fn allow_listed_clients_and_the_metrics_listener_need_no_key() {
    let app = spawn_app_with(|s| {
        s.http.metrics_allow = vec!["127.0.0.0/8".into()];
    })
    .await;
    assert_eq!(app.get("/metrics").await.status(), 200);

    let app = spawn_app_with(|s| {
        s.http.metrics_listen = Some("127.0.0.1:0".parse().expect("addr"));
    })
    .await;
    assert_eq!(
        app.get("/metrics").await.status(),
        401,
        "main listener keeps the key"
    );
    let addr = app.metrics_addr.expect("metrics listener");
    let res = app
        .client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .expect("text")
            .contains("leitstand_build_info")
    );
    // It serves nothing else.
    let res = app
        .client
        .get(format!("http://{addr}/api/v1/dashboard"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 404);
}

#[test]
fn the_grafana_dashboard_queries_only_metrics_that_exist() {
    let text = include_str!("../../docs/grafana-dashboard.json");
    let dashboard: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    assert!(dashboard["title"].is_string());
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8, "the main panels");
    let known: BTreeSet<&str> = server::metrics::METRICS
        .iter()
        .map(|(name, _, _)| *name)
        .chain(server::metrics::PROCESS_METRICS.iter().copied())
        .collect();
    let mut queried = 0;
    for panel in panels {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("every target has a query");
            let mut names = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("leitstand_"))
                .peekable();
            assert!(names.peek().is_some(), "{expr} names no leitstand metric");
            for name in names {
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s))
                    .filter(|b| known.contains(b))
                    .unwrap_or(name);
                assert!(
                    known.contains(base),
                    "{base} (in `{expr}`) is not a Leitstand metric"
                );
                queried += 1;
            }
        }
    }
    assert!(queried >= 10);
}
