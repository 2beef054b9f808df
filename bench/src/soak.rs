//! The soak: a mixed load held for many minutes, sampled each minute —
//! resident memory, open files and database connections of the server, p99
//! of ingest and of the dashboard, error answers. One JSON line per minute,
//! then a summary line.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use tokio::sync::Mutex;

use crate::{RawClient, percentile, write_body};

/// What the load and the samplers share.
#[derive(Default)]
struct Window {
    ingest_ms: Vec<f64>,
    dashboard_ms: Vec<f64>,
    errors: u64,
}

pub struct Soak {
    pub url: String,
    pub key: String,
    pub database_url: String,
    pub server_pid: u32,
    pub minutes: u64,
    pub events_per_s: u64,
    pub streams: usize,
    pub dashboard_users: usize,
}

fn proc_value(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn open_fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

pub async fn run(s: Soak) -> anyhow::Result<()> {
    let addr = s
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let window = Arc::new(Mutex::new(Window::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();

    // Ingest: half the events as single requests from 8 clients, half in
    // batches of 50 from 2 clients, paced to the rate.
    let singles = 8usize;
    let batchers = 2usize;
    let batch = 50usize;
    let half = (s.events_per_s / 2).max(1);
    for c in 0..singles + batchers {
        let (size, clients) = if c < singles {
            (1, singles)
        } else {
            (batch, batchers)
        };
        let interval = Duration::from_secs_f64(clients as f64 * size as f64 / half as f64);
        let mut client = RawClient::new(&addr, &s.key);
        let window = window.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut next =
                Instant::now() + interval.mul_f64(c as f64 / (singles + batchers) as f64);
            let mut n = c * 1_000_000;
            let mut body = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep_until(next.into()).await;
                next += interval;
                write_body(&mut body, n, size);
                n += size;
                let t = Instant::now();
                let ok = matches!(client.post("/api/v1/events", &body).await, Ok((202, _)));
                let mut w = window.lock().await;
                if ok {
                    w.ingest_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    w.errors += 1;
                }
            }
        }));
    }

    // Streams: open and read.
    for _ in 0..s.streams {
        let url = format!("{}/api/v1/stream", s.url);
        let key = s.key.clone();
        let received = received.clone();
        let stop = stop.clone();
        let window = window.clone();
        tasks.push(tokio::spawn(async move {
            use eventsource_stream::Eventsource;
            let http = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let Ok(res) = http.get(&url).bearer_auth(&key).send().await else {
                    window.lock().await.errors += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                };
                let mut events = res.bytes_stream().eventsource();
                loop {
                    tokio::select! {
                        m = events.next() => match m {
                            Some(Ok(_)) => { received.fetch_add(1, Ordering::Relaxed); }
                            _ => break,
                        },
                        () = tokio::time::sleep(Duration::from_secs(1)) => {
                            if stop.load(Ordering::Relaxed) { return; }
                        }
                    }
                }
            }
        }));
    }

    // Dashboard users: a refresh every 5 s each, spread out.
    for u in 0..s.dashboard_users {
        let url = format!("{}/api/v1/dashboard?range=24h", s.url);
        let key = s.key.clone();
        let window = window.clone();
        let stop = stop.clone();
        let users = s.dashboard_users;
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            tokio::time::sleep(Duration::from_secs_f64(5.0 * u as f64 / users as f64)).await;
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let t = Instant::now();
                let ok = http
                    .get(&url)
                    .bearer_auth(&key)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                let mut w = window.lock().await;
                if ok {
                    w.dashboard_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    w.errors += 1;
                }
            }
        }));
    }

    // Each minute: a sample.
    let pool = sqlx::PgPool::connect(&s.database_url).await?;
    let started = Instant::now();
    let mut all_ingest = Vec::new();
    let mut all_dashboard = Vec::new();
    let mut errors_total = 0;
    for minute in 1..=s.minutes {
        tokio::time::sleep_until((started + Duration::from_secs(60 * minute)).into()).await;
        let w = std::mem::take(&mut *window.lock().await);
        let mut ingest = w.ingest_ms;
        let mut dashboard = w.dashboard_ms;
        ingest.sort_by(f64::total_cmp);
        dashboard.sort_by(f64::total_cmp);
        let connections: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = current_database() and application_name like 'leitstand%'",
        )
        .fetch_one(&pool)
        .await
        .unwrap_or(-1);
        let backups: i64 = sqlx::query_scalar("select count(*) from backups where status = 'ok'")
            .fetch_one(&pool)
            .await
            .unwrap_or(-1);
        println!(
            "{}",
            json!({
                "kind": "soak_minute", "minute": minute,
                "rss_kb": proc_value(s.server_pid, "VmRSS:"),
                "fds": open_fds(s.server_pid),
                "threads": proc_value(s.server_pid, "Threads:"),
                "db_connections": connections,
                "ingest_requests": ingest.len(),
                "ingest_p99_ms": percentile(&ingest, 0.99),
                "dashboard_requests": dashboard.len(),
                "dashboard_p99_ms": percentile(&dashboard, 0.99),
                "errors": w.errors,
                "stream_messages": received.swap(0, Ordering::Relaxed),
                "backups_ok": backups,
            })
        );
        errors_total += w.errors;
        all_ingest.extend(ingest);
        all_dashboard.extend(dashboard);
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.abort();
    }
    all_ingest.sort_by(f64::total_cmp);
    all_dashboard.sort_by(f64::total_cmp);
    let events: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&pool)
        .await
        .unwrap_or(-1);
    println!(
        "{}",
        json!({
            "kind": "soak_summary", "minutes": s.minutes, "events_stored": events,
            "ingest_requests": all_ingest.len(), "ingest_p99_ms": percentile(&all_ingest, 0.99),
            "dashboard_requests": all_dashboard.len(), "dashboard_p99_ms": percentile(&all_dashboard, 0.99),
            "errors": errors_total,
        })
    );
    Ok(())
}
