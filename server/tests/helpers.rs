//! Test harness: `spawn_app()` starts Leitstand on port 0 with a database
//! of its own, cloned from a migrated template (fast), dropped afterwards.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use server::config::{DatabaseUrl, LogFormat, Settings};
use server::startup::Application;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::sync::{OnceCell, oneshot};

use app::auth::Role;
use reqwest::header;

/// Admin URL of the PostgreSQL the tests create databases on.
pub fn admin_url() -> String {
    std::env::var("LEITSTAND_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub fn db_url(name: &str) -> String {
    let admin = admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{name}")
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// A migrated template database, named after the migrations it holds so
/// that later runs reuse it and a changed migration makes a new one.
async fn template() -> String {
    TEMPLATE
        .get_or_init(|| async {
            let mut hash = 0u64;
            for m in server::database::MIGRATOR.iter() {
                for b in m.checksum.iter().chain(m.version.to_le_bytes().iter()) {
                    hash = hash.wrapping_mul(1_099_511_628_211) ^ u64::from(*b);
                }
            }
            let name = format!("leitstand_tpl_{hash:016x}");
            let mut admin = PgConnection::connect(&admin_url())
                .await
                .expect("test PostgreSQL reachable (set LEITSTAND_TEST_PG)");
            let exists: bool =
                sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut admin)
                    .await
                    .expect("query pg_database");
            if !exists {
                let building = format!("leitstand_tplb_{}", uuid::Uuid::new_v4().simple());
                admin
                    .execute(sqlx::AssertSqlSafe(format!("create database {building}")))
                    .await
                    .expect("create template");
                let pool = PgPool::connect(&db_url(&building))
                    .await
                    .expect("connect template");
                server::database::MIGRATOR
                    .run(&pool)
                    .await
                    .expect("migrate template");
                pool.close().await;
                let renamed = admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "alter database {building} rename to {name}"
                    )))
                    .await;
                if renamed.is_err() {
                    // Another test process finished first; use theirs.
                    let _ = admin
                        .execute(sqlx::AssertSqlSafe(format!("drop database {building}")))
                        .await;
                }
            }
            name
        })
        .await
        .clone()
}

/// A test still running this long after it asked for a database or a
/// server is stuck: the run stops with its name instead of hanging until
/// CI gives up on it. The longest test takes about two minutes.
const STUCK_AFTER: Duration = Duration::from_secs(600);

/// The tests that asked for a database or a server, by test thread: libtest
/// runs every test on a thread of its own, named after the test, so a
/// thread-local guard says when the test is over.
pub mod watchdog {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Mutex, Once};
    use std::time::Instant;

    static RUNNING: Mutex<BTreeMap<u64, (String, Instant)>> = Mutex::new(BTreeMap::new());
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static MONITOR: Once = Once::new();

    struct Armed(u64);

    impl Drop for Armed {
        fn drop(&mut self) {
            if let Ok(mut running) = RUNNING.lock() {
                running.remove(&self.0);
            }
        }
    }

    thread_local! {
        static ARMED: RefCell<Option<Armed>> = const { RefCell::new(None) };
    }

    /// Starts watching the calling test (once per test thread).
    pub fn arm() {
        MONITOR.call_once(|| {
            std::thread::spawn(|| {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    let stuck: Vec<String> = RUNNING
                        .lock()
                        .map(|r| {
                            r.values()
                                .filter(|(_, since)| since.elapsed() > super::STUCK_AFTER)
                                .map(|(name, since)| {
                                    format!("{name} (running for {} s)", since.elapsed().as_secs())
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    if !stuck.is_empty() {
                        // Straight to stderr: eprintln! would be captured
                        // with the test's output and lost at the exit.
                        use std::io::Write;
                        let _ = writeln!(
                            std::io::stderr(),
                            "stuck, stopping the test run: {}",
                            stuck.join(", ")
                        );
                        std::process::exit(1);
                    }
                }
            });
        });
        ARMED.with(|armed| {
            let mut armed = armed.borrow_mut();
            if armed.is_none() {
                let id = NEXT.fetch_add(1, Ordering::Relaxed);
                let name = std::thread::current().name().unwrap_or("a test").to_owned();
                if let Ok(mut running) = RUNNING.lock() {
                    running.insert(id, (name, Instant::now()));
                }
                *armed = Some(Armed(id));
            }
        });
    }
}

/// Creates a fresh, migrated database; returns its name.
pub async fn fresh_database() -> String {
    watchdog::arm();
    let template = template().await;
    let name = format!("leitstand_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url())
        .await
        .expect("admin connection");
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "create database {name} template {template}"
        )))
        .await
        .expect("create test database");
    name
}

