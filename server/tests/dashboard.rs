//! GET /api/v1/dashboard: every field, exactly, for a known set of events.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{db_url, raw_client, rpc, run_cli, spawn_app, spawn_app_with};

fn at(now: DateTime<Utc>, back: Duration) -> String {
    (now - back).to_rfc3339()
}

fn close(actual: &Value, expected: f64, what: &str) {
    let a = actual.as_f64().unwrap_or(f64::NAN);
    assert!(
        (a - expected).abs() < 1e-9,
        "{what}: got {a}, expected {expected}"
    );
}

/// The known set: relative to `now`, far from any window edge.
fn events(now: DateTime<Utc>) -> Value {
    let h = Duration::hours;
    let mut list = Vec::new();
    for _ in 0..10 {
        list.push(json!({ "service": "shop", "feature": "checkout", "type": "order.placed", "timestamp": at(now, h(2)) }));
    }
    list.push(json!({ "service": "shop", "feature": "checkout", "level": "error", "fingerprint": "fp-pay", "timestamp": at(now, h(3)) }));
    list.push(json!({ "service": "shop", "feature": "checkout", "level": "error", "fingerprint": "fp-pay", "timestamp": at(now, h(50)) }));
    list.push(json!({ "service": "shop", "feature": "checkout", "level": "critical", "fingerprint": "fp-crash", "timestamp": at(now, h(26)) }));
    list.push(json!({ "service": "shop", "feature": "checkout", "type": "fix", "fingerprint": "fp-pay", "timestamp": at(now, h(1)) }));
    for _ in 0..3 {
        list.push(json!({ "service": "crm", "feature": "import", "timestamp": at(now, Duration::days(10)) }));
    }
    list.push(
        json!({ "service": "crm", "feature": "import", "level": "error", "fingerprint": "fp-csv",
                      "timestamp": at(now, Duration::days(10) - h(1)) }),
    );
    list.push(json!({ "service": "shop", "feature": "search", "level": "warning", "timestamp": at(now, Duration::days(40)) }));
    Value::Array(list)
}

fn day_of(now: DateTime<Utc>, back: Duration) -> String {
    (now - back).format("%Y-%m-%d").to_string()
}

#[tokio::test]
async fn every_kpi_matches_its_definition_exactly() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let now = Utc::now();
    let res = app.post_events(&key, &events(now)).await;
    assert_eq!(res.status(), 202);

    let d = app.get_dashboard(&key, "?range=30d").await;
    assert_eq!(d["range"], "30d");
    let k = &d["kpis"];
    // 30 days: 18 events (the fix counts too), 4 of them errors (3 shop, 1 crm).
    assert_eq!(k["events"], 18);
    assert_eq!(k["errors"], 4);
    let error_rate = 4.0 / 18.0 * 100.0;
    close(&k["error_rate"], error_rate, "error rate");
    close(&k["quality"], 100.0 - error_rate, "quality");
    // Last 24 h: 10 orders, 1 error, 1 fix.
    assert_eq!(k["usage_24h"], 12);
    close(&k["activity"], 12.0, "activity (target 100/day)");
    // One hourly bucket of 168 had a critical event.
    let stability = 167.0 / 168.0 * 100.0;
    close(&k["stability"], stability, "stability");
    close(
        &k["readiness"],
        0.3 * 12.0 + 0.4 * (100.0 - error_rate) + 0.3 * stability,
        "readiness",
    );

    // The previous 30 days hold the single warning from 40 days ago.
    assert_eq!(d["previous"]["events"], 1);
    assert_eq!(d["previous"]["errors"], 0);

    // Timeline: the last 7 UTC days, oldest first.
    let timeline = d["timeline"].as_array().expect("timeline");
    assert_eq!(timeline.len(), 7);
    assert_eq!(timeline[6]["date"], day_of(now, Duration::zero()));
    assert_eq!(timeline[0]["date"], day_of(now, Duration::days(6)));
    let mut expected_days = std::collections::BTreeMap::<String, (i64, i64, i64)>::new();
    for (back, events, errors, fixes) in [
        (Duration::hours(2), 10, 0, 0),
        (Duration::hours(3), 1, 1, 0),
        (Duration::hours(50), 1, 1, 0),
        (Duration::hours(26), 1, 1, 0),
        (Duration::hours(1), 1, 0, 1),
    ] {
        let e = expected_days.entry(day_of(now, back)).or_default();
        e.0 += events;
        e.1 += errors;
        e.2 += fixes;
    }
    for day in timeline {
        let date = day["date"].as_str().unwrap_or_default();
        let (events, errors, fixes) = expected_days.get(date).copied().unwrap_or_default();
        assert_eq!(day["events"], events, "events on {date}");
        assert_eq!(day["errors"], errors, "errors on {date}");
        assert_eq!(day["fixes"], fixes, "fixes on {date}");
    }

    // Error analysis: fp-pay resolved (fix after its last error); fp-crash
    // and fp-csv open. MTTR = fix − first error of fp-pay = 49 h.
    let e = &d["errors"];
    assert_eq!(
        e["top_sources"],
        json!([{ "service": "shop", "feature": "checkout", "errors": 3 },
               { "service": "crm", "feature": "import", "errors": 1 }])
    );
    assert_eq!(e["open"], 2);
    close(&e["fix_rate"], 100.0 / 3.0, "fix rate");
    assert_eq!(e["fixes_per_week"], 1);
    close(&e["mttr_seconds"], 49.0 * 3600.0, "MTTR");

    // Maturity over 30 days.
    assert_eq!(
        d["maturity"],
        json!([
            { "service": "shop", "feature": "checkout", "events": 14, "errors": 3,
              "error_rate": 3.0 / 14.0 * 100.0, "level": 1, "label": "Prototype" },
            { "service": "crm", "feature": "import", "events": 4, "errors": 1,
              "error_rate": 25.0, "level": 1, "label": "Prototype" }
        ])
    );
    assert_eq!(d["services"], json!(["crm", "shop"]));
    assert_eq!(d["empty"], false);
}

