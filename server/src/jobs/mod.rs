//! Background work of a serving process.

pub mod alerts;
pub mod deliveries;
pub mod housekeeping;
pub mod lease;
pub mod probes;
pub mod recovery;
pub mod retention;
pub mod subscriptions;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Wakes `wake` on every `NOTIFY` on `channel`, reconnecting as needed.
pub async fn listen(
    pool: PgPool,
    channel: &'static str,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, channel, "listener: cannot connect");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(5)) => continue,
                    () = shutdown.cancelled() => return,
                }
            }
        };
        if let Err(e) = listener.listen(channel).await {
            tracing::warn!(error = %e, channel, "listener: LISTEN failed");
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(5)) => continue,
                () = shutdown.cancelled() => return,
            }
        }
        loop {
            tokio::select! {
                n = listener.recv() => match n {
                    Ok(_) => wake.notify_one(),
                    Err(_) => break,
                },
                () = shutdown.cancelled() => return,
            }
        }
    }
}
