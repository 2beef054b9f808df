//! `GET /api/v1/stream`: Server-Sent Events of committed events.
//!
//! Each message is `id: <cursor>`, `event: event`, `data: <event JSON>`.
//! A client that reconnects with `Last-Event-ID` (or `?since=`) first gets
//! every matching event it missed, read from the database, then live ones;
//! the hub subscription is taken before that read and events are
//! de-duplicated by cursor, so there is neither a gap nor a duplicate.
//!
//! Each client has a bounded buffer; one that cannot keep up is
//! disconnected and catches up on reconnect. Keep-alive comments every
//! 15 s; streams end when the server shuts down.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use app::events::Level;
use app::events::live::{LiveEvent, LiveStats, StreamFilter};
use app::events::store;
use app::keys::Scope;
use app::state::AppState;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::Stream;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};

use super::auth::ApiKey;
use super::error::{ApiError, ApiResult};

/// Events buffered per client before it counts as too slow.
pub const CLIENT_BUFFER: usize = 512;
/// Events read per replay query.
const REPLAY_PAGE: i64 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stream", get(api_stream))
        .route("/live/stream", get(ui_stream))
}

#[derive(Debug, Default, Deserialize)]
pub struct StreamParams {
    service: Option<String>,
    /// Minimum level.
    level: Option<String>,
    /// Type prefix.
    #[serde(rename = "type")]
    kind: Option<String>,
    /// Resume after this cursor (for clients that cannot send Last-Event-ID).
    since: Option<i64>,
}

impl StreamParams {
    fn filter(&self) -> ApiResult<StreamFilter> {
        let min_level = match self.level.as_deref().filter(|l| !l.is_empty()) {
            None => None,
            Some(l) => Some(Level::parse(l).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    format!("level `{l}` is not one of debug, info, warning, error, critical"),
                )
                .with_field("level")
            })?),
        };
        Ok(StreamFilter {
            service: self.service.clone().filter(|s| !s.is_empty()),
            min_level,
            kind_prefix: self.kind.clone().filter(|s| !s.is_empty()),
        })
    }

    fn resume_from(&self, headers: &HeaderMap) -> ApiResult<Option<i64>> {
        match headers.get("last-event-id") {
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .map(Some)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "malformed",
                        "Last-Event-ID must be an event cursor (a number)",
                    )
                }),
            None => Ok(self.since),
        }
    }
}

type EventStream = std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>>;
type SseStream = Sse<axum::response::sse::KeepAliveStream<EventStream>>;

async fn api_stream(
    State(state): State<AppState>,
    key: ApiKey,
    headers: HeaderMap,
    Query(params): Query<StreamParams>,
) -> ApiResult<SseStream> {
    key.require(Scope::Read)?;
    let mut filter = params.filter()?;
    if let Some(bound) = &key.0.service {
        match &filter.service {
            Some(asked) if asked != bound => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    format!("this API key is bound to service `{bound}`"),
                ));
            }
            _ => filter.service = Some(bound.clone()),
        }
    }
    let since = params.resume_from(&headers)?;
    Ok(open(state, filter, since))
}

/// The dashboard's own stream (the browser's EventSource sends no API key).
async fn ui_stream(
    State(state): State<AppState>,
    axum::Extension(auth): axum::Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Query(params): Query<StreamParams>,
) -> ApiResult<SseStream> {
    auth.user.ok_or(app::error::AppError::Unauthorized)?;
    let filter = params.filter()?;
    let since = params.resume_from(&headers)?;
    Ok(open(state, filter, since))
}

/// Decrements the active-stream count when the client's task ends.
struct Active(Arc<LiveStats>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.active_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

fn open(state: AppState, filter: StreamFilter, since: Option<i64>) -> SseStream {
    // Subscribe before reading the backlog: nothing can slip between.
    let mut live = state.live.subscribe();
    let (tx, rx) = mpsc::channel::<Arc<LiveEvent>>(CLIENT_BUFFER);
    let stats = state.live.stats.clone();
    stats.active_streams.fetch_add(1, Ordering::Relaxed);
    let active = Active(stats.clone());
    let shutdown = state.shutdown.clone();
    let pool = state.pool.clone();

    tokio::spawn(async move {
        let _active = active;
        let mut last_sent = since.unwrap_or(0);
        if since.is_some() {
            loop {
                let page = tokio::select! {
                    page = store::events_after(&pool, last_sent, REPLAY_PAGE, &filter, None) => page,
                    () = shutdown.cancelled() => return,
                };
                let Ok(page) = page else {
                    // The client reconnects and resumes from what it got.
                    return;
                };
                let n = page.len() as i64;
                for view in page {
                    let seq = view.seq;
                    if tx
                        .send(Arc::new(LiveEvent::from_view(&view)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    stats.events_sent.fetch_add(1, Ordering::Relaxed);
                    last_sent = seq;
                }
                if n < REPLAY_PAGE {
                    break;
                }
            }
        }
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tx.closed() => return,
                received = live.recv() => match received {
                    Ok(event) => {
                        if event.seq <= last_sent || !filter.matches(&event) {
                            continue;
                        }
                        let seq = event.seq;
                        match tx.try_send(event) {
                            Ok(()) => {
                                stats.events_sent.fetch_add(1, Ordering::Relaxed);
                                last_sent = seq;
                            }
                            Err(mpsc::error::TrySendError::Full(_)) => {
                                stats.clients_dropped.fetch_add(1, Ordering::Relaxed);
                                tracing::info!("live stream client too slow; disconnected (it resumes on reconnect)");
                                return;
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => return,
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        stats.clients_dropped.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(missed, "live stream client fell behind; disconnected (it resumes on reconnect)");
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });

    let events = futures::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        let message = Event::default()
            .id(event.seq.to_string())
            .event("event")
            .data(event.json.as_str());
        Some((Ok(message), rx))
    });
    Sse::new(Box::pin(events) as EventStream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    )
}
