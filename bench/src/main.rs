//! Measurements behind `make bench`. Each subcommand prints one JSON object
//! per result on stdout; scripts/bench-*.sh turn them into BENCHMARKS.md rows.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

mod probes;
mod sentry;
mod soak;
mod webhooks;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::json;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// POST events over HTTP from concurrent clients for a fixed time.
    Ingest {
        #[arg(long)]
        url: String,
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Events per request (1 = single-event requests).
        #[arg(long, default_value_t = 1)]
        batch: usize,
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// Events per second in all (0 = as fast as the server takes them).
        #[arg(long, default_value_t = 0)]
        rate: u64,
        /// Stop sending once this many events are acknowledged in all (0 = no
        /// limit); requests in flight then still finish, so up to
        /// clients × batch − 1 more may be stored.
        #[arg(long, default_value_t = 0)]
        events: u64,
    },
    /// Receives webhook batches and writes delivered count, rate and lag to a file.
    WebhookReceiver {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        out: String,
    },
    /// COPY the same kind of rows into `events` from one client: the ceiling.
    Copy {
        #[arg(long)]
        database_url: String,
        /// Rows in all, split evenly between the clients.
        #[arg(long, default_value_t = 300_000)]
        rows: usize,
        /// Concurrent connections, each running its own COPY.
        #[arg(long, default_value_t = 1)]
        clients: usize,
    },
    /// GET /api/v1/dashboard repeatedly; latency percentiles.
    Dashboard {
        #[arg(long)]
        url: String,
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 200)]
        requests: usize,
        #[arg(long, default_value = "30d")]
        range: String,
    },
    /// Hold idle SSE connections open; prints when all are open, then waits.
    StreamIdle {
        #[arg(long)]
        url: String,
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Seconds to hold them after all are open.
        #[arg(long, default_value_t = 5)]
        hold: u64,
        /// Server process id, to read its resident memory.
        #[arg(long)]
        server_pid: u32,
    },
    /// Hold idle keep-alive connections, one answered request on each; the
    /// server's memory with all open, a normal client's latency meanwhile,
    /// and how many the server closed once they had idled past its limit.
    KeepaliveIdle {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// The server's keep-alive idle limit (`--header-read-timeout`), seconds.
        #[arg(long, default_value_t = 10)]
        idle_limit: u64,
        /// Server process id, to read its resident memory.
        #[arg(long)]
        server_pid: u32,
    },
    /// Time from sending an event to its arrival at every subscriber.
    StreamLatency {
        #[arg(long)]
        url: String,
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 1000)]
        subscribers: usize,
        #[arg(long, default_value_t = 200)]
        events: usize,
    },
    /// A local HTTP target answering 200 to everything (for probes).
    Target {
        #[arg(long)]
        port: u16,
    },
    /// Creates HTTP probes against a target, ten per service.
    ProbesCreate {
        #[arg(long)]
        url: String,
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long)]
        target: String,
        #[arg(long, default_value_t = 10)]
        interval: u32,
    },
    /// Times one service's uptime and p95 over a window of days.
    ProbeStats {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        service_id: i64,
        #[arg(long, default_value_t = 365)]
        days: i64,
        #[arg(long, default_value_t = 200)]
        repeats: usize,
    },
    /// Sentry envelopes (gzip, ≈ 8 KB error events) or the same events as
    /// `/api/v1/events` requests, from concurrent clients.
    Sentry {
        #[arg(long)]
        url: String,
        /// The DSN key (envelope) or an ingest API key (plain).
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 0)]
        project: i64,
        /// `envelope` or `plain`.
        #[arg(long, default_value = "envelope")]
        mode: String,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// Bodies made in advance per client (a run stops when they are used).
        #[arg(long, default_value_t = 8000)]
        per_client: usize,
    },
    /// A mixed load for many minutes, sampled each minute (BENCH=soak).
    Soak {
        #[arg(long)]
        url: String,
        /// A key with the ingest and read scopes.
        #[arg(long)]
        key: String,
        #[arg(long)]
        database_url: String,
        /// The server's process id, for its memory and open files.
        #[arg(long)]
        server_pid: u32,
        #[arg(long, default_value_t = 30)]
        minutes: u64,
        #[arg(long, default_value_t = 1000)]
        events_per_s: u64,
        #[arg(long, default_value_t = 200)]
        streams: usize,
        #[arg(long, default_value_t = 10)]
        dashboard_users: usize,
    },
    /// The same 30-day figures computed by scanning raw events (baseline),
    /// and the current hour so far counted from raw events.
    RawScan {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 5)]
        repeats: usize,
    },
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Appends the benchmark's event number `i` (message number `seq`) as JSON
/// text to `out`, without building a value tree: the load generator shares
/// the machine with the server, so its CPU per event is kept small. Every
/// 50th event is an error.
fn write_event(out: &mut Vec<u8>, i: usize, seq: u64) {
    use std::io::Write;
    let level = if i.is_multiple_of(50) {
        "error"
    } else {
        "info"
    };
    let _ = write!(
        out,
        r#"{{"id":"{}","service":"bench-{}","feature":"feature-{}","type":"bench.request","level":"{level}","message":"request {seq} handled","release":"2026.11.1","environment":"production","user":"u-{}","attributes":{{"duration_ms":{},"path":"/api/orders"}}}}"#,
        uuid::Uuid::new_v4(),
        i % 5,
        i % 12,
        i % 500,
        i % 300,
    );
}

