//! The application error: one type for store functions and server functions,
//! serialisable so the browser sees the same error the server raised.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// Every error a request can end in. [`AppError::status`] and
/// [`AppError::code`] are the one place that says which HTTP status and
/// which machine-readable code each one has, for REST responses, server
/// functions and the security layer alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum AppError {
    /// The request itself is malformed (not one field of it).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A body that is not the JSON it should be.
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The client took too long (to send its body, for example).
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("unsupported content encoding: {0}")]
    UnsupportedEncoding(String),
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("too many requests, retry in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    /// A fault of ours. The cause is for the server log only: it is never
    /// serialised, so it cannot reach a client.
    #[error("internal error")]
    Internal {
        #[serde(skip)]
        cause: String,
    },
    #[error("service unavailable: {0}")]
    Unavailable(String),
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

    /// An internal error with its cause (logged once where the request
    /// ends, never sent).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal {
            cause: cause.to_string(),
        }
    }

    /// The HTTP status this error stands for.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) | Self::Malformed(_) => 400,
            Self::Unauthorized => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Timeout(_) => 408,
            Self::Conflict(_) => 409,
            Self::TooLarge(_) => 413,
            Self::UnsupportedEncoding(_) => 415,
            Self::Validation { .. } => 422,
            Self::TooManyRequests { .. } => 429,
            Self::Internal { .. } | Self::Request(_) => 500,
            Self::Unavailable(_) => 503,
        }
    }

    /// The stable machine-readable code of REST error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Malformed(_) => "malformed",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Timeout(_) => "timeout",
            Self::Conflict(_) => "conflict",
            Self::TooLarge(_) => "too_large",
            Self::UnsupportedEncoding(_) => "unsupported_encoding",
            Self::Validation { .. } => "validation",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Internal { .. } => "internal",
            Self::Unavailable(_) => "unavailable",
            Self::Request(_) => "request_failed",
        }
    }

    /// What a client is told: the detail without the code's prefix, and
    /// nothing of an internal cause.
    pub fn public_message(&self) -> String {
        match self {
            Self::BadRequest(m)
            | Self::Malformed(m)
            | Self::Forbidden(m)
            | Self::Timeout(m)
            | Self::Conflict(m)
            | Self::TooLarge(m)
            | Self::UnsupportedEncoding(m)
            | Self::Unavailable(m)
            | Self::Request(m) => m.clone(),
            Self::Validation { message, .. } => message.clone(),
            Self::Unauthorized => {
                "authentication required: sign in, or send `Authorization: Bearer <key>`".into()
            }
            Self::Internal { .. } => {
                "internal error; the server log has the details under this request's id".into()
            }
            Self::NotFound(_) | Self::TooManyRequests { .. } => self.to_string(),
        }
    }

    /// Seconds a client should wait before retrying, where that applies.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after } => Some(*retry_after),
            Self::Unavailable(_) => Some(5),
            _ => None,
        }
    }

    /// Logs an internal error's cause (where a request ends, once).
    #[cfg(feature = "ssr")]
    pub fn log_if_internal(&self) {
        if let Self::Internal { cause } = self {
            tracing::error!(%cause, "internal error");
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
            _ => Self::internal(format_args!("database: {e}")),
        }
    }
}

/// What a person is told about an error, in their language. English keeps
/// the error's own text; German says the same in German, with the detail
/// translated where it is one of the known ones ([`crate::lang::messages`]).
pub fn describe(locale: crate::lang::Locale, e: &AppError) -> String {
    use crate::lang::{Locale, messages::detail, td_string, tf};
    if locale == Locale::en {
        return e.to_string();
    }
    let d = |m: &str| detail(locale, m);
    match e {
        AppError::BadRequest(m) | AppError::Malformed(m) => {
            format!("{}: {}", td_string!(locale, error.bad_request), d(m))
        }
        AppError::Unauthorized => td_string!(locale, error.unauthorized).to_owned(),
        AppError::Forbidden(_) => td_string!(locale, error.forbidden).to_owned(),
        AppError::NotFound(what) => {
            format!("{}: {}", td_string!(locale, error.not_found), d(what))
        }
        AppError::Timeout(_) => td_string!(locale, error.timeout).to_owned(),
        AppError::Conflict(m) => format!("{}: {}", td_string!(locale, error.conflict), d(m)),
        AppError::TooLarge(m) => format!("{}: {}", td_string!(locale, error.too_large), d(m)),
        AppError::UnsupportedEncoding(m) => {
            format!("{}: {m}", td_string!(locale, error.unsupported_encoding))
        }
        AppError::Validation { field, message } => format!("{}: {}", d(field), d(message)),
        AppError::TooManyRequests { retry_after } => {
            tf!(locale, error.too_many_requests, seconds = *retry_after)
        }
        AppError::Internal { .. } => td_string!(locale, error.internal).to_owned(),
        AppError::Unavailable(m) => {
            format!("{}: {}", td_string!(locale, error.unavailable), d(m))
        }
        AppError::Request(_) => td_string!(locale, error.request).to_owned(),
    }
}

/// [`describe`] for what an error boundary caught: an [`AppError`] in the
/// person's language, anything else as it reads.
pub fn describe_caught(locale: crate::lang::Locale, e: &leptos::error::Error) -> String {
    match e.downcast_ref::<AppError>() {
        Some(app) => describe(locale, app),
        None => e.to_string(),
    }
}

/// Result of store and server functions.
pub type AppResult<T> = Result<T, AppError>;

/// Ends a server function: gives its error response the error's status
/// code (the default would be 500 for every error), `Retry-After` on 429
/// and 503, and logs an internal error's cause.
#[cfg(feature = "ssr")]
pub fn with_status<T>(result: AppResult<T>) -> AppResult<T> {
    if let Err(e) = &result {
        e.log_if_internal();
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = axum::http::StatusCode::from_u16(e.status())
        {
            response.set_status(status);
            if let Some(seconds) = e.retry_after() {
                response.insert_header(axum::http::header::RETRY_AFTER, seconds.into());
            }
        }
    }
    result
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
            AppError::Malformed("json".into()),
            AppError::Timeout("slow".into()),
            AppError::TooLarge("big".into()),
            AppError::UnsupportedEncoding("lz4".into()),
            AppError::Internal {
                cause: String::new(),
            },
            AppError::Request("network".into()),
        ];
        for e in all {
            let bytes = e.ser();
            assert_eq!(AppError::de(bytes), e);
        }
    }

    #[test]
    fn an_internal_cause_never_leaves_the_server() {
        let e = AppError::internal("relation \"secret_table\" does not exist");
        let sent = e.ser();
        let text = String::from_utf8_lossy(&sent);
        assert!(!text.contains("secret_table"), "{text}");
        assert!(!e.public_message().contains("secret_table"));
        assert_eq!(AppError::de(sent).code(), "internal");
    }

    #[test]
    fn every_error_has_one_status_and_code() {
        let e = AppError::validation("level", "unknown");
        assert_eq!(
            (e.status(), e.code(), e.public_message().as_str()),
            (422, "validation", "unknown")
        );
        assert_eq!(AppError::Unavailable("db".into()).retry_after(), Some(5));
        assert_eq!(
            AppError::TooManyRequests { retry_after: 7 }.retry_after(),
            Some(7)
        );
    }
}
