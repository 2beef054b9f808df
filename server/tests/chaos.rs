//! Faults with real processes and real PostgreSQL: what a `leitstand`
//! process acknowledged survives it being killed, and clients that retry
//! what was not acknowledged end with every event stored exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{ServerProcess, db_url};

/// Rate limits off: the load below is one key from one address.
const ENV: &[(&str, &str)] = &[
    ("LEITSTAND_INGEST_RATE_PER_KEY", "0"),
    ("LEITSTAND_RATE_LIMIT_PER_IP", "0"),
];

/// What a client sent and whether it was acknowledged (202).
#[derive(Default)]
struct Ledger {
    /// Request bodies by whether they got 202, in sending order.
    acknowledged: Vec<Value>,
    unacknowledged: Vec<Value>,
}

fn event(client: usize) -> Value {
    json!({
        "id": Uuid::new_v4(),
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "service": "chaos",
        "feature": format!("client-{client}"),
        "type": "order.placed",
    })
}

fn ids_of(body: &Value) -> Vec<Uuid> {
    let one = |e: &Value| e["id"].as_str().and_then(|s| s.parse().ok());
    match body {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

/// Sends bodies until the server stops answering; each body is recorded
/// as acknowledged only on 202.
async fn client(
    base: String,
    key: String,
    batch: Option<usize>,
    id: usize,
    ledger: Arc<Mutex<Ledger>>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    loop {
        let body = match batch {
            Some(n) => Value::Array((0..n).map(|_| event(id)).collect()),
            None => event(id),
        };
        let sent = http
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await;
        let acknowledged = matches!(&sent, Ok(r) if r.status() == 202);
        let stop = sent.is_err();
        if let Ok(r) = &sent {
            assert!(
                r.status() == 202 || r.status() == 503,
                "only 202 or 503 while the server runs, got {}",
                r.status()
            );
        }
        {
            let mut l = ledger.lock().expect("ledger");
            if acknowledged {
                l.acknowledged.push(body);
            } else {
                l.unacknowledged.push(body);
            }
        }
        if stop {
            return;
        }
    }
}

async fn stored(pool: &sqlx::PgPool, ids: &[Uuid]) -> HashMap<Uuid, i64> {
    let rows: Vec<(Uuid, i64)> =
        sqlx::query_as("select id, count(*) from events where id = any($1) group by id")
            .bind(ids)
            .fetch_all(pool)
            .await
            .expect("stored ids");
    rows.into_iter().collect()
}

/// A live client for a whole test, from cursor 0 (every event, however
/// soon the load starts): it reads every message and, when the server ends
/// its stream (an outage, or it fell behind), reconnects with
/// Last-Event-ID, as browsers do. Records the event ids it saw and any
/// cursor that was not above the one before.
struct LiveReader {
    seen: Arc<Mutex<std::collections::HashSet<String>>>,
    disorder: Arc<Mutex<Vec<(i64, i64)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl LiveReader {
    fn start(app: &crate::helpers::TestApp, key: &str) -> Self {
        let seen = Arc::new(Mutex::new(std::collections::HashSet::new()));
        let disorder = Arc::new(Mutex::new(Vec::new()));
        let url = app.url("/api/v1/stream");
        let key = key.to_owned();
        let (s, d) = (seen.clone(), disorder.clone());
        let task = tokio::spawn(async move {
            use futures::StreamExt;
            let mut last: i64 = 0;
            loop {
                let req = crate::helpers::stream_client()
                    .get(&url)
                    .bearer_auth(&key)
                    .header("last-event-id", last.to_string());
                match req.send().await {
                    Ok(res) if res.status() == 200 => {
                        let mut stream = crate::helpers::sse(res);
                        while let Some(m) = stream.next().await {
                            if m.event != "event" {
                                continue;
                            }
                            if m.id <= last {
                                d.lock().expect("disorder").push((last, m.id));
                            }
                            last = last.max(m.id);
                            if let Some(id) = m.data["id"].as_str() {
                                s.lock().expect("seen").insert(id.to_owned());
                            }
                        }
                    }
                    _ => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
        Self {
            seen,
            disorder,
            task,
        }
    }

    /// Waits until every one of `ids` was seen; fails naming the ids still
    /// missing and their cursors.
    async fn expect_all_seen(&self, ids: &[Uuid], pool: &sqlx::PgPool) {
        crate::helpers::eventually(Duration::from_secs(30), || async {
            let seen = self.seen.lock().expect("seen");
            ids.iter().all(|id| seen.contains(&id.to_string()))
        })
        .await;
        let missing: Vec<Uuid> = {
            let seen = self.seen.lock().expect("seen");
            ids.iter()
                .filter(|id| !seen.contains(&id.to_string()))
                .copied()
                .collect()
        };
        assert!(
            missing.is_empty(),
            "{} of {} acknowledged events never reached the stream (cursors {:?})",
            missing.len(),
            ids.len(),
            cursors_of(pool, &missing).await
        );
    }
}

impl Drop for LiveReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The cursors of some events, for a failure message.
async fn cursors_of(pool: &sqlx::PgPool, ids: &[Uuid]) -> Vec<i64> {
    sqlx::query_scalar("select seq from events where id = any($1) order by seq limit 20")
        .bind(ids)
        .fetch_all(pool)
        .await
        .expect("cursors")
}

/// An API key created directly in the database; its secret.
pub async fn create_key(pool: &sqlx::PgPool, scopes: &[app::keys::Scope]) -> String {
    let mut conn = pool.acquire().await.expect("conn");
    app::keys::store::create(&mut conn, "test", scopes, None, "test")
        .await
        .expect("key")
        .secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_loses_no_acknowledged_event_and_retries_store_each_once() {
    let mut first = ServerProcess::start(ENV, false, |_| async {}).await;
    let db_name = std::mem::take(&mut first.db_name);
    let pool = sqlx::PgPool::connect(&db_url(&db_name))
        .await
        .expect("pool");
    let key = create_key(&pool, &[app::keys::Scope::Ingest]).await;

    // 16 clients sending single events, 4 sending batches of 1000, all
    // with ids of their own choosing.
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut clients = Vec::new();
    for i in 0..20 {
        let batch = (i >= 16).then_some(1000);
        clients.push(tokio::spawn(client(
            first.base.clone(),
            key.clone(),
            batch,
            i,
            ledger.clone(),
        )));
    }
    // Until a good number of both kinds were acknowledged, then kill -9.
    let loaded = crate::helpers::eventually(Duration::from_secs(60), || {
        let ledger = ledger.clone();
        async move {
            let l = ledger.lock().expect("ledger");
            let batches = l.acknowledged.iter().filter(|b| b.is_array()).count();
            let singles = l.acknowledged.len() - batches;
            batches >= 4 && singles >= 200
        }
    })
    .await;
    assert!(loaded, "the load got going");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &first.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    for c in clients {
        c.await.expect("client ends once the server is gone");
    }
    drop(first);

    let (acknowledged, unacknowledged) = {
        let mut l = ledger.lock().expect("ledger");
        (
            std::mem::take(&mut l.acknowledged),
            std::mem::take(&mut l.unacknowledged),
        )
    };
    let acked_ids: Vec<Uuid> = acknowledged.iter().flat_map(ids_of).collect();
    let unacked_ids: Vec<Uuid> = unacknowledged.iter().flat_map(ids_of).collect();
    assert!(
        !unacknowledged.is_empty(),
        "the kill cut off requests in flight"
    );

    // After a restart: every acknowledged event is there, exactly once.
    let second = ServerProcess::start_on(&db_name, ENV).await;
    let found = stored(&pool, &acked_ids).await;
    let missing = acked_ids
        .iter()
        .filter(|id| !found.contains_key(id))
        .count();
    let doubled = found.values().filter(|n| **n != 1).count();
    assert_eq!(
        (missing, doubled),
        (0, 0),
        "{} acknowledged events: none missing, none twice",
        acked_ids.len()
    );

    // The clients retry what got no answer, with the same ids (and, for
    // good measure, the last acknowledged bodies too): all 202, and every
    // event is then stored once.
    let http = crate::helpers::http_client();
    let again = unacknowledged
        .iter()
        .chain(acknowledged.iter().rev().take(20));
    for body in again {
        let r = http
            .post(format!("{}/api/v1/events", second.base))
            .bearer_auth(&key)
            .json(body)
            .send()
            .await
            .expect("retry sent");
        assert_eq!(r.status(), 202, "a retry is acknowledged");
    }
    let all: Vec<Uuid> = acked_ids
        .iter()
        .chain(unacked_ids.iter())
        .copied()
        .collect();
    let found = stored(&pool, &all).await;
    assert_eq!(found.len(), all.len(), "every event is stored");
    assert!(found.values().all(|n| *n == 1), "no event is stored twice");
    let total: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(total as usize, all.len(), "nothing else was stored");
    pool.close().await;
    drop(second);
}

/// Sends like [`client`] but keeps going through an outage: a 503 (with
/// `Retry-After`) is not acknowledged and is sent again, as SDKs do; any
/// other refusal, a 500 or a request that outlives the server's timeout
/// fails the test. Stops when `stop` is set.
async fn patient_client(
    base: String,
    key: String,
    batch: Option<usize>,
    id: usize,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<String> {
    let http = reqwest::Client::builder()
        // The server's request timeout is 30 s; nothing may hang past it.
        .timeout(Duration::from_secs(35))
        .build()
        .expect("client");
    let mut problems = Vec::new();
    let mut pending: Option<Value> = None;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let body = pending.take().unwrap_or_else(|| match batch {
            Some(n) => Value::Array((0..n).map(|_| event(id)).collect()),
            None => event(id),
        });
        match http
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status() == 202 => ledger.lock().expect("ledger").acknowledged.push(body),
            Ok(r) if r.status() == 503 => {
                if !r.headers().contains_key("retry-after") {
                    problems.push("503 without Retry-After".into());
                }
                pending = Some(body);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(r) => {
                problems.push(format!("status {}", r.status()));
                pending = Some(body);
            }
            Err(e) => {
                problems.push(format!("no answer: {e}"));
                pending = Some(body);
            }
        }
    }
    if let Some(body) = pending {
        ledger.lock().expect("ledger").unacknowledged.push(body);
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restarted_fast_and_immediate_under_load_loses_nothing_and_recovers() {
    use server::embedded_pg::{EmbeddedPostgres, ensure_database};
    use std::sync::atomic::{AtomicBool, Ordering};

    let dir = crate::helpers::shared_tempdir();
    let root = dir.path().join("pg");
    let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&root))
        .await
        .expect("join")
        .expect("cluster");
    ensure_database(&pg).await.expect("database");
    let app = crate::helpers::spawn_app_on(&pg.url(), String::new(), |s| {
        s.limits.ingest_rate_per_key = 0;
        s.limits.rate_limit_per_ip = 0;
    })
    .await;
    let key = app
        .key(&[app::keys::Scope::Ingest, app::keys::Scope::Read], None)
        .await;
    let reader = LiveReader::start(&app, &key);

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for i in 0..10 {
        let batch = (i >= 8).then_some(200);
        clients.push(tokio::spawn(patient_client(
            app.base.clone(),
            key.clone(),
            batch,
            i,
            ledger.clone(),
            stop.clone(),
        )));
    }
    let acked = || ledger.lock().expect("ledger").acknowledged.len();

    let mut pg = pg;
    for mode in ["fast", "immediate"] {
        // Load flowing.
        let before = acked();
        assert!(
            crate::helpers::eventually(Duration::from_secs(30), || async { acked() > before + 20 })
                .await,
            "ingest flows before the {mode} shutdown"
        );
        pg = tokio::task::spawn_blocking(move || {
            pg.stop_mode(mode).expect("stop");
            pg
        })
        .await
        .expect("join");

        // During the outage: 503 with a reason, and the dashboard says so
        // rather than failing with a 500.
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status(), 503, "{mode}: /readyz during the outage");
        assert!(ready.headers().contains_key("retry-after"));
        let why: Value = ready.json().await.expect("json");
        assert_eq!(why["reason"], "database unavailable");
        let dash = app
            .client
            .get(app.url("/api/v1/dashboard"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("dashboard answers");
        assert_eq!(
            dash.status(),
            503,
            "{mode}: the dashboard during the outage"
        );
        let acked_during = acked();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            acked(),
            acked_during,
            "{mode}: nothing acknowledged while down"
        );

        pg = tokio::task::spawn_blocking(move || {
            pg.restart_on_same_port().expect("restart");
            pg
        })
        .await
        .expect("join");
        let back = std::time::Instant::now();
        let recovered = crate::helpers::eventually(Duration::from_secs(15), || async {
            acked() > acked_during && app.get("/readyz").await.status() == 200
        })
        .await;
        let took = back.elapsed();
        eprintln!("{mode} shutdown: ingest and /readyz back {took:?} after PostgreSQL");
        assert!(recovered, "{mode}: recovers by itself");
        assert!(
            took <= Duration::from_secs(8),
            "{mode}: back within 5 s of the database (8 s with slack for a busy machine), took {took:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let problems = c.await.expect("client");
        assert!(problems.is_empty(), "only 202 and 503: {problems:?}");
    }

    // Every acknowledged event is stored exactly once; what was pending at
    // the end is sent once more and also stored once.
    let (acknowledged, pending) = {
        let mut l = ledger.lock().expect("ledger");
        (
            std::mem::take(&mut l.acknowledged),
            std::mem::take(&mut l.unacknowledged),
        )
    };
    for body in &pending {
        let r = app.post_events(&key, body).await;
        assert_eq!(r.status(), 202);
    }
    let ids: Vec<Uuid> = acknowledged
        .iter()
        .chain(pending.iter())
        .flat_map(ids_of)
        .collect();
    let found = stored(&app.pool, &ids).await;
    let missing = ids.iter().filter(|id| !found.contains_key(id)).count();
    assert_eq!(missing, 0, "of {} acknowledged events", ids.len());
    assert!(found.values().all(|n| *n == 1), "none stored twice");

    // The live stream carried on across both restarts without a gap: the
    // client saw every acknowledged event.
    reader.expect_all_seen(&ids, &app.pool).await;
    app.stop().await;
    drop(pg);
}

#[tokio::test]
async fn postgres_unreachable_at_start_the_server_waits_says_so_then_serves() {
    use server::embedded_pg::{EmbeddedPostgres, ensure_database};
    let dir = crate::helpers::shared_tempdir();
    let root = dir.path().join("pg");
    let mut pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&root))
        .await
        .expect("join")
        .expect("cluster");
    ensure_database(&pg).await.expect("database");
    let url = pg.url();
    pg = tokio::task::spawn_blocking(move || {
        pg.stop().expect("stop");
        pg
    })
    .await
    .expect("join");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let data = tempfile::tempdir().expect("data");
    let log_path = data.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_leitstand"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("LEITSTAND_LISTEN", format!("127.0.0.1:{port}"))
        .env("LEITSTAND_DATA_DIR", data.path())
        .env("LEITSTAND_BACKUP_SCHEDULE", "off")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starts");
    let said = crate::helpers::eventually(Duration::from_secs(10), || {
        let log_path = log_path.clone();
        async move {
            std::fs::read_to_string(&log_path).is_ok_and(|l| l.contains("waiting for PostgreSQL"))
        }
    })
    .await;
    assert!(said, "it says it waits");
    assert!(child.try_wait().expect("status").is_none(), "still running");

    pg = tokio::task::spawn_blocking(move || {
        pg.restart_on_same_port().expect("restart");
        pg
    })
    .await
    .expect("join");
    let http = crate::helpers::http_client();
    let serving = crate::helpers::eventually(Duration::from_secs(20), || {
        let http = http.clone();
        async move {
            http.get(format!("http://127.0.0.1:{port}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(serving, "serves once PostgreSQL is there");
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(!log.contains("secret"), "no credentials in the log");
    drop(pg);
}

#[tokio::test]
async fn a_wrong_database_name_fails_at_once_with_a_clear_message() {
    let url = db_url("leitstand_no_such_database");
    let started = std::time::Instant::now();
    let (code, _, stderr) = crate::helpers::run_cli_code(&url, &["serve"]).await;
    assert_ne!(code, 0);
    assert!(stderr.contains("connecting to"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "not retried: waiting cannot help"
    );
}

/// A small file system of its own (tmpfs), unmounted when dropped.
struct SmallDisk {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(kib: u32) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).expect("mount point");
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={kib}k,mode=0700"),
                "tmpfs",
            ])
            .arg(&path)
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs to fill it (needs root, as `make test` runs on \
             these machines): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { path, _dir: dir }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.path)
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_or_an_unwritable_directory_fails_the_backup_with_its_reason_and_ingest_goes_on()
 {
    let disk = SmallDisk::mount(192);
    let backup_dir = disk.path.clone();
    let app = crate::helpers::spawn_app_with(|s| {
        s.backups.backup_dir = Some(backup_dir.clone());
    })
    .await;
    let key = app.key(&[app::keys::Scope::Admin], None).await;
    // Events whose messages do not compress: far more than 192 KiB of backup.
    let batch: Vec<Value> = (0..1000)
        .map(|_| json!({ "service": "shop", "message": format!("{}{}{}", Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()) }))
        .collect();
    for _ in 0..8 {
        assert_eq!(
            app.post_events(&key, &Value::Array(batch.clone()))
                .await
                .status(),
            202
        );
    }
    let full = app.post_as("/api/v1/backups", &key).await;
    assert_eq!(full.status(), 503, "a full disk is a storage failure");
    let body: Value = full.json().await.expect("json");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("No space left on device"), "{message}");

    let (status, error): (String, Option<String>) =
        sqlx::query_as("select status, error from backups order by id desc limit 1")
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(status, "failed");
    assert!(
        error
            .unwrap_or_default()
            .contains("No space left on device")
    );
    let left: Vec<_> = std::fs::read_dir(&disk.path)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "no partial file is left behind: {left:?}");
    let listed: Value = app
        .get_as("/api/v1/backups", &key)
        .await
        .json()
        .await
        .expect("json");
    let good = listed
        .as_array()
        .map_or(0, |l| l.iter().filter(|b| b["status"] == "ok").count());
    assert_eq!(good, 0, "nothing is listed as good");

    // Ingest goes on meanwhile.
    assert_eq!(
        app.post_events(&key, &json!({ "service": "shop", "message": "after" }))
            .await
            .status(),
        202
    );
    app.stop().await;

    // A directory that cannot be created (under /proc): failed, with the reason.
    let app = crate::helpers::spawn_app_with(|s| {
        s.backups.backup_dir = Some("/proc/leitstand-backups".into());
    })
    .await;
    let key = app.key(&[app::keys::Scope::Admin], None).await;
    let refused = app.post_as("/api/v1/backups", &key).await;
    assert_eq!(refused.status(), 503);
    let (status, error): (String, Option<String>) =
        sqlx::query_as("select status, error from backups order by id desc limit 1")
            .fetch_one(&app.pool)
            .await
            .expect("a failed backup is recorded");
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().contains("backup storage"));
    assert_eq!(
        app.post_events(&key, &json!({ "service": "shop", "message": "still" }))
            .await
            .status(),
        202
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_killed_in_the_middle_of_group_commits_never_give_a_false_202() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let app = crate::helpers::spawn_app_with(|s| {
        s.limits.ingest_rate_per_key = 0;
        s.limits.rate_limit_per_ip = 0;
    })
    .await;
    let key = app.key(&[app::keys::Scope::Ingest], None).await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for i in 0..8 {
        let batch = (i % 2 == 1).then_some(100);
        clients.push(tokio::spawn(patient_client(
            app.base.clone(),
            key.clone(),
            batch,
            i,
            ledger.clone(),
            stop.clone(),
        )));
    }
    // A separate connection ends the server's busy connections, over and
    // over, while the batches are being written.
    let killer = sqlx::PgPool::connect(&db_url(&app.db_name))
        .await
        .expect("pool");
    let mut killed = 0i64;
    let until = tokio::time::Instant::now() + Duration::from_secs(6);
    while tokio::time::Instant::now() < until {
        let n: i64 = sqlx::query_scalar(
            "select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity
             where datname = current_database() and application_name = 'leitstand'
               and state = 'active' and pid <> pg_backend_pid()",
        )
        .fetch_one(&killer)
        .await
        .expect("terminate");
        killed += n;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Calm again: ingest recovers.
    let before = ledger.lock().expect("ledger").acknowledged.len();
    assert!(
        crate::helpers::eventually(Duration::from_secs(15), || async {
            ledger.lock().expect("ledger").acknowledged.len() > before + 10
        })
        .await,
        "ingest recovers once connections are left alone"
    );
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let problems = c.await.expect("client");
        assert!(problems.is_empty(), "only 202 and 503: {problems:?}");
    }
    assert!(killed > 0, "connections were terminated mid-work");

    let (acknowledged, pending) = {
        let mut l = ledger.lock().expect("ledger");
        (
            std::mem::take(&mut l.acknowledged),
            std::mem::take(&mut l.unacknowledged),
        )
    };
    let acked_ids: Vec<Uuid> = acknowledged.iter().flat_map(ids_of).collect();
    let found = stored(&killer, &acked_ids).await;
    let missing = acked_ids
        .iter()
        .filter(|id| !found.contains_key(id))
        .count();
    eprintln!(
        "{killed} connections terminated; {} events acknowledged, {missing} of them missing",
        acked_ids.len()
    );
    assert_eq!(missing, 0, "every 202 was stored");
    assert!(found.values().all(|n| *n == 1), "none twice");
    for body in &pending {
        assert_eq!(app.post_events(&key, body).await.status(), 202);
    }
    killer.close().await;
    app.stop().await;
}

/// Opens a connection and trickles a request's headers, one line every
/// 500 ms, until the server closes it; returns when it was closed.
async fn slowloris(addr: std::net::SocketAddr, give_up: Duration) -> Option<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = std::time::Instant::now();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
    if tcp
        .write_all(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\n")
        .await
        .is_err()
    {
        return Some(started.elapsed());
    }
    let mut buf = [0u8; 256];
    while started.elapsed() < give_up {
        if tcp.write_all(b"X-Slow: 1\r\n").await.is_err() {
            return Some(started.elapsed());
        }
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(500), tcp.read(&mut buf)).await
        {
            return Some(started.elapsed());
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_slowloris_connections_do_not_stop_a_normal_client_and_are_cut_off() {
    let app = crate::helpers::spawn_app_with(|s| {
        // No per-address cap here: the header timeout alone must hold.
        s.http.max_connections_per_ip = 0;
        s.http.header_read_timeout = 3;
        s.limits.rate_limit_per_ip = 0;
    })
    .await;
    let key = app.ingest_key().await;
    let addr = app.addr;
    let attackers: Vec<_> = (0..1000)
        .map(|_| tokio::spawn(slowloris(addr, Duration::from_secs(20))))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Meanwhile a normal client ingests, each request answered promptly.
    let mut slowest = Duration::ZERO;
    for i in 0..40 {
        let t = std::time::Instant::now();
        let r = app
            .post_events(
                &key,
                &json!({ "service": "shop", "message": format!("normal-{i}") }),
            )
            .await;
        assert_eq!(r.status(), 202);
        slowest = slowest.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        slowest < Duration::from_secs(2),
        "slowest normal request {slowest:?}"
    );

    let mut closed = Vec::new();
    for a in attackers {
        closed.push(a.await.expect("join"));
    }
    let kept = closed.iter().filter(|c| c.is_none()).count();
    assert_eq!(
        kept, 0,
        "every trickling connection is closed by the header timeout"
    );
    let latest = closed.iter().flatten().max().copied().unwrap_or_default();
    assert!(
        latest < Duration::from_secs(10),
        "closed within the header timeout (latest {latest:?})"
    );
    let stored: i64 =
        sqlx::query_scalar("select count(*) from events where message like 'normal-%'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(stored, 40);
    app.stop().await;
}

#[tokio::test]
async fn a_body_larger_than_the_limit_is_refused_before_it_is_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn_app().await;
    let key = app.ingest_key().await;
    // Announces 100 MB, sends only the headers, then waits for the answer:
    // the server answers from the length alone.
    let mut tcp = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    tcp.write_all(
        format!(
            "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n["
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let started = std::time::Instant::now();
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
            .await
            .expect("answered without the body")
            .expect("read");
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
    app.stop().await;
}

/// Regression: a batch without error events drew its cursors before taking
/// the cursor lock, so a later cursor could commit first and the live
/// stream skip the earlier one (seen as one event in ten thousand missing).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_live_stream_under_concurrent_ingest_gets_every_event_once_in_cursor_order() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let app = crate::helpers::spawn_app_with(|s| {
        s.limits.ingest_rate_per_key = 0;
        s.limits.rate_limit_per_ip = 0;
    })
    .await;
    let key = app
        .key(&[app::keys::Scope::Ingest, app::keys::Scope::Read], None)
        .await;
    let reader = LiveReader::start(&app, &key);
    // Single events and batches from concurrent clients, no errors among
    // them: the batches that took the path without the lock.
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for i in 0..10 {
        let batch = (i >= 8).then_some(200);
        clients.push(tokio::spawn(patient_client(
            app.base.clone(),
            key.clone(),
            batch,
            i,
            ledger.clone(),
            stop.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_secs(8)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let problems = c.await.expect("client");
        assert!(problems.is_empty(), "{problems:?}");
    }
    let acknowledged = std::mem::take(&mut ledger.lock().expect("ledger").acknowledged);
    let ids: Vec<Uuid> = acknowledged.iter().flat_map(ids_of).collect();
    reader.expect_all_seen(&ids, &app.pool).await;
    assert_eq!(
        *reader.disorder.lock().expect("disorder"),
        vec![],
        "cursor order"
    );
    app.stop().await;
}