pub fn drop_database_blocking(name: String) {
    let _ = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
                let _ = admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "drop database if exists {name} with (force)"
                    )))
                    .await;
            }
        });
    })
    .join();
}

/// The built-in defaults with what tests need changed: a free port, the
/// test database, quiet logs, nothing scheduled, limits out of the way.
pub fn test_settings(database_url: &str, data_dir: PathBuf) -> Settings {
    let mut s = Settings::defaults();
    s.http.listen = "127.0.0.1:0".parse().expect("addr");
    s.database.database_url = Some(DatabaseUrl(SecretString::from(database_url.to_owned())));
    s.database.data_dir = data_dir;
    s.database.db_max_connections = 8;
    s.log.filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into());
    s.limits.rate_limit_per_ip = 0;
    s.limits.ingest_rate_per_key = 0;
    s.limits.exports_per_minute = 1000;
    s.limits.restores_per_minute = 100;
    s.http.shutdown_timeout = 5;
    s.backups.backup_schedule = "off".into();
    s.retention.retention_at = "off".into();
    s
}

/// A running Leitstand with its own database.
pub struct TestApp {
    pub state: app::state::AppState,
    pub addr: SocketAddr,
    /// `--metrics-listen`, when the test set it.
    pub metrics_addr: Option<SocketAddr>,
    pub base: String,
    pub pool: PgPool,
    pub db_name: String,
    pub client: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let db_name = fresh_database().await;
    spawn_app_on(&db_url(&db_name), db_name, customise).await
}

/// Starts Leitstand against an existing database URL.
pub async fn spawn_app_on(
    database_url: &str,
    db_name: String,
    customise: impl FnOnce(&mut Settings),
) -> TestApp {
    watchdog::arm();
    server::telemetry::init(
        LogFormat::Text,
        &std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
    );
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(database_url, data_dir.path().to_path_buf());
    customise(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let addr = app.local_addr();
    let metrics_addr = app.metrics_addr();
    let pool = app.state().pool.clone();
    let state = app.state().clone();
    let (tx, rx) = oneshot::channel();
    let server = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        state,
        addr,
        metrics_addr,
        base: format!("http://{addr}"),
        pool,
        db_name,
        client: http_client(),
        data_dir,
        stop: Some(tx),
        server: Some(server),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), server).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if !self.db_name.is_empty() {
            drop_database_blocking(std::mem::take(&mut self.db_name));
        }
    }
}

/// Polls `check` every 100 ms until it returns true or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A temp dir the `postgres` system user can reach (tests may run as root).
pub fn shared_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

impl TestApp {
    /// Creates an API key directly in the database; returns the secret.
    pub async fn key(&self, scopes: &[app::keys::Scope], service: Option<&str>) -> String {
        let mut conn = self.pool.acquire().await.expect("connection");
        let service_id = match service {
            Some(slug) => Some(
                app::services::store::ensure(&mut *conn, slug)
                    .await
                    .expect("service"),
            ),
            None => None,
        };
        app::keys::store::create(&mut conn, "test", scopes, service_id, "test")
            .await
            .expect("key")
            .secret
    }

    pub async fn ingest_key(&self) -> String {
        self.key(&[app::keys::Scope::Ingest, app::keys::Scope::Read], None)
            .await
    }