#[tokio::test]
async fn range_and_service_filter_narrow_every_figure() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let now = Utc::now();
    app.post_events(&key, &events(now)).await;

    let d = app.get_dashboard(&key, "?range=24h&service=shop").await;
    assert_eq!(d["service"], "shop");
    assert_eq!(d["kpis"]["events"], 12);
    assert_eq!(d["kpis"]["errors"], 1);
    assert_eq!(d["kpis"]["usage_24h"], 12);
    assert_eq!(
        d["errors"]["open"], 0,
        "fp-crash's error is 26 h old: outside 24 h"
    );
    close(&d["errors"]["fix_rate"], 100.0, "fix rate");
    assert_eq!(d["maturity"].as_array().map(Vec::len), Some(1));

    let crm = app.get_dashboard(&key, "?range=7d&service=crm").await;
    assert_eq!(crm["kpis"]["events"], 0);
    assert_eq!(crm["kpis"]["usage_24h"], 0);
    close(&crm["kpis"]["stability"], 100.0, "crm had no critical");

    let res = app.get_as("/api/v1/dashboard?range=1y", &key).await;
    assert_eq!(res.status(), 422);
    let res = app.get_as("/api/v1/dashboard?service=nope", &key).await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn an_empty_installation_reports_defined_values() {
    let app = spawn_app().await;
    let key = app.key(&[app::keys::Scope::Read], None).await;
    let d = app.get_dashboard(&key, "").await;
    assert_eq!(d["empty"], true);
    assert_eq!(d["kpis"]["events"], 0);
    close(&d["kpis"]["quality"], 100.0, "quality");
    close(&d["kpis"]["activity"], 0.0, "activity");
    close(&d["kpis"]["readiness"], 70.0, "readiness");
    assert_eq!(d["errors"]["mttr_seconds"], Value::Null);
    assert_eq!(d["maturity"], json!([]));
}

#[tokio::test]
async fn dashboard_needs_the_read_scope() {
    let app = spawn_app().await;
    let ingest_only = app.key(&[app::keys::Scope::Ingest], None).await;
    let res = app.get_as("/api/v1/dashboard", &ingest_only).await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.get("/api/v1/dashboard").await.status(), 401);
}

