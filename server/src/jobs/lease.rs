//! The lease scheduler: work that is due in the database is claimed with
//! `FOR UPDATE SKIP LOCKED` and a lease (so each item runs once however
//! many processes share the database, and a dead process's items are
//! taken over when their lease runs out), run with a bound on how much runs
//! at once, and the loop sleeps until the next item is due or it is woken.
//! Probes and deliveries use it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Work kept in the database and run by whichever process claims it.
pub trait LeasedWork: Send + Sync + 'static {
    type Item: Send + 'static;

    /// What this work is called in logs.
    fn name(&self) -> &'static str;

    /// Claims up to `limit` due items, leased to this process.
    fn claim(&self, limit: usize) -> impl Future<Output = anyhow::Result<Vec<Self::Item>>> + Send;

    /// When the next item is due, if any.
    fn next_due(&self) -> impl Future<Output = anyhow::Result<Option<DateTime<Utc>>>> + Send;

    /// Runs one claimed item (and records its outcome, ending its lease).
    fn run(self: Arc<Self>, item: Self::Item) -> impl Future<Output = ()> + Send;
}

/// How often to look for due work at the least, and at the most.
const MIN_SLEEP: Duration = Duration::from_millis(50);
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// Runs `work` until `shutdown`, at most `concurrency` items at once;
/// `wake` cuts a sleep short (new work announced by `NOTIFY`).
pub async fn run<W: LeasedWork>(
    work: Arc<W>,
    concurrency: usize,
    wake: Arc<Notify>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let free = slots.available_permits();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            match work.claim(free.min(200)).await {
                Ok(items) => items,
                Err(e) => {
                    tracing::warn!(work = work.name(), error = %e, "claiming due work failed");
                    Vec::new()
                }
            }
        };
        let full = claimed.len() == free && free > 0;
        for item in claimed {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let work = work.clone();
            tracker.spawn(async move {
                work.run(item).await;
                drop(slot);
            });
        }
        // More may be due already when the claim was full; else sleep
        // until the next item is due (bounded, so new items are seen).
        let sleep = if full || slots.available_permits() == 0 {
            MIN_SLEEP
        } else {
            match work.next_due().await {
                Ok(Some(at)) => (at - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .clamp(MIN_SLEEP, MAX_SLEEP),
                Ok(None) => MAX_SLEEP,
                Err(e) => {
                    tracing::warn!(work = work.name(), error = %e, "reading the next due time failed");
                    MAX_SLEEP
                }
            }
        };
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = wake.notified() => {}
            () = shutdown.cancelled() => return,
        }
    }
}