    /// POSTs a JSON body to /api/v1/events.
    pub async fn post_events(&self, key: &str, body: &serde_json::Value) -> reqwest::Response {
        self.post_json("/api/v1/events", key, body).await
    }

    pub async fn get_dashboard(&self, key: &str, query: &str) -> serde_json::Value {
        self.get_json(&format!("/api/v1/dashboard{query}"), key)
            .await
    }

    /// A request with an API key.
    pub async fn with_key(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
    ) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_as(&self, path: &str, key: &str) -> reqwest::Response {
        self.with_key(reqwest::Method::GET, path, key).await
    }

    pub async fn post_as(&self, path: &str, key: &str) -> reqwest::Response {
        self.with_key(reqwest::Method::POST, path, key).await
    }

    pub async fn delete_as(&self, path: &str, key: &str) -> reqwest::Response {
        self.with_key(reqwest::Method::DELETE, path, key).await
    }

    /// GETs JSON with an API key, expecting 200.
    pub async fn get_json(&self, path: &str, key: &str) -> serde_json::Value {
        let res = self.get_as(path, key).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("json")
    }

    /// POSTs a JSON body with an API key.
    pub async fn post_json(
        &self,
        path: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Row counts of every table ingest writes to.
    pub async fn stored_counts(&self) -> [i64; 6] {
        let row = sqlx::query_as::<_, (i64, i64, i64, i64, i64, i64)>(
            "select (select count(*) from events), (select count(*) from event_ids),
                    (select count(*) from event_rollups), (select count(*) from event_rollups_daily),
                    (select count(*) from error_groups), (select count(*) from services)",
        )
        .fetch_one(&self.pool)
        .await
        .expect("counts");
        [row.0, row.1, row.2, row.3, row.4, row.5]
    }
}

/// A command-line run still going after this long is stuck: killed, and
/// the test fails with its arguments.
const CLI_LIMIT: Duration = Duration::from_secs(120);

/// Runs the `leitstand` binary against a database; returns (exit code,
/// stdout, stderr). Awaited rather than blocking: an in-process server on
/// the test's runtime keeps running meanwhile (blocked, it could hold a lock
/// or a lease the command waits for, and neither would ever move).
pub async fn run_cli_code(database_url: &str, args: &[&str]) -> (i32, String, String) {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_leitstand"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("leitstand runs");
    let out = tokio::time::timeout(CLI_LIMIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "`leitstand {}` still running after {CLI_LIMIT:?}",
                args.join(" ")
            )
        })
        .expect("leitstand's output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the `leitstand` binary against a database; returns (success,
/// stdout, stderr).
pub async fn run_cli(database_url: &str, args: &[&str]) -> (bool, String, String) {
    let (code, out, err) = run_cli_code(database_url, args).await;
    (code == 0, out, err)
}

/// One SSE message.
#[derive(Debug, Clone)]
pub struct SseMessage {
    pub id: i64,
    pub event: String,
    pub data: serde_json::Value,
}

pub type SseStream = std::pin::Pin<Box<dyn futures::Stream<Item = SseMessage> + Send>>;

impl TestApp {
    /// Opens /api/v1/stream with a query (e.g. "?service=shop") and an
    /// optional Last-Event-ID.
    pub async fn open_stream(
        &self,
        key: &str,
        query: &str,
        last_event_id: Option<i64>,
    ) -> SseStream {
        let mut req = stream_client()
            .get(self.url(&format!("/api/v1/stream{query}")))
            .bearer_auth(key);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let res = req.send().await.expect("stream opened");
        assert_eq!(res.status(), 200, "stream status");
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        sse(res)
    }
}

/// The messages of an open event-stream response.
pub fn sse(res: reqwest::Response) -> SseStream {
    use eventsource_stream::Eventsource;
    use futures::StreamExt;
    Box::pin(res.bytes_stream().eventsource().filter_map(|m| async move {
        let m = m.ok()?;
        Some(SseMessage {
            id: m.id.parse().unwrap_or(-1),
            event: m.event,
            data: serde_json::from_str(&m.data).unwrap_or_default(),
        })
    }))
}

/// The next `n` messages, failing after `limit`.
pub async fn next_messages(stream: &mut SseStream, n: usize, limit: Duration) -> Vec<SseMessage> {
    use futures::StreamExt;
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    while out.len() < n {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(m)) => out.push(m),
            Ok(None) => panic!("stream ended after {} of {n} messages", out.len()),
            Err(_) => panic!("only {} of {n} messages within {limit:?}", out.len()),
        }
    }
    out
}

