//! Two `leitstand` processes on one database behind a proxy that sends
//! each connection to the next process in turn: ingest through both, the
//! same figures from either, a live stream on one seeing what the other
//! took. (Scheduled backups, probe checks and deliveries running once
//! across processes are tested with their features.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{ServerProcess, db_url};

/// A round-robin TCP proxy; returns its address and how many connections
/// went to each backend.
async fn proxy(backends: Vec<String>) -> (String, Arc<Vec<AtomicUsize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let counts = Arc::new(
        backends
            .iter()
            .map(|_| AtomicUsize::new(0))
            .collect::<Vec<_>>(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let c = counts.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let i = next.fetch_add(1, Ordering::Relaxed) % backends.len();
            c[i].fetch_add(1, Ordering::Relaxed);
            let target = backends[i].clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (format!("http://{addr}"), counts)
}

fn host_of(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_behind_a_proxy_ingest_agree_and_stream_across() {
    let env = [
        ("LEITSTAND_INGEST_RATE_PER_KEY", "0"),
        ("LEITSTAND_RATE_LIMIT_PER_IP", "0"),
    ];
    let mut a = ServerProcess::start(&env, false, |_| async {}).await;
    let db_name = std::mem::take(&mut a.db_name);
    let b = ServerProcess::start_on(&db_name, &env).await;
    let pool = sqlx::PgPool::connect(&db_url(&db_name))
        .await
        .expect("pool");
    let key =
        crate::chaos::create_key(&pool, &[app::keys::Scope::Ingest, app::keys::Scope::Read]).await;
    let (front, counts) = proxy(vec![host_of(&a.base), host_of(&b.base)]).await;
    // One connection per request, so the proxy alternates requests.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");

    // A live stream on A, before anything is sent.
    let mut stream = {
        let res = http
            .get(format!("{}/api/v1/stream", a.base))
            .bearer_auth(&key)
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("stream");
        assert_eq!(res.status(), 200);
        crate::helpers::sse(res)
    };

    // 40 requests through the proxy: 20 single events and 20 batches of 10.
    let mut sent = 0;
    for i in 0..40 {
        let body = if i % 2 == 0 {
            json!({ "service": "shop", "feature": "checkout", "type": "order.placed", "message": format!("single-{i}") })
        } else {
            Value::Array(
                (0..10)
                    .map(|j| json!({ "service": "shop", "feature": "search", "level": if j == 0 { "error" } else { "info" }, "message": format!("batch-{i}-{j}") }))
                    .collect(),
            )
        };
        sent += body.as_array().map_or(1, Vec::len);
        let r = http
            .post(format!("{front}/api/v1/events"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status(), 202);
    }
    let (to_a, to_b) = (
        counts[0].load(Ordering::Relaxed),
        counts[1].load(Ordering::Relaxed),
    );
    assert!(
        to_a >= 20 && to_b >= 20,
        "both processes took requests: {to_a} / {to_b}"
    );

    // The stream on A saw every event, also those B took.
    let mut seen = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen < sent && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
            Ok(Some(m)) if m.event == "event" => seen += 1,
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    assert_eq!(
        seen, sent,
        "the stream on A carried every event sent to A or B"
    );

    // The same figures from either process.
    let dashboard = |base: String| {
        let http = http.clone();
        let key = key.clone();
        async move {
            let v: Value = http
                .get(format!("{base}/api/v1/dashboard?range=24h"))
                .bearer_auth(&key)
                .send()
                .await
                .expect("dashboard")
                .json()
                .await
                .expect("json");
            v
        }
    };
    let (from_a, from_b) = (
        dashboard(a.base.clone()).await,
        dashboard(b.base.clone()).await,
    );
    assert_eq!(from_a["kpis"], from_b["kpis"], "identical KPIs");
    assert_eq!(from_a["timeline"], from_b["timeline"], "identical timeline");
    assert_eq!(from_a["kpis"]["events"], json!(sent), "{}", from_a["kpis"]);
    let stored: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(stored as usize, sent);
    pool.close().await;
    drop(b);
    drop(a);
    crate::helpers::drop_database_blocking(db_name);
}
