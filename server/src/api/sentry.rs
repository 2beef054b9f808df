//! Sentry-SDK compatible ingest: `POST /api/{project_id}/envelope/` and the
//! legacy `POST /api/{project_id}/store/` (with or without the trailing
//! slash), plus their CORS pre-flight for browser SDKs.
//!
//! The DSN key (header, `sentry_key` query parameter or the envelope's
//! DSN) names a service; the project id must be that service's. Events
//! become Leitstand events through the same validation and writer as
//! `POST /api/v1/events`, with the scrubbed Sentry payload kept in
//! `attributes.sentry`; `check_in` items ping the service's heartbeat of
//! the same name; every other item type is accepted and skipped.
//!
//! Refusals carry the one JSON error shape plus `X-Sentry-Error` (and
//! `Retry-After` / `X-Sentry-Rate-Limits` on 429), and store nothing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use app::error::AppError;
use app::events::NewEvent;
use app::events::validate::{BodyError, parse_body};
use app::probes::Outcome;
use app::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::error::ApiError;
use crate::sentry::{auth, decode, envelope, event, grouping};

/// An envelope as sent (compressed) and once decompressed.
pub const MAX_ENVELOPE_SENT: usize = 20 * 1024 * 1024;
pub const MAX_ENVELOPE: usize = 100 * 1024 * 1024;
/// A store request as sent and once decompressed.
pub const MAX_STORE_SENT: usize = 200 * 1024;
pub const MAX_STORE: usize = 1024 * 1024;

/// zstd level of kept payloads: fast, and ~6× smaller than the JSON.
const PAYLOAD_ZSTD_LEVEL: i32 = 3;

/// Headers browser SDKs send and may read back.
const CORS_ALLOW_HEADERS: &str =
    "content-type, content-encoding, x-sentry-auth, sentry-trace, baggage, authorization";
const CORS_EXPOSE_HEADERS: &str = "x-sentry-error, x-sentry-rate-limits, retry-after";

/// The documented routes (with a trailing slash, as SDKs send them) and,
/// answering the same, their forms without it.
pub fn router() -> OpenApiRouter<AppState> {
    let envelope = || {
        routes!(envelope_handler).map(|m| {
            m.options(preflight)
                .layer(DefaultBodyLimit::max(MAX_ENVELOPE_SENT))
                .layer(axum::middleware::from_fn(|req, next| {
                    refuse_announced_too_large(req, next, MAX_ENVELOPE_SENT)
                }))
        })
    };
    let store = || {
        routes!(store_handler).map(|m| {
            m.options(preflight)
                .layer(DefaultBodyLimit::max(MAX_STORE_SENT))
                .layer(axum::middleware::from_fn(|req, next| {
                    refuse_announced_too_large(req, next, MAX_STORE_SENT)
                }))
        })
    };
    let (_, _, envelope_alias) = envelope();
    let (_, _, store_alias) = store();
    OpenApiRouter::default()
        .routes(envelope())
        .route(ENVELOPE_ALIAS, envelope_alias)
        .routes(store())
        .route(STORE_ALIAS, store_alias)
        .routes(routes!(stats))
}

/// A body announced larger than `max` is refused before it is read.
async fn refuse_announced_too_large(
    req: axum::extract::Request,
    next: axum::middleware::Next,
    max: usize,
) -> Response {
    if super::error::announced_longer_than(req.headers(), max) {
        return Refusal::from(AppError::TooLarge(format!(
            "the request body is larger than {max} bytes"
        )))
        .into_response();
    }
    next.run(req).await
}

/// The documented paths without their trailing slash (Sentry SDKs differ).
pub const ENVELOPE_ALIAS: &str = "/api/{project_id}/envelope";
pub const STORE_ALIAS: &str = "/api/{project_id}/store";

/// What Sentry SDKs sent this process.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SentryStats {
    /// When this process started (RFC 3339); the counts start there.
    pub since: String,
    /// Envelopes and store requests that stored at least one event.
    pub requests_with_events: u64,
    /// Items accepted but not stored, by item type (`transaction`, `session`, …; others as `unknown`).
    pub skipped_items: BTreeMap<String, u64>,
}

