//! Who is asking: the signed-in user of the current request, for pages and
//! server functions. The server's session layer puts an [`Auth`] into every
//! request's extensions; these helpers read it from the Leptos context.

use axum::http::request::Parts;
use leptos::prelude::use_context;

use super::types::{CurrentUser, Role};
use crate::error::{AppError, AppResult};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "leitstand_session";

/// The authentication of one request, put into its extensions by the
/// server's session layer.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub user: Option<CurrentUser>,
    /// The session token (to end the session on logout).
    pub token: Option<String>,
    /// The client's address.
    pub ip: Option<std::net::IpAddr>,
    /// Whether the request arrived over HTTPS (directly or via a trusted proxy).
    pub secure: bool,
}

/// The current request's authentication (empty outside a request).
pub fn auth() -> Auth {
    use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<Auth>().cloned())
        .unwrap_or_default()
}

/// The signed-in user, if any.
pub fn current_user() -> Option<CurrentUser> {
    auth().user
}

/// The signed-in user if they have at least `role`: 401 when nobody is
/// signed in, 403 when the role is too low.
pub fn require(role: Role) -> AppResult<CurrentUser> {
    let user = current_user().ok_or(AppError::Unauthorized)?;
    if user.can(role) {
        Ok(user)
    } else {
        Err(AppError::Forbidden(format!("this needs the {role} role")))
    }
}

/// The actor name for the audit log.
pub fn actor(user: &CurrentUser) -> String {
    format!("user:{}", user.email)
}
