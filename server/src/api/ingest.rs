//! `POST /api/v1/events`: one event or an array of up to 1000.

use app::error::AppError;
use app::events::IngestOutcome;
use app::events::validate::{BodyError, MAX_BODY_BYTES, parse_body};
use app::keys::Scope;
use app::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit as BodyLimit;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::auth::ApiKey;
use super::error::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(
        routes!(ingest)
            .layer(BodyLimit::max(MAX_BODY_BYTES))
            .layer(axum::middleware::from_fn(refuse_announced_too_large)),
    )
}

/// One event as sent: only `service` is required; `null` is the same as absent.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "service": "shop", "feature": "checkout", "type": "voucher.booked", "level": "info",
    "message": "voucher V-1042 booked", "release": "1.4.2", "environment": "production",
    "user": "u-381", "attributes": { "amount_eur": 25 }
}))]
pub struct IngestEvent {
    /// A UUID; repeat it on a retry and the event is stored once. Default: a new one.
    pub id: Option<uuid::Uuid>,
    /// When it happened (RFC 3339), at most 365 days ago and 1 day ahead. Default: now.
    pub timestamp: Option<chrono::DateTime<chrono::Utc>>,
    /// The sending service's slug (created on first use).
    pub service: String,
    /// The feature it concerns (at most 200 characters).
    pub feature: Option<String>,
    /// A dotted type such as `voucher.booked`; `fix` resolves the error group of its fingerprint. Default `event`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Default `info`; `error` and `critical` count as errors.
    pub level: Option<app::events::Level>,
    /// At most 8192 characters; secrets in it are filtered.
    pub message: Option<String>,
    /// Groups errors; derived from service, feature, type and message when absent.
    pub fingerprint: Option<String>,
    pub release: Option<String>,
    pub environment: Option<String>,
    /// A reference to the user (not a name or address); used for privacy export and erasure.
    pub user: Option<String>,
    /// Anything else, at most 16 KiB as JSON; values under secret-looking names are filtered.
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// One event, or an array of 1 to 1000.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum IngestBody {
    One(Box<IngestEvent>),
    /// 1 to 1000 events.
    Many(Vec<IngestEvent>),
}

/// Stores the events; answers 202 only once they are committed.
#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "Events",
    operation_id = "send_events",
    summary = "Send one event or a batch",
    description = "At most 1000 events and 1 MiB per request (after `Content-Encoding: gzip`, which is accepted). One invalid event rejects the whole request, naming its `index` and `field`, and nothing is stored. The 202 means the events are committed. A key bound to a service may send that service's events only. Rate-limited per key.",
    request_body(content = IngestBody, content_type = "application/json", example = json!([
        { "service": "shop", "feature": "checkout", "type": "voucher.booked", "message": "voucher V-1042 booked", "user": "u-381" },
        { "id": "0193a5f0-7c1e-7d2a-9b1e-3f4a5b6c7d8e", "timestamp": "2026-11-22T10:15:00Z", "service": "shop",
          "feature": "checkout", "type": "payment.failed", "level": "error", "message": "card declined",
          "release": "1.4.2", "environment": "production", "attributes": { "provider": "stripe" } }
    ])),
    security(("api_key" = ["ingest"])),
    responses(
        (status = 202, description = "Stored and committed; events whose id was stored before count as duplicates.", body = IngestOutcome, example = json!({ "accepted": 2, "duplicates": 0 })),
        (status = 400, description = "The body is not JSON, not an event or array of events, or an empty array.", body = super::openapi::ErrorBody),
        (status = 413, description = "More than 1 MiB, or more than 1000 events.", body = super::openapi::ErrorBody),
        (status = 415, description = "A `Content-Encoding` other than gzip.", body = super::openapi::ErrorBody),
        (status = 422, description = "A field of an event is wrong: `field` and `index` say which.", body = super::openapi::ErrorBody,
            example = json!({ "error": { "code": "validation", "message": "event 1: `level` \"fatal\" is not a level (use debug, info, warning, error, critical)", "field": "level", "index": 1 } })),
    )
)]
async fn ingest(
    state: State<AppState>,
    limits: axum::Extension<std::sync::Arc<crate::limits::Limits>>,
    key: ApiKey,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<IngestOutcome>)> {
    let result = store(state, limits, key, headers, body).await;
    if let Err(e) = &result {
        metrics::counter!("leitstand_ingest_rejected_total", "reason" => e.code()).increment(1);
    }
    result
}

async fn store(
    State(state): State<AppState>,
    axum::Extension(limits): axum::Extension<std::sync::Arc<crate::limits::Limits>>,
    key: ApiKey,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<IngestOutcome>)> {
    key.require(Scope::Ingest)?;
    limits.ingest(key.0.id)?;
    let body = super::error::body_bytes(body, too_large)?;
    let body = decode(&headers, body)?;
    let events = parse_body(&body, chrono::Utc::now()).map_err(body_error)?;
    if let Some(bound) = &key.0.service
        && let Some((index, e)) = events.iter().enumerate().find(|(_, e)| &e.service != bound)
    {
        return Err(ApiError::from(AppError::Forbidden(format!(
            "this API key is bound to service `{bound}`, not `{}` (event {index})",
            e.service
        )))
        .with_field("service")
        .with_index(index));
    }
    let outcome = state.ingest.submit(events).await?;
    Ok((StatusCode::ACCEPTED, Json(outcome)))
}

/// A body announced larger than the limit is refused before it is read.
async fn refuse_announced_too_large(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if super::error::announced_longer_than(req.headers(), MAX_BODY_BYTES) {
        metrics::counter!("leitstand_ingest_rejected_total", "reason" => "too_large").increment(1);
        return ApiError::from(too_large()).into_response();
    }
    next.run(req).await
}

fn too_large() -> AppError {
    AppError::TooLarge(format!(
        "the request body exceeds {MAX_BODY_BYTES} bytes (1 MiB)"
    ))
}

/// Undoes `Content-Encoding: gzip`, refusing more than 1 MiB of output
/// (so a small compressed body cannot expand without bound).
fn decode(headers: &HeaderMap, body: Bytes) -> ApiResult<Bytes> {
    use std::io::Read;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => Ok(body),
        Some("gzip") | Some("x-gzip") => {
            let mut out = Vec::with_capacity(body.len() * 4);
            flate2::read::GzDecoder::new(&body[..])
                .take(MAX_BODY_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| {
                    ApiError::from(AppError::Malformed(format!("invalid gzip body: {e}")))
                })?;
            if out.len() > MAX_BODY_BYTES {
                return Err(too_large().into());
            }
            Ok(Bytes::from(out))
        }
        Some(other) => Err(ApiError::from(AppError::UnsupportedEncoding(format!(
            "Content-Encoding `{other}` is not supported (use gzip or none)"
        )))),
    }
}

fn body_error(e: BodyError) -> ApiError {
    let message = e.to_string();
    match e {
        BodyError::Malformed(_) => ApiError::from(AppError::Malformed(message)),
        BodyError::TooMany(_) => ApiError::from(AppError::TooLarge(message)),
        BodyError::Invalid { index, field, .. } => {
            let err = ApiError::from(AppError::validation(field, message));
            match index {
                Some(i) => err.with_index(i),
                None => err,
            }
        }
    }
}
