//! The application error: one type for store functions and server functions,
//! serialisable so the browser sees the same error the server raised.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum AppError {
    /// The request itself is malformed (not one field of it).
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many requests, retry in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal,
    /// Transport-level failure of a server function call (network, decoding).
    #[error("request failed: {0}")]
    Request(String),
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A stable machine-readable code, as used in REST error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::NotFound(_) => "not_found",
            Self::Validation { .. } => "validation",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::Conflict(_) => "conflict",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal => "internal",
            Self::Request(_) => "request_failed",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::Deserialization(m) => {
                Self::validation("request", m)
            }
            other => Self::Request(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Self::NotFound("record".into()),
            // Text PostgreSQL cannot store (NUL in text or in a JSON
            // string): the input's fault, whichever input it was.
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("22021") | Some("22P05")) =>
            {
                tracing::debug!(error = %e, "text the database cannot store");
                Self::BadRequest("text must not contain NUL characters".into())
            }
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("40P01") | Some("40001")) =>
            {
                tracing::debug!(error = %e, "transaction conflict");
                Self::Conflict("a concurrent update got in the way; retry".into())
            }
            sqlx::Error::Database(db)
                if matches!(
                    db.code().as_deref(),
                    Some("57P01") | Some("57P02") | Some("57P03") | Some("08006") | Some("08003")
                ) =>
            {
                tracing::warn!(error = %e, "database unavailable");
                Self::Unavailable("the database is not reachable".into())
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::Unavailable("the database is not reachable".into())
            }
            _ => {
                tracing::error!(error = ?e, "database error");
                Self::Internal
            }
        }
    }
}

/// Result of store and server functions.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// The HTTP status this error stands for.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::NotFound(_) => 404,
            Self::Validation { .. } => 422,
            Self::Unauthorized => 401,
            Self::Forbidden(_) => 403,
            Self::Conflict(_) => 409,
            Self::TooManyRequests { .. } => 429,
            Self::Unavailable(_) => 503,
            Self::Internal | Self::Request(_) => 500,
        }
    }
}

/// Gives a server function's error response the error's status code (the
/// default would be 500 for every error), with `Retry-After` on 429 and 503.
#[cfg(feature = "ssr")]
pub fn with_status<T>(result: AppResult<T>) -> AppResult<T> {
    if let Err(e) = &result
        && let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = axum::http::StatusCode::from_u16(e.status())
    {
        response.set_status(status);
        if let Some(seconds) = e.retry_after() {
            response.insert_header(axum::http::header::RETRY_AFTER, seconds.into());
        }
    }
    result
}

impl AppError {
    /// Seconds a client should wait before retrying, where that applies.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after } => Some(*retry_after),
            Self::Unavailable(_) => Some(5),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_survives_the_trip_to_the_browser() {
        let all = [
            AppError::BadRequest("nul".into()),
            AppError::NotFound("service `x`".into()),
            AppError::validation("level", "unknown"),
            AppError::Unauthorized,
            AppError::Forbidden("no".into()),
            AppError::Conflict("exists".into()),
            AppError::TooManyRequests { retry_after: 3 },
            AppError::Unavailable("db".into()),
            AppError::Internal,
            AppError::Request("network".into()),
        ];
        for e in all {
            let bytes = e.ser();
            assert_eq!(AppError::de(bytes), e);
        }
    }
}