#[tokio::test]
async fn export_gives_csv_and_json_of_the_same_figures() {
    let app = spawn_app().await;
    let key = app.ingest_key().await;
    app.post_events(&key, &events(Utc::now())).await;

    let csv = app
        .get_as("/api/v1/export?format=csv&range=30d", &key)
        .await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    let text = csv.text().await.expect("body");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("section,name,date,service,feature,events,errors"));
    assert!(lines.contains(&"kpi,events,,,,,,,,,,18"), "{text}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("timeline,")).count(),
        7
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("maturity,,,shop,checkout,14,3,")),
        "{text}"
    );

    let json: Value = app
        .get_as("/api/v1/export?format=json", &key)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(json["kpis"]["events"], 18);

    let bad = app.get_as("/api/v1/export?format=xml", &key).await;
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn local_days_follow_the_configured_time_zone() {
    // Pacific/Kiritimati is UTC+14: "today" there starts 14 h before UTC midnight.
    let app = spawn_app_with(|s| s.kpi.time_zone = chrono_tz::Pacific::Kiritimati).await;
    let key = app.ingest_key().await;
    let now = Utc::now();
    app.post_events(
        &key,
        &json!({ "service": "s", "timestamp": at(now, Duration::hours(1)) }),
    )
    .await;
    let d = app.get_dashboard(&key, "").await;
    let local_today = (now + Duration::hours(14)).format("%Y-%m-%d").to_string();
    let local_event_day = (now - Duration::hours(1) + Duration::hours(14))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(d["timeline"][6]["date"], local_today);
    let hit = d["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .find(|t| t["date"] == local_event_day.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(hit["events"], 1);
    assert_eq!(d["settings"]["time_zone"], "Pacific/Kiritimati");
}

#[tokio::test]
async fn demo_command_fills_five_services() {
    let app = spawn_app().await;
    let (ok, _, err) = run_cli(
        &db_url(&app.db_name),
        &["demo", "--events", "3000", "--no-live"],
    )
    .await;
    assert!(ok, "{err}");
    let key = app.key(&[app::keys::Scope::Read], None).await;
    let d = app.get_dashboard(&key, "?range=30d").await;
    assert_eq!(d["services"].as_array().map(Vec::len), Some(5));
    let events = d["kpis"]["events"].as_i64().unwrap_or_default();
    assert!(events >= 3000, "{events}");
    assert!(d["kpis"]["errors"].as_i64().unwrap_or_default() > 0);
    assert!(d["errors"]["fixes_per_week"].as_i64().is_some());
}

/// The text of the element whose test id is `id` in rendered HTML, tags
/// and hydration markers left out.
fn text_of(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("data-testid=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} missing"));
    let rest = &html[start..];
    let open = rest.find('>').expect("tag ends") + 1;
    let close = rest.find("</").expect("element ends");
    let mut text = String::new();
    let mut in_tag = false;
    for c in rest[open..close].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// The Dashboard's figures are rendered on the server: the page carries
/// them once (in its HTML, not again in its hydration data), and a refresh
/// gets them from `get_dashboard_parts` rendered in the person's language,
/// with the data of the parts that act in the browser.
#[tokio::test]
async fn the_page_carries_its_figures_once_and_a_refresh_gets_them_in_the_persons_language() {
    use app::auth::Role;
    use reqwest::header;

    let app = spawn_app().await;
    let key = app.ingest_key().await;
    let now = Utc::now();
    assert_eq!(app.post_events(&key, &events(now)).await.status(), 202);
    app.add_user("viewer@example.com", Role::Viewer).await;
    let session = app.session("viewer@example.com").await;

    let page = raw_client()
        .get(app.url("/?range=30d"))
        .header(header::COOKIE, &session.cookie)
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .expect("sent");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    // 24 hours: ten orders, an error and a fix.
    assert_eq!(text_of(&html, "kpi-usage-value"), "12");
    assert_eq!(text_of(&html, "stat-open"), "2");
    assert!(
        html.contains("data-testid=\"backup-health\""),
        "side widgets rendered"
    );
    for id in ["kpi-usage-value", "stat-open", "dead-letter-strip"] {
        assert_eq!(html.matches(id).count(), 1, "{id} is in the page once");
    }

    let res = raw_client()
        .get(format!(
            "{}?query[range]=30d",
            app.url(&rpc("get_dashboard_parts"))
        ))
        .header(header::COOKIE, format!("{}; lang=de", session.cookie))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    let parts: Value = res.json().await.expect("json");
    let figures = parts["figures"].as_str().expect("figures");
    assert!(figures.contains("Produktionsreife"), "German: {figures}");
    assert_eq!(text_of(figures, "kpi-usage-value"), "12");
    assert!(
        parts["side"]
            .as_str()
            .expect("side")
            .contains("Sicherungen")
    );
    assert_eq!(parts["range"], "30d");
    assert_eq!(parts["empty"], false);
    assert_eq!(parts["services"], json!(["crm", "shop"]));
    let api = app.get_dashboard(&key, "?range=30d").await;
    assert_eq!(parts["maturity"], api["maturity"]);
}