/// A request body of `batch` events from number `n` on: one object, or an
/// array of them.
fn write_body(body: &mut Vec<u8>, n: usize, batch: usize) {
    body.clear();
    if batch == 1 {
        write_event(body, n, n as u64);
        return;
    }
    body.push(b'[');
    for k in 0..batch {
        if k > 0 {
            body.push(b',');
        }
        write_event(body, n + k, (n + k) as u64);
    }
    body.push(b']');
}

/// One keep-alive HTTP/1.1 connection that POSTs JSON and reads the
/// answers: a load generator cheap enough to leave the machine's CPU to
/// the server (reqwest costs ~70 µs of CPU per request here).
struct RawClient {
    addr: String,
    auth: String,
    conn: Option<tokio::net::TcpStream>,
    buf: Vec<u8>,
}

impl RawClient {
    fn new(addr: &str, key: &str) -> Self {
        Self {
            addr: addr.to_owned(),
            auth: format!("Bearer {key}"),
            conn: None,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Sends `body`; returns the status and the response body.
    async fn post(&mut self, path: &str, body: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
        let headers = format!(
            "Authorization: {}\r\nContent-Type: application/json\r\n",
            self.auth
        );
        self.post_with(path, &headers, body).await
    }

    /// Sends `body` with `headers` (each line ending in CRLF).
    async fn post_with(
        &mut self,
        path: &str,
        headers: &str,
        body: &[u8],
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if self.conn.is_none() {
            let conn = tokio::net::TcpStream::connect(&self.addr).await?;
            conn.set_nodelay(true)?;
            self.conn = Some(conn);
            self.buf.clear();
        }
        let conn = self.conn.as_mut().context("connected")?;
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\n{headers}Content-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        let result = async {
            conn.write_all(&request).await?;
            loop {
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut res = httparse::Response::new(&mut headers);
                if let httparse::Status::Complete(head) = res.parse(&self.buf)? {
                    let length: usize = res
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
                        .context("no content-length")?;
                    let status = res.code.unwrap_or(0);
                    if self.buf.len() >= head + length {
                        let answer = self.buf[head..head + length].to_vec();
                        self.buf.drain(..head + length);
                        return Ok((status, answer));
                    }
                }
                if conn.read_buf(&mut self.buf).await? == 0 {
                    anyhow::bail!("connection closed");
                }
            }
        }
        .await;
        if result.is_err() {
            self.conn = None;
        }
        result
    }
}

async fn ingest(
    url: String,
    key: String,
    clients: usize,
    batch: usize,
    seconds: u64,
    rate: u64,
    limit: u64,
) -> anyhow::Result<()> {
    // Paced: each client sends a request every `interval`.
    let interval =
        (rate > 0).then(|| Duration::from_secs_f64(clients as f64 * batch as f64 / rate as f64));
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    // Ctrl-C (SIGINT) ends the run early, with its figures printed.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        });
    }
    // Acknowledged events of all clients: the result, and what `limit` counts.
    let acknowledged = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let stop = stop.clone();
        let acknowledged = acknowledged.clone();
        let mut client = RawClient::new(&addr, &key);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            let mut n = c;
            let mut body = Vec::new();
            let mut next = Instant::now()
                + interval.map_or(Duration::ZERO, |i| i.mul_f64(c as f64 / clients as f64));
            while Instant::now() < deadline
                && !stop.load(std::sync::atomic::Ordering::Relaxed)
                && (limit == 0 || acknowledged.load(std::sync::atomic::Ordering::Relaxed) < limit)
            {
                if let Some(i) = interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += i;
                }
                write_body(&mut body, n, batch);
                n += clients * batch;
                let t = Instant::now();
                match client.post("/api/v1/events", &body).await {
                    Ok((202, answer)) => {
                        let v: serde_json::Value =
                            serde_json::from_slice(&answer).unwrap_or_default();
                        acknowledged.fetch_add(
                            v["accepted"].as_u64().unwrap_or(0),
                            std::sync::atomic::Ordering::Relaxed,
                        );
                        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    _ => failed += 1,
                }
            }
            (latencies, failed)
        }));
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (l, f) = t.await?;
        latencies.extend(l);
        failed += f;
    }
    let accepted = acknowledged.load(std::sync::atomic::Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "kind": if batch == 1 { "ingest_single" } else { "ingest_batch" },
            "clients": clients, "batch": batch, "seconds": elapsed, "rate": rate,
            "requests": latencies.len(), "failed": failed, "events": accepted,
            "events_per_s": accepted as f64 / elapsed,
            "p50_ms": percentile(&latencies, 0.50), "p99_ms": percentile(&latencies, 0.99),
        })
    );
    Ok(())
}