/// What this process took from Sentry SDKs since it started: requests that
/// stored events, and items accepted but skipped, by type (scope `read`).
#[utoipa::path(
    get,
    path = "/api/v1/sentry/stats",
    tag = "Sentry",
    operation_id = "sentry_stats",
    summary = "What Sentry SDKs sent this process",
    description = "Counts since this process started (each process of a scaled-out instance counts its own).",
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "The counts.", body = SentryStats, example = json!({
            "since": "2026-11-22T08:00:00+00:00", "requests_with_events": 311,
            "skipped_items": { "client_report": 12, "session": 40, "transaction": 87 }
        })),
    )
)]
async fn stats(
    State(state): State<AppState>,
    key: super::auth::ApiKey,
) -> std::result::Result<Json<SentryStats>, ApiError> {
    key.require(app::keys::Scope::Read)?;
    Ok(Json(SentryStats {
        since: state.started_at.to_rfc3339(),
        requests_with_events: EVENTS_STORED.load(Ordering::Relaxed),
        skipped_items: skipped_items(),
    }))
}

/// What an accepted envelope or store request answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SentryAccepted {
    /// The id of the first event stored (32 hex digits), or the envelope's
    /// `event_id`; absent when the envelope carried neither.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Items accepted but not stored, by type, since the process started.
pub fn skipped_items() -> BTreeMap<String, u64> {
    SKIPPED
        .lock()
        .map(|m| m.clone())
        .unwrap_or_else(|e| e.into_inner().clone())
}

static SKIPPED: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());
/// Envelopes and store requests that stored at least one event.
pub static EVENTS_STORED: AtomicU64 = AtomicU64::new(0);

fn count_skipped(kind: &str) {
    // Unknown types are counted under one name: a client cannot grow the map.
    let known = matches!(
        kind,
        "transaction"
            | "session"
            | "sessions"
            | "client_report"
            | "attachment"
            | "profile"
            | "profile_chunk"
            | "replay_event"
            | "replay_recording"
            | "replay_video"
            | "log"
            | "otel_log"
            | "span"
            | "statsd"
            | "metric_buckets"
            | "user_report"
            | "feedback"
            | "check_in"
    );
    let key = if known { kind } else { "unknown" };
    if let Ok(mut m) = SKIPPED.lock() {
        *m.entry(key.to_owned()).or_default() += 1;
    }
}

/// A refusal: the API error plus the message for `X-Sentry-Error`.
struct Refusal(ApiError);

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Self(e.into())
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let message = match &self.0.error {
            AppError::Internal { .. } => "internal error".to_owned(),
            e => e.public_message(),
        };
        let status = self.0.status();
        let mut response = self.0.into_response();
        let h = response.headers_mut();
        let one_line: String = message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .filter(|c| c.is_ascii())
            .take(500)
            .collect();
        if let Ok(v) = HeaderValue::from_str(&one_line) {
            h.insert("x-sentry-error", v);
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            let seconds = h
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(1);
            if let Ok(v) = HeaderValue::from_str(&format!("{seconds}::key")) {
                h.insert("x-sentry-rate-limits", v);
            }
        }
        response
    }
}

type Result<T> = std::result::Result<T, Refusal>;

fn bad(message: impl Into<String>) -> Refusal {
    AppError::Malformed(message.into()).into()
}

fn project_id(raw: &str) -> Result<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| bad(format!("the project id `{raw}` is not a positive number")))
}

/// What an authenticated request may send to.
struct Target {
    service_id: i64,
    slug: String,
    origins: Vec<String>,
}

async fn target(state: &AppState, key: &str, project: i64) -> Result<Target> {
    let well_formed = key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit());
    let found = if well_formed {
        app::services::store::by_dsn_key(&state.pool, &key.to_ascii_lowercase()).await?
    } else {
        None
    };
    let Some((service_id, slug, origins)) = found else {
        return Err(AppError::Unauthorized.into());
    };
    if service_id != project {
        return Err(AppError::Forbidden(format!(
            "this DSN key belongs to another project than {project}"
        ))
        .into());
    }
    Ok(Target {
        service_id,
        slug,
        origins,
    })
}

