//! Housekeeping every minute: forgets rate-limit and lockout state that no
//! longer counts (so per-address state stays bounded by one minute's
//! worth of clients) and deletes ended sessions. Every process does its
//! own in-memory part; the session purge is idempotent, so it needs no
//! coordination between processes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::auth::limiter::FailureLimiter;
use app::auth::store::{SessionPolicy, purge_ended_sessions};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::limits::{Limits, PerIpLimiter};

const EVERY: Duration = Duration::from_secs(60);

/// What housekeeping tidies.
pub struct Housekeeping {
    pub pool: PgPool,
    pub sessions: SessionPolicy,
    pub auth_failures: Arc<FailureLimiter>,
    pub limits: Arc<Limits>,
    pub per_ip: Option<PerIpLimiter>,
}

impl Housekeeping {
    /// One round.
    pub async fn run_once(&self) {
        let kept = self.auth_failures.prune(Instant::now());
        self.limits.prune();
        if let Some(per_ip) = &self.per_ip {
            per_ip.retain_recent();
        }
        // Probe results are stored by month: keep the next months ready.
        if let Err(e) = app::probes::store::ensure_partitions(&self.pool, chrono::Utc::now()).await
        {
            tracing::warn!(error = ?e, "creating probe result partitions failed");
        }
        match purge_ended_sessions(&self.pool, self.sessions).await {
            Ok(n) if n > 0 => tracing::debug!(sessions = n, "ended sessions deleted"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deleting ended sessions failed"),
        }
        tracing::trace!(lockout_entries = kept, "housekeeping done");
    }

    /// Runs every minute until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => self.run_once().await,
                () = shutdown.cancelled() => return,
            }
        }
    }
}
