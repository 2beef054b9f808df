//! Probe benchmarks: a fast local target, creating many probes, and the
//! time of one service's uptime and p95 over a long window.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers every HTTP/1.1 request with 200 "ok", keeping connections open.
pub async fn target(port: u16) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (mut tcp, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            let mut have = 0;
            loop {
                match tcp.read(&mut buf[have..]).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => have += n,
                }
                // Answer each complete head; requests carry no body.
                while let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok";
                    if tcp.write_all(reply).await.is_err() {
                        return;
                    }
                    buf.copy_within(end + 4..have, 0);
                    have -= end + 4;
                }
                if have == buf.len() {
                    return;
                }
            }
        });
    }
}

/// Creates `count` HTTP probes against `target`, ten per service.
pub async fn create(
    url: &str,
    key: &str,
    count: usize,
    target: &str,
    interval: u32,
) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    for i in 0..count {
        let service = format!("svc{:03}", i / 10);
        let res = client
            .post(format!("{url}/api/v1/services/{service}/probes"))
            .bearer_auth(key)
            .json(&json!({ "kind": "http", "url": target, "interval_seconds": interval, "timeout_seconds": 5 }))
            .send()
            .await?;
        anyhow::ensure!(res.status() == 201, "creating probe {i}: {}", res.status());
    }
    println!(
        "{}",
        json!({ "created": count, "seconds": started.elapsed().as_secs_f64() })
    );
    Ok(())
}

/// Times `uptime_counts` and `latency` for one service over `days`.
pub async fn stats(
    database_url: &str,
    service_id: i64,
    days: i64,
    repeats: usize,
) -> anyhow::Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(database_url)
        .await?;
    let mut times = Vec::with_capacity(repeats);
    let mut result = json!(null);
    for _ in 0..repeats {
        let now = chrono::Utc::now();
        let from = now - chrono::Duration::days(days);
        let started = Instant::now();
        let (checks, failures) =
            app::probes::store::uptime_counts(&pool, Some(service_id), from, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let hist = app::probes::store::latency(&pool, service_id, from, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        result = json!({
            "checks": checks,
            "uptime": app::probes::uptime_percent(checks, failures),
            "p95": app::probes::histogram::quantile(&hist, 0.95),
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "repeats": repeats,
            "p50_ms": super::percentile(&times, 0.5),
            "p95_ms": super::percentile(&times, 0.95),
            "result": result,
        })
    );
    Ok(())
}