fn origin_allowed(origins: &[String], origin: &str) -> bool {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    origins.iter().any(|o| o == "*" || *o == origin)
}

/// Adds CORS headers for an allowed browser origin.
fn with_cors(mut response: Response, headers: &HeaderMap, origins: &[String]) -> Response {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && origin_allowed(origins, origin)
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(CORS_EXPOSE_HEADERS),
        );
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// The pre-flight of a browser SDK: allowed when the service lists the
/// origin.
async fn preflight(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> Response {
    let origins = match project_id(&project) {
        Ok(id) => app::services::store::allowed_origins(&state.pool, id)
            .await
            .ok()
            .flatten()
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if origin.is_empty() || !origin_allowed(&origins, origin) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"error": {"code": "forbidden",
                "message": "this origin may not send to this project; add it to the service's allowed origins"}})),
        )
            .into_response();
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(CORS_ALLOW_HEADERS),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("3600"),
    );
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

fn body_of(body: std::result::Result<Bytes, BytesRejection>, sent_limit: usize) -> Result<Bytes> {
    super::error::body_bytes(body, || {
        AppError::TooLarge(format!(
            "the request body is larger than {sent_limit} bytes"
        ))
    })
    .map_err(Refusal::from)
}

fn decoded(headers: &HeaderMap, body: &[u8], limit: usize) -> Result<Vec<u8>> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    decode::decode(encoding, body, limit).map_err(|e| match e {
        decode::DecodeError::TooLarge { .. } => AppError::TooLarge(e.to_string()).into(),
        decode::DecodeError::Unsupported(_) => AppError::UnsupportedEncoding(e.to_string()).into(),
        decode::DecodeError::Corrupt { .. } => bad(e.to_string()),
    })
}

fn header_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-sentry-auth")
        .or_else(|| headers.get(header::AUTHORIZATION))
        .and_then(|v| v.to_str().ok())
}

/// The key from the header or the query, checked before the body is
/// decompressed; the envelope's own DSN may only repeat it.
fn early_key(headers: &HeaderMap, query: Option<&str>) -> Result<Option<String>> {
    auth::presented_key(header_key(headers), query, None).map_err(bad)
}

/// The answer, with CORS headers when the service allows the origin.
fn respond(result: Result<Json<Value>>, headers: &HeaderMap, origins: &[String]) -> Response {
    let response = match result {
        Ok(ok) => ok.into_response(),
        Err(r) => r.into_response(),
    };
    with_cors(response, headers, origins)
}