/// The raw ceiling: COPY of the rows the HTTP benchmark sends into
/// `events`, from `clients` connections at once (rows prepared beforehand,
/// the clock runs from the first COPY's start to the last one's end).
async fn copy(database_url: String, rows: usize, clients: usize) -> anyhow::Result<()> {
    use sqlx::Connection;
    let clients = clients.max(1);
    let mut conn = sqlx::PgConnection::connect(&database_url).await?;
    let service: i64 = sqlx::query_scalar(
        "insert into services (slug, name) values ('bench-copy', 'bench-copy')
         on conflict (slug) do update set slug = excluded.slug returning id",
    )
    .fetch_one(&mut conn)
    .await?;
    // Reserve a block of cursors: ingest before and after never meets it.
    let seq_base: i64 =
        sqlx::query_scalar("select setval('events_seq', nextval('events_seq') + $1) - $1 + 1")
            .bind(i64::try_from(rows)?)
            .fetch_one(&mut conn)
            .await?;
    conn.close().await?;
    let now = chrono::Utc::now();
    let per_client = rows.div_ceil(clients);
    // Build the same rows the HTTP benchmark sends, in COPY text format.
    let mut work = Vec::with_capacity(clients);
    for c in 0..clients {
        let mut chunks = Vec::new();
        let mut buf = String::new();
        let mut text = Vec::new();
        for i in c * per_client..((c + 1) * per_client).min(rows) {
            text.clear();
            write_event(&mut text, i, i as u64);
            let e: serde_json::Value = serde_json::from_slice(&text)?;
            let t = now - chrono::Duration::milliseconds(i as i64);
            let level = if e["level"] == "error" { 3 } else { 1 };
            buf.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t\\N\t{}\t{}\t{}\t{}\n",
                t.to_rfc3339(),
                e["id"].as_str().unwrap_or_default(),
                seq_base + i as i64,
                service,
                e["feature"].as_str().unwrap_or_default(),
                e["type"].as_str().unwrap_or_default(),
                level,
                e["message"].as_str().unwrap_or_default(),
                e["release"].as_str().unwrap_or_default(),
                e["environment"].as_str().unwrap_or_default(),
                e["user"].as_str().unwrap_or_default(),
                e["attributes"],
            ));
            if buf.len() > 1 << 20 {
                chunks.push(std::mem::take(&mut buf));
            }
        }
        chunks.push(buf);
        work.push((sqlx::PgConnection::connect(&database_url).await?, chunks));
    }
    let started = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|(mut conn, chunks)| {
            tokio::spawn(async move {
                let mut copy = conn
                    .copy_in_raw(
                        "copy events (occurred_at, id, seq, service_id, feature, kind, level, message,
                                      fingerprint, release, environment, user_ref, attributes) from stdin",
                    )
                    .await?;
                for c in chunks {
                    copy.send(c.into_bytes()).await?;
                }
                let copied = copy.finish().await?;
                conn.close().await?;
                anyhow::Ok(copied)
            })
        })
        .collect();
    let mut copied = 0;
    for t in tasks {
        copied += t.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({ "kind": "copy_ceiling", "rows": copied, "clients": clients, "seconds": elapsed, "rows_per_s": copied as f64 / elapsed })
    );
    Ok(())
}

