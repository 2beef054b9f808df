//! The error response of everything that is not a page: REST handlers,
//! the security layer, rate limits and unknown API routes.
//!
//! `{ "error": { "code", "message", "field"?, "index"? } }` with the
//! status and code [`AppError`] assigns (the one mapping), `Retry-After`
//! where it applies. An internal error logs its cause here, once, inside
//! the request's span (so with its request id), and the client is told
//! only that the log has the details.

use app::error::AppError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered as JSON.
#[derive(Debug)]
pub struct ApiError {
    pub error: AppError,
    /// What a few responses add (boxed: most errors carry none of it, and
    /// every `Result` with this error pays for its size).
    extra: Option<Box<Extra>>,
}

#[derive(Debug, Default)]
struct Extra {
    /// Replaces the error's own public message.
    message: Option<String>,
    /// The offending field, besides the one a validation error names.
    field: Option<String>,
    /// Position of the offending event in a batch.
    index: Option<usize>,
    /// Overrides the error's own `Retry-After`.
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn code(&self) -> &'static str {
        self.error.code()
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.extra().message = Some(message.into());
        self
    }

    pub fn with_index(mut self, index: usize) -> Self {
        self.extra().index = Some(index);
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.extra().field = Some(field.into());
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.extra().retry_after = Some(seconds);
        self
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self { error, extra: None }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        AppError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.error.log_if_internal();
        let status = self.status();
        let extra = self.extra.map(|b| *b).unwrap_or_default();
        let message = extra.message.unwrap_or_else(|| self.error.public_message());
        let field = extra.field.or(match &self.error {
            AppError::Validation { field, .. } => Some(field.clone()),
            _ => None,
        });
        let mut body = json!({ "code": self.error.code(), "message": message });
        if let Some(field) = field {
            body["field"] = json!(field);
        }
        if let Some(index) = extra.index {
            body["index"] = json!(index);
        }
        let mut response = (status, Json(json!({ "error": body }))).into_response();
        if let Some(seconds) = extra.retry_after.or(self.error.retry_after())
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Parses a JSON body read with [`read_limited`]: text that is not JSON is
/// `malformed` (400); JSON of the wrong shape is a `validation` error (422)
/// saying what is wrong. Handlers read and parse the body after checking
/// the key's scope, so a caller without the scope learns nothing more.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => AppError::validation("body", e.to_string()).into(),
            Category::Syntax | Category::Eof | Category::Io => {
                AppError::Malformed(format!("the body is not JSON: {e}")).into()
            }
        }
    })
}

/// A query string of the wrong shape (an unknown parameter, a word where
/// a number belongs) as a `validation` error (422) in the one shape,
/// instead of axum's plain-text 400.
pub fn query<T>(
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    query
        .map(|axum::extract::Query(q)| q)
        .map_err(|e| AppError::validation("query", e.body_text()).into())
}

/// Reads a body of at most `max` bytes; more is a 413 in the one shape.
pub async fn read_limited(
    body: axum::body::Body,
    max: usize,
) -> Result<axum::body::Bytes, ApiError> {
    match axum::body::to_bytes(body, max).await {
        Ok(bytes) => Ok(bytes),
        Err(_) => Err(AppError::TooLarge(format!("the body is larger than {max} bytes")).into()),
    }
}

/// A path parameter (`/alert-channels/{id}`) in the one error shape: a value
/// that does not parse (`/alert-channels/abc`) names no resource, so it is a
/// JSON 404 rather than axum's plain-text 400.
pub struct Path<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(AppError::NotFound(format!(
                "`{}`: {}",
                parts.uri.path(),
                rejection.body_text()
            ))
            .into()),
        }
    }
}

/// Whether a request announces (`Content-Length`) a body longer than `max`:
/// such a request is answered at once, before any of the body is read.
pub fn announced_longer_than(headers: &axum::http::HeaderMap, max: usize) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > max as u64)
}

/// The body an extractor read, or why not: too large (413, described by
/// `too_large`, since each endpoint words its own limit) or unreadable (400).
pub fn body_bytes(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    too_large: impl FnOnce() -> AppError,
) -> Result<axum::body::Bytes, AppError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            AppError::Malformed(format!(
                "could not read the request body: {}",
                rejection.body_text()
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 16)
            .await
            .expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[tokio::test]
    async fn every_error_has_the_one_json_shape_with_its_status() {
        let r = ApiError::from(AppError::validation("level", "unknown level"))
            .with_index(2)
            .into_response();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body(r).await,
            json!({ "error": { "code": "validation", "message": "unknown level", "field": "level", "index": 2 } })
        );
        let r = ApiError::from(AppError::Unavailable(
            "the database is not reachable".into(),
        ))
        .into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "5");
    }

    #[tokio::test]
    async fn an_internal_cause_is_not_sent() {
        let r = ApiError::from(AppError::internal("relation \"x\" does not exist")).into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = body(r).await.to_string();
        assert!(
            text.contains("\"internal\"") && !text.contains("relation"),
            "{text}"
        );
    }
}
