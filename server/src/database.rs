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
    /// Connects (starting the embedded cluster if needed) and migrates.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
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
        let pool = connect(&url, settings.database.db_max_connections).await?;
        MIGRATOR
            .run(&pool)
            .await
            .context("applying database migrations")?;
        Ok(Self { pool, embedded })
    }

    /// Closes the pool, then stops the embedded cluster if there is one.
    pub async fn close(self) {
        self.pool.close().await;
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
    let options: PgConnectOptions = url
        .parse()
        .with_context(|| format!("invalid DATABASE_URL {}", redact_url(url)))?;
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
        .with_context(|| format!("connecting to {}", redact_url(url)))
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

/// The newest migration version compiled into this binary.
pub fn latest_migration() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}