async fn dashboard(url: String, key: String, requests: usize, range: String) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let endpoint = format!("{url}/api/v1/dashboard?range={range}");
    // Warm up (connections, caches).
    for _ in 0..5 {
        client
            .get(&endpoint)
            .bearer_auth(&key)
            .send()
            .await?
            .error_for_status()?;
    }
    let mut latencies = Vec::with_capacity(requests);
    let mut events = 0;
    for _ in 0..requests {
        let t = Instant::now();
        let res = client
            .get(&endpoint)
            .bearer_auth(&key)
            .send()
            .await?
            .error_for_status()?;
        let body: serde_json::Value = res.json().await?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        events = body["kpis"]["events"].as_i64().unwrap_or(0);
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({ "kind": "dashboard", "range": range, "requests": requests, "events_in_range": events,
                "p50_ms": percentile(&latencies, 0.5), "p95_ms": percentile(&latencies, 0.95),
                "max_ms": latencies.last().copied().unwrap_or(f64::NAN) })
    );
    Ok(())
}

async fn raw_scan(database_url: String, repeats: usize) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&database_url).await?;
    let mut latencies = Vec::new();
    let mut current_hour = Vec::new();
    // Events in the current hour, as the last repeat counted them.
    let mut in_current_hour = 0i64;
    for _ in 0..repeats {
        let t = Instant::now();
        let _: (i64, i64) = sqlx::query_as(
            "select count(*), count(*) filter (where level >= 3) from events
             where occurred_at >= now() - interval '30 days' and occurred_at < now()",
        )
        .fetch_one(&mut conn)
        .await
        .context("raw scan")?;
        let _ = sqlx::query(
            "select service_id, feature, count(*), count(*) filter (where level >= 3) from events
             where occurred_at >= now() - interval '30 days' group by 1, 2",
        )
        .fetch_all(&mut conn)
        .await?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        // What counting the current hour so far from raw events costs: the
        // part of a window ending now that rollups of whole hours avoid.
        let t = Instant::now();
        let groups: Vec<(i64, String, i64, i64)> = sqlx::query_as(
            "select service_id, feature, count(*), count(*) filter (where level >= 3) from events
             where occurred_at >= date_trunc('hour', now(), 'UTC') and occurred_at < now() group by 1, 2",
        )
        .fetch_all(&mut conn)
        .await
        .context("raw scan of the current hour")?;
        current_hour.push(t.elapsed().as_secs_f64() * 1000.0);
        in_current_hour = groups.iter().map(|g| g.2).sum();
    }
    latencies.sort_by(f64::total_cmp);
    current_hour.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({ "kind": "raw_scan", "repeats": repeats, "p50_ms": percentile(&latencies, 0.5),
                "current_hour_p50_ms": percentile(&current_hour, 0.5),
                "events_in_current_hour": in_current_hour })
    );
    Ok(())
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS not found")
}

async fn stream_idle(
    url: String,
    key: String,
    connections: usize,
    hold: u64,
    pid: u32,
) -> anyhow::Result<()> {
    let before = rss_kib(pid)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let mut open = Vec::with_capacity(connections);
    let started = Instant::now();
    for chunk in (0..connections).collect::<Vec<_>>().chunks(200) {
        let batch = futures::future::join_all(chunk.iter().map(|_| {
            client
                .get(format!("{url}/api/v1/stream"))
                .bearer_auth(&key)
                .send()
        }))
        .await;
        for r in batch {
            let r = r?;
            anyhow::ensure!(r.status() == 200, "stream refused: {}", r.status());
            open.push(r);
        }
    }
    let opened_in = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(hold)).await;
    let during = rss_kib(pid)?;
    drop(open);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid)?;
    println!(
        "{}",
        memory_report(
            "stream_idle",
            connections,
            opened_in,
            [before, during, after]
        )
    );
    Ok(())
}

