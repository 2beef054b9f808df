//! `POST /api/v1/events`: one event or an array of up to 1000.

use app::error::AppError;
use app::events::IngestOutcome;
use app::events::validate::{BodyError, MAX_BODY_BYTES, parse_body};
use app::keys::Scope;
use app::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use axum::{Json, Router};

use super::auth::ApiKey;
use super::error::{ApiError, ApiResult};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/events",
        post(ingest).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
    )
}

/// Stores the events; answers 202 only once they are committed.
async fn ingest(
    State(state): State<AppState>,
    axum::Extension(limits): axum::Extension<std::sync::Arc<crate::limits::Limits>>,
    key: ApiKey,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<IngestOutcome>)> {
    key.require(Scope::Ingest)?;
    limits.ingest(key.0.id)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::from(AppError::Malformed(format!(
                "could not read the request body: {}",
                rejection.body_text()
            )))
        }
    })?;
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

fn too_large() -> ApiError {
    ApiError::from(AppError::TooLarge(format!(
        "the request body exceeds {MAX_BODY_BYTES} bytes (1 MiB)"
    )))
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
                return Err(too_large());
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
