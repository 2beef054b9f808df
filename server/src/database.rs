//! Opening the database: the configured `DATABASE_URL`, or the embedded
//! default cluster; then migrations.

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::{Settings, redact_url};
use crate::embedded_pg::{self, EmbeddedPostgres};

/// The migrations compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// A pool and, when no URL was configured, the cluster it points at (which
/// must outlive the pool).
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects (starting the embedded cluster if needed) and migrates;
    /// a configured PostgreSQL that cannot be reached is an error at once
    /// (the CLI's commands).
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        Self::open_waiting(settings, Duration::ZERO).await
    }

    /// [`Database::open`] that keeps retrying a configured PostgreSQL that
    /// is not reachable yet (still starting, restarting, the network not
    /// up) for up to `wait`, logging each attempt (`serve`).
    pub async fn open_waiting(settings: &Settings, wait: Duration) -> anyhow::Result<Self> {
        let (url, embedded) = match &settings.database.database_url {
            Some(url) => (url.expose().to_owned(), None),
            None => {
                let root = settings.database.data_dir.join("postgres");
                let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&root))
                    .await
                    .context("starting the embedded PostgreSQL")??;
                embedded_pg::ensure_database(&pg).await?;
                (pg.url(), Some(pg))
            }
        };
        let pool = connect_waiting(&url, settings.database.db_max_connections, wait).await?;
        refuse_newer_schema(&pool).await?;
        // sqlx takes a PostgreSQL advisory lock for the run: processes that
        // start together migrate once, the others wait and find it done.
        MIGRATOR
            .run(&pool)
            .await
            .context("applying database migrations")?;
        Ok(Self { pool, embedded })
    }

    /// Closes the pool, then stops the embedded cluster if there is one.
    pub async fn close(self) {
        // `close` waits for every connection to come back; a task stopped
        // at the shutdown timeout may never give its one back.
        if tokio::time::timeout(Duration::from_secs(5), self.pool.close())
            .await
            .is_err()
        {
            tracing::warn!("database connections still in use 5 s after shutdown; closing anyway");
        }
        if let Some(mut pg) = self.embedded {
            let result = tokio::task::spawn_blocking(move || pg.stop()).await;
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "stopping embedded PostgreSQL"),
                Err(e) => tracing::error!(error = %e, "stopping embedded PostgreSQL"),
            }
        }
    }
}

/// A pool with the timeouts Leitstand relies on.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    connect_waiting(url, max_connections, Duration::ZERO).await
}

/// [`connect`], retrying for up to `wait` while the server cannot be
/// reached or is starting or shutting down; a wrong password, an unknown
/// database or a bad URL fail at once.
pub async fn connect_waiting(
    url: &str,
    max_connections: u32,
    wait: Duration,
) -> anyhow::Result<PgPool> {
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    let mut attempt = 1u32;
    loop {
        match try_connect(url, max_connections).await {
            Ok(pool) => {
                if attempt > 1 {
                    tracing::info!(attempt, "PostgreSQL is reachable; starting");
                }
                return Ok(pool);
            }
            Err(ConnectError::Transient(e)) if started.elapsed() + delay <= wait => {
                tracing::warn!(
                    attempt,
                    error = %e,
                    "waiting for PostgreSQL at {} (retrying for up to {} s in all)",
                    redact_url(url),
                    wait.as_secs()
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                attempt += 1;
            }
            Err(ConnectError::Transient(e) | ConnectError::Fatal(e)) => {
                return Err(e).with_context(|| format!("connecting to {}", redact_url(url)));
            }
        }
    }
}

enum ConnectError {
    /// Worth waiting for: no answer, refused, starting up, shutting down.
    Transient(anyhow::Error),
    /// Waiting will not help: configuration or credentials.
    Fatal(anyhow::Error),
}

/// Whether a connection error can go away by itself.
fn transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => true,
        // 57P01..57P03: shutting down, crash recovery, not accepting
        // connections yet; 08xxx: connection failures.
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")),
        _ => false,
    }
}

async fn try_connect(url: &str, max_connections: u32) -> Result<PgPool, ConnectError> {
    let options: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| {
        ConnectError::Fatal(
            anyhow::Error::new(e).context(format!("invalid DATABASE_URL {}", redact_url(url))),
        )
    })?;
    // JIT compilation costs more than it saves on Leitstand's short, index-driven
    // queries (measured: ~2 s of JIT for a 5 ms dashboard query at 10 M events).
    let options = options
        .application_name("leitstand")
        .options([("jit", "off")]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(300))
        .connect_with(options)
        .await
        .map_err(|e| {
            if transient(&e) {
                ConnectError::Transient(e.into())
            } else {
                ConnectError::Fatal(e.into())
            }
        })
}

/// A second, smaller pool on the same database for background work
/// (probes, deliveries, alerts, subscriptions, retention). While a restore
/// holds its table locks, background queries wait; in their own pool they
/// can never take the connections that requests (and the restore itself)
/// need.
pub fn jobs_pool(pool: &PgPool, max_connections: u32) -> PgPool {
    let options = (*pool.connect_options())
        .clone()
        .application_name("leitstand-jobs");
    PgPoolOptions::new()
        .max_connections(max_connections.max(2))
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(30))
        .idle_timeout(Duration::from_secs(300))
        .connect_lazy_with(options)
}

/// An older binary must not run against a schema a newer one migrated:
/// it would not know the new tables and columns. Refuses to start, with
/// what to do, and changes nothing.
async fn refuse_newer_schema(pool: &PgPool) -> anyhow::Result<()> {
    let applied: Option<i64> =
        sqlx::query_scalar("select max(version) from _sqlx_migrations where success")
            .fetch_one(pool)
            .await
            .or_else(|e| match &e {
                // No migrations table yet: a new database.
                sqlx::Error::Database(d) if d.code().as_deref() == Some("42P01") => Ok(None),
                _ => Err(e),
            })
            .context("reading the database's schema version")?;
    let known = latest_migration();
    if let Some(applied) = applied
        && applied > known
    {
        anyhow::bail!(
            "the database's schema is at migration {applied}, newer than this Leitstand {} \
             knows (up to {known}): it was upgraded by a newer release. Run that release \
             (or newer); nothing was changed",
            env!("CARGO_PKG_VERSION")
        );
    }
    Ok(())
}

/// The newest migration version compiled into this binary.
pub fn latest_migration() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}
