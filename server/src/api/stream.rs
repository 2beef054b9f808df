//! `GET /api/v1/stream`: Server-Sent Events of committed events.
//!
//! Each message is `id: <cursor>`, `event: event`, `data: <event JSON>`.
//! A client that reconnects with `Last-Event-ID` (or `?since=`) first gets
//! every matching event it missed, read from the database, then live ones;
//! the hub subscription is taken before that read and events are
//! de-duplicated by cursor, so there is neither a gap nor a duplicate.
//!
//! A client's backlog is bounded by the hub's ring of `live::BUFFER`
//! events: one whose socket cannot keep up falls out of the ring, is
//! disconnected and catches up on reconnect. Keep-alive comments every
//! 15 s; streams end when the server shuts down.

use app::error::AppError;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use app::events::Level;
use app::events::StreamFilter;
use app::events::live::{LiveEvent, LiveStats};
use app::events::store;
use app::keys::Scope;
use app::state::AppState;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::{Stream, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiKey;
use super::error::{ApiError, ApiResult};

/// Events read per replay query.
const REPLAY_PAGE: i64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(api_stream))
        .route("/live/stream", get(ui_stream))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// Only this service (a slug). A key bound to a service gets its own.
    service: Option<String>,
    /// Minimum level: `debug`, `info`, `warning`, `error` or `critical`.
    level: Option<String>,
    /// Type prefix, e.g. `voucher.`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Resume after this cursor (for clients that cannot send Last-Event-ID).
    since: Option<i64>,
}

impl StreamParams {
    fn filter(&self) -> ApiResult<StreamFilter> {
        let min_level = match self.level.as_deref().filter(|l| !l.is_empty()) {
            None => None,
            Some(l) => Some(Level::parse(l).ok_or_else(|| {
                ApiError::from(AppError::validation(
                    "level",
                    format!("level `{l}` is not one of debug, info, warning, error, critical"),
                ))
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
                    ApiError::from(AppError::Malformed(
                        "Last-Event-ID must be an event cursor (a number)".to_owned(),
                    ))
                }),
            None => Ok(self.since),
        }
    }
}

type EventStream = std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>>;
type SseStream = Sse<axum::response::sse::KeepAliveStream<EventStream>>;

/// Server-Sent Events of committed events.
#[utoipa::path(
    get,
    path = "/api/v1/stream",
    tag = "Events",
    operation_id = "stream_events",
    summary = "Follow events live (Server-Sent Events)",
    description = "Each message is `id: <cursor>`, `event: event`, `data: <one event as JSON>` (the shape of `EventView`); a comment `: keep-alive` every 15 s. Reconnect with `Last-Event-ID` (or `?since=`) to get every matching event missed first. A client that cannot keep up is disconnected and catches up on reconnect. No request timeout; the stream ends when the server shuts down.",
    params(
        StreamParams,
        ("Last-Event-ID" = Option<i64>, Header, description = "The cursor of the last event received; the stream resumes after it."),
    ),
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "The stream.", content_type = "text/event-stream", body = String,
            example = "id: 1042\nevent: event\ndata: {\"id\":\"0193a5f0-7c1e-7d2a-9b1e-3f4a5b6c7d8e\",\"seq\":1042,\"service\":\"shop\",\"type\":\"voucher.booked\",\"level\":\"info\"}\n\n"),
        (status = 400, description = "`Last-Event-ID` is not a number.", body = super::openapi::ErrorBody),
        (status = 422, description = "`level` is not a level, or `since` not a number.", body = super::openapi::ErrorBody),
    )
)]
async fn api_stream(
    State(state): State<AppState>,
    key: ApiKey,
    headers: HeaderMap,
    params: Result<Query<StreamParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<SseStream> {
    key.require(Scope::Read)?;
    let params = super::error::query(params)?;
    let mut filter = params.filter()?;
    filter.service = key.visible_service(filter.service.take())?;
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

/// Decrements the active-stream count when the stream is dropped.
struct Active(Arc<LiveStats>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.active_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One client's stream: first the backlog from the database (when resuming),
/// then live events from the hub. It lives inside the response body, with
/// no task or queue of its own: an idle stream costs only this state.
struct Client {
    live: broadcast::Receiver<Arc<LiveEvent>>,
    filter: StreamFilter,
    pool: sqlx::PgPool,
    stats: Arc<LiveStats>,
    _active: Active,
    /// Highest cursor sent (or the resume point).
    last_sent: i64,
    /// Still reading the backlog from the database.
    replaying: bool,
    /// Backlog events read but not yet sent.
    pending: VecDeque<Arc<LiveEvent>>,
}

impl Client {
    /// The next event to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Arc<LiveEvent>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.last_sent = event.seq;
                return Some(event);
            }
            if self.replaying {
                // Boxed: the query's future is large and only needed here.
                let page = Box::pin(store::events_after(
                    &self.pool,
                    self.last_sent,
                    REPLAY_PAGE,
                    &self.filter,
                    None,
                ))
                .await
                // The client reconnects and resumes from what it got.
                .ok()?;
                self.replaying = page.len() as i64 == REPLAY_PAGE;
                self.pending
                    .extend(page.iter().map(|v| Arc::new(LiveEvent::from_view(v))));
                continue;
            }
            match self.live.recv().await {
                Ok(event) => {
                    if event.seq > self.last_sent && event.passes(&self.filter) {
                        self.last_sent = event.seq;
                        return Some(event);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // Its socket did not take the events as fast as they came.
                    self.stats.clients_dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        missed,
                        "live stream client fell behind; disconnected (it resumes on reconnect)"
                    );
                    return None;
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

fn open(state: AppState, filter: StreamFilter, since: Option<i64>) -> SseStream {
    // Subscribe before reading the backlog: nothing can slip between, and
    // events seen twice are skipped by cursor.
    let live = state.live.subscribe();
    let stats = state.live.stats.clone();
    stats.active_streams.fetch_add(1, Ordering::Relaxed);
    let client = Client {
        live,
        filter,
        pool: state.pool.clone(),
        stats: stats.clone(),
        _active: Active(stats),
        last_sent: since.unwrap_or(0),
        replaying: since.is_some(),
        pending: VecDeque::new(),
    };
    let events = futures::stream::unfold(client, |mut client| async move {
        let event = client.next().await?;
        client.stats.events_sent.fetch_add(1, Ordering::Relaxed);
        let message = Event::default()
            .id(event.seq.to_string())
            .event("event")
            .data(event.json.as_str());
        Some((Ok(message), client))
    })
    .take_until(state.shutdown.clone().cancelled_owned());
    Sse::new(Box::pin(events) as EventStream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    )
}
