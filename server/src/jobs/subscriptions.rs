//! Event subscriptions: every process passes over the enabled
//! subscriptions a few times a second; each pass takes a subscription's
//! row lock (skipping it if another process holds it), queues the next
//! batch (100 events, or fewer once the oldest waited 1 s) and advances
//! its cursor in one transaction.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Time between passes when nothing was full.
const PASS: StdDuration = StdDuration::from_millis(200);

pub async fn run(pool: PgPool, first_delay: Duration, shutdown: CancellationToken) {
    loop {
        let mut busy = false;
        match app::alerts::store::active_subscriptions(&pool).await {
            Ok(ids) => {
                for id in ids {
                    match app::alerts::store::forward_batch(&pool, id, Utc::now(), first_delay)
                        .await
                    {
                        Ok(step) => {
                            busy |= step.queued as i64 == app::alerts::store::BATCH_MAX;
                        }
                        Err(e) => {
                            tracing::warn!(subscription = id, error = ?e, "forwarding events failed");
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = ?e, "reading event subscriptions failed"),
        }
        if busy {
            // A full batch went: more may be waiting.
            tokio::task::yield_now().await;
            if shutdown.is_cancelled() {
                return;
            }
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(PASS) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