/// A Sentry envelope.
#[utoipa::path(
    post,
    path = "/api/{project_id}/envelope/",
    tag = "Sentry",
    operation_id = "sentry_envelope",
    summary = "Sentry envelope ingest",
    description = "For unmodified Sentry SDKs: set the DSN `GET /api/v1/services/{slug}` shows. **No API key:** the DSN key, sent as `X-Sentry-Auth: Sentry sentry_key=…`, as the `sentry_key` query parameter or in the envelope's header, names the service; the project id must be that service's. `event` items become Leitstand events (through the same validation and writer as `POST /api/v1/events`, the scrubbed payload kept); `check_in` items ping the service's heartbeat of the same name; other items are accepted and skipped. At most 20 MiB sent, 100 MiB decompressed (gzip, deflate, br, zstd). Also answers without the trailing slash, and `OPTIONS` (CORS pre-flight) for origins the service allows. Refusals add `X-Sentry-Error`.",
    params(
        ("project_id" = i64, Path, description = "The service's project id (the DSN's last path segment)."),
        ("sentry_key" = Option<String>, Query, description = "The DSN key, when not in a header."),
    ),
    request_body(content = String, content_type = "application/x-sentry-envelope", description = "Newline-delimited: an envelope header, then item headers each followed by its payload."),
    responses(
        (status = 200, description = "Accepted.", body = SentryAccepted, example = json!({ "id": "9f2c4e1b7a0d4c5e8f6a1b2c3d4e5f60" })),
        (status = 400, description = "The envelope or an item is malformed.", body = super::openapi::ErrorBody),
        (status = 401, description = "No DSN key, or an unknown one.", body = super::openapi::ErrorBody),
        (status = 403, description = "The key belongs to another project.", body = super::openapi::ErrorBody),
        (status = 413, description = "Too large, sent or decompressed.", body = super::openapi::ErrorBody),
        (status = 415, description = "An unsupported `Content-Encoding`.", body = super::openapi::ErrorBody),
        (status = 422, description = "An event is invalid as a Leitstand event.", body = super::openapi::ErrorBody),
        (status = 429, description = "Over the service's ingest limit; see `Retry-After` and `X-Sentry-Rate-Limits`.", body = super::openapi::ErrorBody),
    )
)]
async fn envelope_handler(
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<crate::limits::Limits>>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let mut origins = Vec::new();
    let result: Result<Json<Value>> = async {
        let project = project_id(&project)?;
        let early = early_key(&headers, query.as_deref())?;
        let mut found = match &early {
            Some(k) => Some(target(&state, k, project).await?),
            None => None,
        };
        if let Some(t) = &found {
            origins = t.origins.clone();
            limits.ingest(-t.service_id)?;
        }
        let body = body_of(body, MAX_ENVELOPE_SENT)?;
        let body = decoded(&headers, &body, MAX_ENVELOPE)?;
        let env = envelope::parse(&body).map_err(|e| match e {
            envelope::EnvelopeError::TooLarge { .. } => AppError::TooLarge(e.to_string()).into(),
            _ => bad(e.to_string()),
        })?;
        let key = auth::presented_key(header_key(&headers), query.as_deref(), env.dsn())
            .map_err(bad)?
            .ok_or_else(|| {
                Refusal::from(ApiError::from(AppError::Unauthorized).with_message(
                    "no DSN key: send X-Sentry-Auth, the sentry_key query parameter or a DSN in the envelope header",
                ))
            })?;
        if found.is_none() {
            let t = target(&state, &key, project).await?;
            origins = t.origins.clone();
            limits.ingest(-t.service_id)?;
            found = Some(t);
        }
        let Some(t) = found else {
            return Err(AppError::Unauthorized.into());
        };
        let mut events = Vec::new();
        let mut first_id = None;
        for (index, item) in env.items.iter().enumerate() {
            match item.kind.as_str() {
                "event" => {
                    let e = sentry_event(&t.slug, item.payload, index)?;
                    first_id.get_or_insert(e.id);
                    events.push(e);
                }
                "check_in" => check_in(&state, t.service_id, item.payload, index).await?,
                other => count_skipped(other),
            }
        }
        if !events.is_empty() {
            state.ingest.submit(events).await?;
            EVENTS_STORED.fetch_add(1, Ordering::Relaxed);
        }
        let id = first_id
            .map(|u| u.simple().to_string())
            .or_else(|| env.event_id().map(str::to_owned));
        Ok(Json(json!(SentryAccepted { id })))
    }
    .await;
    respond(result, &headers, &origins)
}

