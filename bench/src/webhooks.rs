//! Webhook fan-out: a receiver that counts forwarded events and how long
//! after ingest they arrived.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default)]
struct Tally {
    batches: u64,
    events: u64,
    /// Arrival minus the event's `received_at`, ms.
    lags: Vec<f64>,
    first: Option<Instant>,
    last: Option<Instant>,
}

/// Receives webhook batches on `port` and writes a summary to `out` every
/// second (delivered events, their rate, lag percentiles).
pub async fn receiver(port: u16, out: String) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let writer = tally.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let summary = {
                let Ok(t) = writer.lock() else { return };
                let mut lags = t.lags.clone();
                lags.sort_by(f64::total_cmp);
                let span = match (t.first, t.last) {
                    (Some(a), Some(b)) => (b - a).as_secs_f64(),
                    _ => 0.0,
                };
                json!({
                    "batches": t.batches, "delivered": t.events,
                    "events_per_s": if span > 0.0 { t.events as f64 / span } else { 0.0 },
                    "lag_p50_ms": crate::percentile(&lags, 0.50),
                    "lag_p95_ms": crate::percentile(&lags, 0.95),
                    "lag_max_ms": lags.last().copied().unwrap_or(f64::NAN),
                })
            };
            let _ = tokio::fs::write(&out, summary.to_string()).await;
        }
    });
    loop {
        let (mut tcp, _) = listener.accept().await?;
        let tally = tally.clone();
        tokio::spawn(async move {
            let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
            loop {
                // One request: head, then content-length bytes of body.
                let (head, length) = loop {
                    let mut headers = [httparse::EMPTY_HEADER; 32];
                    let mut req = httparse::Request::new(&mut headers);
                    if let Ok(httparse::Status::Complete(head)) = req.parse(&buf) {
                        let length: usize = req
                            .headers
                            .iter()
                            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                            .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
                            .unwrap_or(0);
                        break (head, length);
                    }
                    match tcp.read_buf(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                };
                while buf.len() < head + length {
                    match tcp.read_buf(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
                let now = chrono::Utc::now();
                let arrived = Instant::now();
                if let Ok(doc) =
                    serde_json::from_slice::<serde_json::Value>(&buf[head..head + length])
                    && let Some(events) = doc["data"]["events"].as_array()
                    && let Ok(mut t) = tally.lock()
                {
                    t.batches += 1;
                    t.events += events.len() as u64;
                    t.first.get_or_insert(arrived);
                    t.last = Some(arrived);
                    for e in events {
                        if let Some(at) = e["received_at"]
                            .as_str()
                            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                        {
                            t.lags.push(
                                (now - at.to_utc()).num_microseconds().unwrap_or(0) as f64 / 1000.0,
                            );
                        }
                    }
                }
                buf.drain(..head + length);
                let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                if tcp.write_all(reply).await.is_err() {
                    return;
                }
            }
        });
    }
}
