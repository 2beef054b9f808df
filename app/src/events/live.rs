//! Live events: one hub per process fans committed events out to every
//! open stream.
//!
//! Every ingest transaction ends with `NOTIFY leitstand_events, '<max seq>'`.
//! The hub LISTENs on its own connection and, on each notification, reads
//! the events after the last cursor it has seen, in cursor order, and
//! broadcasts them (or, with no stream open, just moves its cursor on).
//! Cursors are assigned in commit order (see `store::write_batch`), so
//! "everything after N" never skips an event that commits later. When the listening connection drops (database restart),
//! the hub reconnects with back-off and catches up from its last cursor, so
//! nothing is lost. (The listener future is only ever cancelled at shutdown:
//! a half-read notification is never dropped by a racing timer.)
//!
//! Streams subscribe to a bounded broadcast channel: a client that falls
//! more than `BUFFER` events behind is disconnected (it reconnects with
//! `Last-Event-ID` and catches up from the database), so a stuck client can
//! never slow ingest or other clients.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::store::{self, EVENTS_CHANNEL};
use super::types::{EventView, Level, StreamFilter};
use crate::error::AppResult;

/// Events a subscriber may fall behind before it is disconnected.
pub const BUFFER: usize = 4096;
/// Most events read per catch-up query.
const PAGE: i64 = 1000;

/// An event ready to send: the fields filters need, and its JSON once.
#[derive(Debug)]
pub struct LiveEvent {
    pub seq: i64,
    pub service: String,
    pub feature: String,
    pub kind: String,
    pub level: Level,
    pub json: String,
}

impl LiveEvent {
    pub fn from_view(view: &EventView) -> Self {
        Self {
            seq: view.seq,
            service: view.service.clone(),
            feature: view.feature.clone(),
            kind: view.kind.clone(),
            level: view.level,
            json: serde_json::to_string(view).unwrap_or_else(|_| "{}".into()),
        }
    }
}

impl LiveEvent {
    /// Whether `filter` lets this event through.
    pub fn passes(&self, filter: &StreamFilter) -> bool {
        filter.admits(&self.service, &self.kind, self.level)
    }
}

/// Counters of the live stream, read by tests and benchmarks.
#[derive(Debug, Default)]
pub struct LiveStats {
    pub active_streams: AtomicU64,
    pub events_sent: AtomicU64,
    pub clients_dropped: AtomicU64,
    pub listener_reconnects: AtomicU64,
}

/// The per-process hub; cheap to clone.
#[derive(Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    pub stats: Arc<LiveStats>,
}

impl LiveHub {
    /// Starts listening, then hands the listener to a task on `tracker`
    /// that stops when `shutdown` fires. Returns once the hub listens and
    /// knows its starting cursor, so a stream opened as soon as the server
    /// serves misses nothing.
    pub async fn start(
        pool: PgPool,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> AppResult<Self> {
        let (tx, _) = broadcast::channel(BUFFER);
        let hub = Self {
            tx,
            stats: Arc::default(),
        };
        // Listen first, then read the cursor: whatever commits after that
        // read is announced to us.
        let listener = connect(&pool).await?;
        let last = store::max_seq(&pool).await?;
        let task = hub.clone();
        tracker.spawn(async move { task.run(pool, listener, last, shutdown).await });
        Ok(hub)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.tx.subscribe()
    }

    async fn run(
        self,
        pool: PgPool,
        listener: PgListener,
        mut last: i64,
        shutdown: CancellationToken,
    ) {
        let mut listening = Some(listener);
        let mut backoff = Duration::from_millis(250);
        loop {
            let mut listener = match listening.take() {
                Some(l) => l,
                None => match connect(&pool).await {
                    Ok(l) => {
                        backoff = Duration::from_millis(250);
                        l
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?backoff, "live stream: cannot listen");
                        tokio::select! {
                            () = tokio::time::sleep(backoff) => {}
                            () = shutdown.cancelled() => return,
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                        continue;
                    }
                },
            };
            // Whatever committed while we were not listening.
            last = self.catch_up(&pool, last).await;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    received = listener.try_recv() => match received {
                        Ok(Some(notification)) => {
                            last = match skip_to(notification.payload(), self.tx.receiver_count()) {
                                Some(seq) => last.max(seq),
                                None => self.catch_up(&pool, last).await,
                            }
                        }
                        Ok(None) | Err(_) => {
                            // Connection lost; notifications may be lost with it.
                            self.stats.listener_reconnects.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!("live stream: listening connection lost; reconnecting");
                            break;
                        }
                    },
                }
            }
        }
    }

    /// Broadcasts every committed event after `last`; returns the new cursor.
    async fn catch_up(&self, pool: &PgPool, mut last: i64) -> i64 {
        loop {
            match store::events_after(pool, last, PAGE, &StreamFilter::default(), None).await {
                Ok(events) => {
                    let n = events.len();
                    for view in events {
                        last = last.max(view.seq);
                        // No subscribers is fine: nothing to deliver.
                        let _ = self.tx.send(Arc::new(LiveEvent::from_view(&view)));
                    }
                    if (n as i64) < PAGE {
                        return last;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live stream: catch-up failed; will retry");
                    return last;
                }
            }
        }
    }
}

/// With no stream open in this process nothing needs the events of a
/// notification: the cursor can move past them unread. This is safe
/// because cursors are assigned in commit order: a stream opened later
/// wants only events that commit after it subscribed, and those carry
/// cursors above every one announced before (its own backlog, when it
/// resumes, comes from the database).
fn skip_to(payload: &str, subscribers: usize) -> Option<i64> {
    if subscribers > 0 {
        return None;
    }
    payload.parse().ok()
}

async fn connect(pool: &PgPool) -> AppResult<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(EVENTS_CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(service: &str, kind: &str, level: Level) -> LiveEvent {
        LiveEvent {
            seq: 1,
            service: service.into(),
            feature: String::new(),
            kind: kind.into(),
            level,
            json: String::new(),
        }
    }

    #[test]
    fn notifications_are_skipped_only_without_subscribers() {
        assert_eq!(skip_to("42", 0), Some(42));
        assert_eq!(skip_to("42", 1), None);
        // Not a cursor: read, to be safe.
        assert_eq!(skip_to("", 0), None);
    }

    #[test]
    fn filters_match_service_minimum_level_and_type_prefix() {
        let f = StreamFilter {
            service: Some("shop".into()),
            min_level: Some(Level::Warning),
            kind_prefix: Some("payment.".into()),
        };
        assert!(live("shop", "payment.failed", Level::Error).passes(&f));
        assert!(!live("crm", "payment.failed", Level::Error).passes(&f));
        assert!(!live("shop", "payment.failed", Level::Info).passes(&f));
        assert!(!live("shop", "order.placed", Level::Critical).passes(&f));
        assert!(live("any", "x", Level::Debug).passes(&StreamFilter::default()));
    }
}