/// A Sentry event (the legacy store endpoint).
#[utoipa::path(
    post,
    path = "/api/{project_id}/store/",
    tag = "Sentry",
    operation_id = "sentry_store",
    summary = "Sentry store ingest (legacy)",
    description = "One Sentry event as JSON, for older SDKs. **No API key:** the DSN key in `X-Sentry-Auth` or the `sentry_key` query parameter. At most 200 KiB sent, 1 MiB decompressed. Also answers without the trailing slash, and `OPTIONS` (CORS pre-flight). Refusals add `X-Sentry-Error`.",
    params(
        ("project_id" = i64, Path, description = "The service's project id (the DSN's last path segment)."),
        ("sentry_key" = Option<String>, Query, description = "The DSN key, when not in a header."),
    ),
    request_body(content = serde_json::Value, content_type = "application/json", description = "A Sentry event payload."),
    responses(
        (status = 200, description = "Accepted.", body = SentryAccepted, example = json!({ "id": "9f2c4e1b7a0d4c5e8f6a1b2c3d4e5f60" })),
        (status = 400, description = "The event is not JSON or not an object.", body = super::openapi::ErrorBody),
        (status = 401, description = "No DSN key, or an unknown one.", body = super::openapi::ErrorBody),
        (status = 403, description = "The key belongs to another project.", body = super::openapi::ErrorBody),
        (status = 413, description = "Too large, sent or decompressed.", body = super::openapi::ErrorBody),
        (status = 415, description = "An unsupported `Content-Encoding`.", body = super::openapi::ErrorBody),
        (status = 422, description = "The event is invalid as a Leitstand event.", body = super::openapi::ErrorBody),
        (status = 429, description = "Over the service's ingest limit; see `Retry-After` and `X-Sentry-Rate-Limits`.", body = super::openapi::ErrorBody),
    )
)]
async fn store_handler(
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<crate::limits::Limits>>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let mut origins = Vec::new();
    let result: Result<Json<Value>> = async {
        let project = project_id(&project)?;
        let key =
            early_key(&headers, query.as_deref())?.ok_or_else(|| {
                Refusal::from(ApiError::from(AppError::Unauthorized).with_message(
                    "no DSN key: send X-Sentry-Auth or the sentry_key query parameter",
                ))
            })?;
        let t = target(&state, &key, project).await?;
        origins = t.origins.clone();
        limits.ingest(-t.service_id)?;
        let body = body_of(body, MAX_STORE_SENT)?;
        let body = decoded(&headers, &body, MAX_STORE)?;
        let e = sentry_event(&t.slug, &body, 0)?;
        let id = e.id.simple().to_string();
        state.ingest.submit(vec![e]).await?;
        EVENTS_STORED.fetch_add(1, Ordering::Relaxed);
        Ok(Json(json!(SentryAccepted { id: Some(id) })))
    }
    .await;
    respond(result, &headers, &origins)
}

/// A Sentry event payload as a validated Leitstand event of `service`.
fn sentry_event(service: &str, payload: &[u8], index: usize) -> Result<NewEvent> {
    let mut sentry: Value = serde_json::from_slice(payload)
        .map_err(|e| bad(format!("item {index} (event) is not JSON: {e}")))?;
    if !sentry.is_object() {
        return Err(bad(format!("item {index} (event) is not a JSON object")));
    }
    let id = event::event_id(&sentry).unwrap_or_else(uuid::Uuid::new_v4);
    sentry["event_id"] = json!(id.simple().to_string());
    let g = grouping::group(&sentry);
    let mut leitstand = event::to_leitstand(service, &sentry, &g);
    leitstand["id"] = json!(id.to_string());
    let now = chrono::Utc::now();
    let parsed = match parse_body(leitstand.to_string().as_bytes(), now) {
        // An event from a wrong clock is stored at its arrival time.
        Err(BodyError::Invalid { field, .. }) if field == "timestamp" => {
            if let Some(o) = leitstand.as_object_mut() {
                o.remove("timestamp");
            }
            parse_body(leitstand.to_string().as_bytes(), now)
        }
        other => other,
    };
    let mut e = parsed
        .map_err(|e| bad(format!("item {index} (event): {e}")))?
        .pop()
        .ok_or_else(|| bad(format!("item {index} (event) is empty")))?;
    event::scrub_payload(&mut sentry);
    let json = serde_json::to_vec(&sentry).map_err(|e| AppError::internal(e.to_string()))?;
    e.payload = Some(compress(&json).map_err(|e| AppError::internal(e.to_string()))?);
    Ok(e)
}

thread_local! {
    /// One zstd context per thread: making one per event costs more than
    /// compressing the event.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

fn compress(data: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(c) => c,
            None => slot.insert(zstd::bulk::Compressor::new(PAYLOAD_ZSTD_LEVEL)?),
        };
        compressor.compress(data)
    })
}