/// What holding `connections` open cost the server: RSS (KiB) before,
/// while open and after closing them.
fn memory_report(
    kind: &str,
    connections: usize,
    opened_in: f64,
    [before, during, after]: [u64; 3],
) -> serde_json::Value {
    json!({ "kind": kind, "connections": connections, "opened_in_s": opened_in,
            "rss_before_mib": before as f64 / 1024.0, "rss_open_mib": during as f64 / 1024.0,
            "rss_after_close_mib": after as f64 / 1024.0,
            "growth_mib": (during as f64 - before as f64) / 1024.0,
            "per_connection_kib": (during as f64 - before as f64) / connections as f64 })
}

/// One keep-alive connection that has had `GET /healthz` answered.
async fn answered_connection(addr: &str) -> anyhow::Result<tokio::net::TcpStream> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await?;
    conn.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    loop {
        let n = conn.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "closed before answering");
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut res = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head) = res.parse(&buf)? {
            anyhow::ensure!(res.code == Some(200), "status {:?}", res.code);
            let length: usize = res
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= head + length {
                return Ok(conn);
            }
        }
    }
}

async fn keepalive_idle(
    url: String,
    connections: usize,
    idle_limit: u64,
    pid: u32,
) -> anyhow::Result<()> {
    use tokio::io::AsyncReadExt;
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let before = rss_kib(pid)?;
    let started = Instant::now();
    let mut open = Vec::with_capacity(connections);
    for chunk in (0..connections).collect::<Vec<_>>().chunks(250) {
        let batch =
            futures::future::join_all(chunk.iter().map(|_| answered_connection(&addr))).await;
        for conn in batch {
            open.push(conn?);
        }
    }
    let opened_in = started.elapsed().as_secs_f64();
    let during = rss_kib(pid)?;
    // A normal client meanwhile.
    let client = reqwest::Client::new();
    let mut latencies = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        client
            .get(format!("{url}/healthz"))
            .send()
            .await?
            .error_for_status()?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    // Past the idle limit (counted from the last one opened) the server
    // must have let every one go.
    tokio::time::sleep(Duration::from_secs(idle_limit + 3)).await;
    let mut closed = 0usize;
    for conn in &mut open {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_millis(5), conn.read(&mut byte)).await
        {
            closed += 1;
        }
    }
    drop(open);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid)?;
    let mut report = memory_report(
        "keepalive_idle",
        connections,
        opened_in,
        [before, during, after],
    );
    report["other_client_p50_ms"] = json!(percentile(&latencies, 0.5));
    report["other_client_max_ms"] = json!(latencies.last().copied().unwrap_or(f64::NAN));
    report["closed_by_server_after_idle"] = json!(closed);
    println!("{report}");
    Ok(())
}

