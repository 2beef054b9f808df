//! Envelope ingest: gzip-compressed Sentry error events of a realistic
//! size (≈ 8 KB with a 30-frame stack trace) sent by concurrent clients,
//! next to `/api/v1/events` with events of the same size. Bodies are made
//! and compressed before the clock starts, so the load generator spends
//! its CPU on sending, not on gzip.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{RawClient, percentile};

/// A Python-style error with 30 frames, ≈ 8 KB as JSON.
pub fn error_event(id: &str, n: usize) -> Value {
    let frames: Vec<Value> = (0..30)
        .map(|f| {
            let module = if f < 22 {
                format!("django.core.handlers.base{f}")
            } else {
                format!("shop.orders.step{f}")
            };
            let mut frame = json!({
                "function": format!("handle_step_{f}"),
                "module": module,
                "filename": format!("{}.py", module.replace('.', "/")),
                "lineno": 100 + f,
                "in_app": f >= 22,
                "context_line": format!("    result = process(order, step={f})"),
            });
            if f >= 22 {
                frame["pre_context"] =
                    json!(["    order = load(order_id)", "    total = order.total()"]);
                frame["post_context"] = json!(["    return result"]);
                frame["vars"] = json!({"order_id": format!("'{}'", n), "step": f.to_string()});
            }
            frame
        })
        .collect();
    json!({
        "event_id": id,
        "timestamp": chrono::Utc::now().timestamp_millis() as f64 / 1000.0,
        "platform": "python",
        "level": "error",
        "release": "shop@2.4.1",
        "environment": "production",
        "server_name": "shop-1",
        "transaction": "POST /api/orders",
        "user": {"id": format!("u-{}", n % 500)},
        "tags": {"feature": "checkout", "region": "eu-central"},
        "exception": {"values": [{
            "type": "ValueError",
            "value": format!("order {} has no lines", n % 20),
            "mechanism": {"type": "django", "handled": false},
            "stacktrace": {"frames": frames},
        }]},
        "breadcrumbs": {"values": [
            {"timestamp": 1.0, "category": "query", "message": "select * from orders where id = %s"},
            {"timestamp": 1.1, "category": "http", "message": "POST /api/orders", "data": {"status_code": 500}},
        ]},
        "contexts": {"runtime": {"name": "CPython", "version": "3.12.1"}, "os": {"name": "Linux"}},
        "sdk": {"name": "sentry.python.django", "version": "2.76.0"},
    })
}

/// The same content as a Leitstand event (stack trace in the attributes).
fn plain_event(n: usize) -> Value {
    let e = error_event(&uuid::Uuid::new_v4().simple().to_string(), n);
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "service": "bench-sentry",
        "feature": "checkout",
        "type": "ValueError",
        "level": "error",
        "message": format!("order {} has no lines", n % 20),
        "release": "shop@2.4.1",
        "environment": "production",
        "user": format!("u-{}", n % 500),
        "attributes": {"frames": e["exception"]["values"][0]["stacktrace"]["frames"].clone()},
    })
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// Runs one mode (`envelope` or `plain`) and prints its figures.
pub async fn run(
    url: String,
    key: String,
    project: i64,
    mode: String,
    clients: usize,
    seconds: u64,
    per_client: usize,
) -> anyhow::Result<()> {
    let envelope = match mode.as_str() {
        "envelope" => true,
        "plain" => false,
        other => anyhow::bail!("unknown mode {other} (envelope or plain)"),
    };
    // Bodies first, on every core, off the clock.
    let made = Instant::now();
    let mut makers = Vec::new();
    for c in 0..clients {
        makers.push(tokio::task::spawn_blocking(move || {
            (0..per_client)
                .map(|i| {
                    let n = c * per_client + i;
                    if envelope {
                        let id = uuid::Uuid::new_v4().simple().to_string();
                        let event = error_event(&id, n).to_string();
                        let text = format!(
                            "{{\"event_id\":\"{id}\",\"sent_at\":\"2026-12-04T00:00:00Z\"}}\n{{\"type\":\"event\",\"length\":{}}}\n{event}\n",
                            event.len()
                        );
                        (text.len(), gzip(text.as_bytes()))
                    } else {
                        let text = plain_event(n).to_string().into_bytes();
                        (text.len(), text)
                    }
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut bodies = Vec::new();
    for m in makers {
        bodies.push(m.await?);
    }
    let raw_size = bodies[0][0].0;
    let sent_size = bodies[0][0].1.len();
    let made = made.elapsed().as_secs_f64();

    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let (path, headers) = if envelope {
        (
            format!("/api/{project}/envelope/"),
            format!(
                "X-Sentry-Auth: Sentry sentry_version=7, sentry_key={key}, sentry_client=sentry.python/2.76.0\r\nContent-Type: application/x-sentry-envelope\r\nContent-Encoding: gzip\r\n"
            ),
        )
    } else {
        (
            "/api/v1/events".to_owned(),
            format!("Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"),
        )
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for list in bodies {
        let mut client = RawClient::new(&addr, "");
        let path = path.clone();
        let headers = headers.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut ok, mut failed, mut ran_out) = (0u64, 0u64, false);
            let mut it = list.into_iter();
            while Instant::now() < deadline {
                let Some((_, body)) = it.next() else {
                    ran_out = true;
                    break;
                };
                let t = Instant::now();
                match client.post_with(&path, &headers, &body).await {
                    Ok((200 | 202, _)) => {
                        ok += 1;
                        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    _ => failed += 1,
                }
            }
            (latencies, ok, failed, ran_out)
        }));
    }
    let (mut latencies, mut ok, mut failed, mut ran_out) = (Vec::new(), 0, 0, false);
    for t in tasks {
        let (l, o, f, r) = t.await?;
        latencies.extend(l);
        ok += o;
        failed += f;
        ran_out |= r;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "kind": format!("sentry_{mode}"), "clients": clients, "seconds": elapsed,
            "event_bytes": raw_size, "sent_bytes": sent_size, "bodies_made_in_s": made,
            "requests": ok, "failed": failed, "ran_out_of_bodies": ran_out,
            "per_s": ok as f64 / elapsed,
            "p50_ms": percentile(&latencies, 0.50), "p99_ms": percentile(&latencies, 0.99),
        })
    );
    Ok(())
}