/// A cron check-in: `ok` is a ping of the heartbeat named like the
/// monitor, `error`/`timeout` a failed ping; `in_progress` only starts.
async fn check_in(state: &AppState, service_id: i64, payload: &[u8], index: usize) -> Result<()> {
    let c: Value = serde_json::from_slice(payload)
        .map_err(|e| bad(format!("item {index} (check_in) is not JSON: {e}")))?;
    let slug = c["monitor_slug"].as_str().unwrap_or("").trim();
    let outcome = match c["status"].as_str().unwrap_or("") {
        "ok" => Outcome::Up,
        "error" | "timeout" => Outcome::Down,
        _ => {
            count_skipped("check_in");
            return Ok(());
        }
    };
    if slug.is_empty() {
        return Err(bad(format!("item {index} (check_in) has no monitor_slug")));
    }
    let Some((probe, period, grace)) =
        app::probes::store::heartbeat_by_slug(&state.pool, service_id, slug).await?
    else {
        tracing::debug!(monitor = slug, "check-in for a monitor without a heartbeat");
        count_skipped("check_in");
        return Ok(());
    };
    let text = match outcome {
        Outcome::Down => Some(format!(
            "Sentry check-in: {}",
            c["status"].as_str().unwrap_or("error")
        )),
        _ => c["duration"]
            .as_f64()
            .map(|d| format!("Sentry check-in ok, ran {d:.1} s")),
    };
    super::probes::record_ping(state, probe, period, grace, outcome, text)
        .await
        .map_err(Refusal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly_or_by_wildcard() {
        let list = vec!["https://shop.example".to_string()];
        assert!(origin_allowed(&list, "https://shop.example"));
        assert!(origin_allowed(&list, "https://SHOP.example/"));
        assert!(!origin_allowed(&list, "https://shop.example.evil"));
        assert!(!origin_allowed(&[], "https://shop.example"));
        assert!(origin_allowed(&["*".into()], "https://any.example"));
    }

    #[test]
    fn project_ids_are_positive_numbers() {
        assert_eq!(project_id("42").ok().map(|_| ()), Some(()));
        assert!(project_id("0").is_err());
        assert!(project_id("shop").is_err());
    }

    #[test]
    fn a_sentry_event_becomes_a_scrubbed_leitstand_event() {
        let payload = json!({
            "event_id": "9ec79c33ec9942ab8353589fcb2e04dc",
            "level": "fatal",
            "exception": {"values": [{"type": "ValueError", "value": "bad card 4111 1111 1111 1111",
                "stacktrace": {"frames": [{"function": "pay", "module": "shop.pay", "in_app": true}]}}]},
            "request": {"headers": [["Authorization", "Bearer abc"], ["Accept", "*/*"]],
                        "cookies": "session=xyz"},
            "extra": {"password": "hunter2"},
            "timestamp": 1.0
        });
        let e = sentry_event("shop", payload.to_string().as_bytes(), 0)
            .ok()
            .expect("event");
        assert_eq!(e.kind, "ValueError");
        assert_eq!(e.level, app::events::Level::Critical);
        assert_eq!(
            e.id.simple().to_string(),
            "9ec79c33ec9942ab8353589fcb2e04dc"
        );
        // A 1970 timestamp is stored at arrival time.
        assert!(e.occurred_at > chrono::Utc::now() - chrono::Duration::minutes(1));
        assert!(!e.message.contains("4111"), "{}", e.message);
        let s = String::from_utf8(
            zstd::decode_all(e.payload.as_deref().expect("payload")).expect("zstd"),
        )
        .expect("utf-8");
        for secret in ["Bearer abc", "session=xyz", "hunter2", "4111 1111"] {
            assert!(!s.contains(secret), "{secret} in {s}");
        }
        assert!(s.contains("*/*"));
        assert_eq!(e.attributes["culprit"], "shop.pay in pay");
        let kept = zstd::decode_all(e.payload.as_deref().expect("payload")).expect("zstd");
        let kept: Value = serde_json::from_slice(&kept).expect("json");
        assert_eq!(kept["exception"]["values"][0]["type"], "ValueError");
    }

    #[test]
    fn an_event_that_is_not_json_is_refused() {
        assert!(sentry_event("shop", b"{nope", 0).is_err());
        assert!(sentry_event("shop", b"[1]", 0).is_err());
    }
}