async fn stream_latency(
    url: String,
    key: String,
    subscribers: usize,
    events: usize,
) -> anyhow::Result<()> {
    use eventsource_stream::Eventsource;
    use futures::StreamExt;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let epoch = Instant::now();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<(u64, f64)>>();
    let mut ready = Vec::new();
    for _ in 0..subscribers {
        let res = client
            .get(format!("{url}/api/v1/stream?type=bench.latency"))
            .bearer_auth(&key)
            .send()
            .await?;
        anyhow::ensure!(res.status() == 200, "stream refused: {}", res.status());
        let done_tx = done_tx.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
        ready.push(ready_rx);
        tokio::spawn(async move {
            let mut stream = res.bytes_stream().eventsource();
            let _ = ready_tx.send(());
            let mut arrivals = Vec::with_capacity(events);
            while arrivals.len() < events {
                match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
                    Ok(Some(Ok(m))) => {
                        let v: serde_json::Value =
                            serde_json::from_str(&m.data).unwrap_or_default();
                        let n = v["attributes"]["n"].as_u64().unwrap_or(u64::MAX);
                        arrivals.push((n, epoch.elapsed().as_secs_f64() * 1000.0));
                    }
                    _ => break,
                }
            }
            let _ = done_tx.send(arrivals);
        });
    }
    drop(done_tx);
    for r in ready {
        let _ = r.await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut sent_at = Vec::with_capacity(events);
    let mut ingest_ms = Vec::with_capacity(events);
    for n in 0..events {
        let t = epoch.elapsed().as_secs_f64() * 1000.0;
        sent_at.push(t);
        let res = client
            .post(format!("{url}/api/v1/events"))
            .bearer_auth(&key)
            .json(&json!({ "service": "bench", "type": "bench.latency", "attributes": { "n": n } }))
            .send()
            .await?;
        anyhow::ensure!(res.status() == 202, "ingest refused: {}", res.status());
        ingest_ms.push(epoch.elapsed().as_secs_f64() * 1000.0 - t);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut latencies = Vec::new();
    let mut complete = 0;
    while let Some(arrivals) = done_rx.recv().await {
        if arrivals.len() == events {
            complete += 1;
        }
        for (n, at) in arrivals {
            if let Some(sent) = sent_at.get(n as usize) {
                latencies.push(at - sent);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    ingest_ms.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({ "kind": "stream_latency", "subscribers": subscribers, "events": events,
                "complete_subscribers": complete, "deliveries": latencies.len(),
                "p50_ms": percentile(&latencies, 0.5), "p95_ms": percentile(&latencies, 0.95),
                "max_ms": latencies.last().copied().unwrap_or(f64::NAN),
                "ingest_p50_ms": percentile(&ingest_ms, 0.5) })
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::Ingest {
            url,
            key,
            clients,
            batch,
            seconds,
            rate,
            events,
        } => ingest(url, key, clients, batch, seconds, rate, events).await,
        Cmd::WebhookReceiver { port, out } => webhooks::receiver(port, out).await,
        Cmd::Copy {
            database_url,
            rows,
            clients,
        } => copy(database_url, rows, clients).await,
        Cmd::Dashboard {
            url,
            key,
            requests,
            range,
        } => dashboard(url, key, requests, range).await,
        Cmd::RawScan {
            database_url,
            repeats,
        } => raw_scan(database_url, repeats).await,
        Cmd::Sentry {
            url,
            key,
            project,
            mode,
            clients,
            seconds,
            per_client,
        } => sentry::run(url, key, project, mode, clients, seconds, per_client).await,
        Cmd::StreamIdle {
            url,
            key,
            connections,
            hold,
            server_pid,
        } => stream_idle(url, key, connections, hold, server_pid).await,
        Cmd::KeepaliveIdle {
            url,
            connections,
            idle_limit,
            server_pid,
        } => keepalive_idle(url, connections, idle_limit, server_pid).await,
        Cmd::StreamLatency {
            url,
            key,
            subscribers,
            events,
        } => stream_latency(url, key, subscribers, events).await,
        Cmd::Target { port } => probes::target(port).await,
        Cmd::Soak {
            url,
            key,
            database_url,
            server_pid,
            minutes,
            events_per_s,
            streams,
            dashboard_users,
        } => {
            soak::run(soak::Soak {
                url,
                key,
                database_url,
                server_pid,
                minutes,
                events_per_s,
                streams,
                dashboard_users,
            })
            .await
        }
        Cmd::ProbesCreate {
            url,
            key,
            count,
            target,
            interval,
        } => probes::create(&url, &key, count, &target, interval).await,
        Cmd::ProbeStats {
            database_url,
            service_id,
            days,
            repeats,
        } => probes::stats(&database_url, service_id, days, repeats).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmark_events_are_valid_json_with_the_expected_fields() {
        for i in [0, 1, 49, 50, 777] {
            let mut out = Vec::new();
            write_event(&mut out, i, i as u64 + 3);
            let e: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
            assert!(uuid::Uuid::parse_str(e["id"].as_str().unwrap_or_default()).is_ok());
            assert_eq!(e["service"], format!("bench-{}", i % 5));
            assert_eq!(e["feature"], format!("feature-{}", i % 12));
            assert_eq!(e["type"], "bench.request");
            assert_eq!(e["level"], if i % 50 == 0 { "error" } else { "info" });
            assert_eq!(e["message"], format!("request {} handled", i + 3));
            assert_eq!(e["release"], "2026.11.1");
            assert_eq!(e["environment"], "production");
            assert_eq!(e["user"], format!("u-{}", i % 500));
            assert_eq!(e["attributes"]["duration_ms"], i % 300);
            assert_eq!(e["attributes"]["path"], "/api/orders");
        }
    }
}