/// Asserts that nothing more arrives within `wait`.
pub async fn expect_quiet(stream: &mut SseStream, wait: Duration) {
    use futures::StreamExt;
    if let Ok(Some(m)) = tokio::time::timeout(wait, stream.next()).await {
        panic!("unexpected message {m:?}");
    }
}

// Sessions and server functions.

pub const PASSWORD: &str = "correct horse battery";

/// A client that keeps no cookies and follows no redirects.
pub fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// An HTTP client whose requests give up after 30 s (a server that never
/// answers fails the test rather than hanging it).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// An HTTP client for live streams: no limit on a response's length, but a
/// stream silent for a minute (keep-alive comments come far more often)
/// fails the read.
pub fn stream_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// The URL path of a server function by its Rust name.
pub fn rpc(name: &str) -> String {
    let prefix = format!("/rpc/{name}");
    server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .find(|p| {
            p.strip_prefix(&prefix)
                .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
        })
        .unwrap_or_else(|| panic!("no server function {name}"))
}

/// Every server function's Rust name.
pub fn rpc_names() -> Vec<String> {
    let mut names: Vec<String> = server_fn::axum::server_fn_paths()
        .filter_map(|(path, _)| path.strip_prefix("/rpc/"))
        .map(|p| p.trim_end_matches(|c: char| c.is_ascii_digit()).to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

pub struct Session {
    pub cookie: String,
}

impl TestApp {
    pub async fn add_user(&self, email: &str, role: Role) {
        app::auth::store::create_user(&self.pool, email, "", PASSWORD, role)
            .await
            .expect("user");
    }

    pub fn origin(&self) -> String {
        self.base.clone()
    }

    /// POSTs a form to a server function, as a page of ours would.
    pub async fn call(
        &self,
        session: Option<&Session>,
        name: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = raw_client()
            .post(self.url(&rpc(name)))
            .header(header::ORIGIN, self.origin())
            .form(form);
        if let Some(s) = session {
            req = req.header(header::COOKIE, &s.cookie);
        }
        req.send().await.expect("sent")
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.call(
            None,
            "login",
            &[("email", email), ("password", password), ("next", "/")],
        )
        .await
    }

    pub async fn session(&self, email: &str) -> Session {
        let res = self.login(email, PASSWORD).await;
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "login: {}",
            res.status()
        );
        let set_cookie = res.headers()[header::SET_COOKIE]
            .to_str()
            .expect("ascii")
            .to_owned();
        let cookie = set_cookie.split(';').next().expect("pair").to_owned();
        Session { cookie }
    }
}

/// A response read off a raw connection.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl RawResponse {
    /// A header's value (first match, case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `request` as written (no client normalises the path) on a new
/// connection and reads the answer until the server closes it (send
/// `Connection: close`).
pub async fn raw_http(addr: SocketAddr, request: &str) -> RawResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let first_line = request.lines().next().unwrap_or_default();
    // Longer than the server's own request timeout (30 s): a request slowed
    // down by a busy machine gets the server's 408, not a hung test.
    tokio::time::timeout(Duration::from_secs(60), tcp.read_to_end(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("`{first_line}` not answered within 60 s"))
        .expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    RawResponse {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// `GET path` on a raw connection, with optional extra header lines.
pub async fn raw_get(addr: SocketAddr, path: &str, extra: &str) -> RawResponse {
    raw_http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\n{extra}Connection: close\r\n\r\n"),
    )
    .await
}

/// The variants every route is tried under: as is, with a trailing slash,
/// a doubled slash at the start and inside, the first letter
/// percent-encoded, and behind a dot segment.
pub fn path_variants(path: &str) -> Vec<String> {
    let (p, q) = match path.split_once('?') {
        Some((p, q)) => (p, format!("?{q}")),
        None => (path, String::new()),
    };
    let mut out = vec![
        format!("{p}{q}"),
        format!("{p}/{q}"),
        format!("/{p}{q}"),
        format!("{}{q}", p.replacen('/', "//", 2)),
        format!("/x/..{p}{q}"),
    ];
    if let Some(c) = p.chars().nth(1).filter(char::is_ascii_alphabetic) {
        out.push(format!("/%{:02X}{}{q}", c as u8, &p[2..]));
    }
    out
}

/// Order-independent checksum of every backed-up table's content, for
/// comparing a database before and after a round trip.
pub async fn content_checksums(pool: &PgPool) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for table in app::backups::store::TABLES {
        let sql = format!(
            "select coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '') from \"{table}\" t"
        );
        let sum: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await
            .expect("checksum");
        out.insert((*table).to_owned(), sum);
    }
    out
}

/// The `leitstand` binary serving a fresh database of its own, for tests
/// that need a separate process (its memory, its log output).
pub struct ServerProcess {
    pub child: std::process::Child,
    pub base: String,
    pub db_name: String,
    _data: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `leitstand serve` with these environment variables added
    /// (scheduled backups off) and waits until it is ready. `prepare`
    /// runs against the migrated database first.
    pub async fn start<F, Fut>(env: &[(&str, &str)], capture_stderr: bool, prepare: F) -> Self
    where
        F: FnOnce(PgPool) -> Fut,
        Fut: Future<Output = ()>,
    {
        let db_name = fresh_database().await;
        let pool = PgPool::connect(&db_url(&db_name)).await.expect("pool");
        prepare(pool.clone()).await;
        pool.close().await;
        Self::launch(&db_name, env, capture_stderr).await
    }

    /// Starts `leitstand serve` on an existing database (which it then
    /// owns and drops at the end), with these environment variables.
    pub async fn start_on(db_name: &str, env: &[(&str, &str)]) -> Self {
        Self::launch(db_name, env, false).await
    }

    async fn launch(db_name: &str, env: &[(&str, &str)], capture_stderr: bool) -> Self {
        watchdog::arm();
        let url = db_url(db_name);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let data = tempfile::tempdir().expect("data dir");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_leitstand"));
        command
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("LEITSTAND_LISTEN", format!("127.0.0.1:{port}"))
            .env("LEITSTAND_DATA_DIR", data.path())
            .env("LEITSTAND_BACKUP_SCHEDULE", "off")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(if capture_stderr {
                std::process::Stdio::piped()
            } else {
                std::process::Stdio::null()
            });
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("leitstand starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let ready = eventually(Duration::from_secs(60), || {
            let client = client.clone();
            let url = format!("{base}/readyz");
            async move {
                client
                    .get(url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            }
        })
        .await;
        assert!(ready, "leitstand ready");
        Self {
            child,
            base,
            db_name: db_name.to_owned(),
            _data: data,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server (SIGTERM) and returns what it wrote to stderr. A
    /// server still running 30 s after SIGTERM fails the test (killed).
    pub fn stop(mut self) -> String {
        use std::io::Read;
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(mut stderr) = self.child.stderr.take() {
            std::thread::spawn(move || {
                let mut log = String::new();
                let _ = stderr.read_to_string(&mut log);
                let _ = tx.send(log);
            });
        }
        let stopped = wait_exit(&mut self.child, Duration::from_secs(30)).is_some();
        if !stopped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let log = rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
        assert!(
            stopped,
            "leitstand still running 30 s after SIGTERM; log:\n{log}"
        );
        log
    }
}

/// The child's exit status once it has exited, or None after `limit`.
pub fn wait_exit(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.db_name.is_empty() {
            drop_database_blocking(std::mem::take(&mut self.db_name));
        }
    }
}
