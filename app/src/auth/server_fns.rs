//! Server functions of sign-in, setup and user management.

use leptos::prelude::*;

use super::types::{CurrentUser, Role, UserInfo};
use crate::error::AppError;

/// Who is signed in (None on the login and setup pages).
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn me() -> Result<Option<CurrentUser>, AppError> {
    crate::error::with_status(Ok(super::guard::current_user()))
}

/// Whether the installation still needs its first admin.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn needs_setup() -> Result<bool, AppError> {
    crate::error::with_status(
        async {
            let state = crate::state::AppState::from_context()?;
            Ok(super::store::count_users(&state.pool).await? == 0)
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn session_cookie(token: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        super::guard::SESSION_COOKIE,
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(feature = "ssr")]
fn set_cookie(value: String) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(&value),
    ) {
        response.append_header(axum::http::header::SET_COOKIE, value);
    }
}

/// Only a same-site path may follow sign-in (no open redirect): one `/`
/// at the start, then no `/` or `\` (which browsers read as another host),
/// and only visible ASCII without `\` after it: browsers drop whitespace and
/// control characters (turning `/\t/evil.example` into `//evil.example`),
/// and a path is percent-encoded anyway. Anything else goes to `/`.
pub fn safe_next(next: &str) -> String {
    let mut chars = next.chars();
    let ok = chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && next.chars().all(|c| c.is_ascii_graphic() && c != '\\')
        && !next.starts_with("/login")
        && !next.starts_with("/setup");
    if ok { next.to_owned() } else { "/".to_owned() }
}

#[cfg(feature = "ssr")]
async fn sign_in(state: &crate::state::AppState, user: &CurrentUser) -> Result<(), AppError> {
    let auth = super::guard::auth();
    let agent = use_context::<axum::http::request::Parts>().and_then(|p| {
        p.headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let mut conn = state.pool.acquire().await?;
    let token = super::store::create_session(
        &mut conn,
        user.id,
        state.sessions,
        auth.ip,
        agent.as_deref(),
    )
    .await?;
    set_cookie(session_cookie(
        &token,
        state.sessions.absolute.num_seconds(),
        auth.secure,
    ));
    Ok(())
}

/// Creates the first admin and signs them in. Refused once any user exists.
#[server(prefix = "/rpc")]
pub async fn setup(email: String, name: String, password: String) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let state = crate::state::AppState::from_context()?;
            let auth = super::guard::auth();
            let mut tx = state.pool.begin().await?;
            sqlx::query!("lock table users in exclusive mode")
                .execute(&mut *tx)
                .await?;
            if super::store::count_users(&mut *tx).await? > 0 {
                return Err(AppError::Conflict(
                    "Leitstand is set up already; sign in instead".into(),
                ));
            }
            let user =
                super::store::create_user(&mut *tx, &email, &name, &password, Role::Admin).await?;
            crate::audit::store::record(
                &mut *tx,
                &format!("user:{}", user.email),
                "auth.setup",
                Some(&user.email),
                auth.ip,
                serde_json::json!({}),
            )
            .await?;
            tx.commit().await?;
            let current = CurrentUser {
                id: user.id,
                email: user.email,
                name: user.name,
                role: Role::Admin,
            };
            sign_in(&state, &current).await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Signs in. Failures are limited per address and per account+address.
#[server(prefix = "/rpc")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let state = crate::state::AppState::from_context()?;
            let auth = super::guard::auth();
            let keys = super::limiter::login_keys(auth.ip, &email);
            // Counted before the password is checked, so a burst cannot
            // check more passwords than the limit.
            let reservation = match state
                .auth_failures
                .reserve(&keys, std::time::Instant::now())
            {
                Ok(r) => r,
                Err(retry_after) => return Err(AppError::TooManyRequests { retry_after }),
            };
            let verified = match super::store::verify_login(&state.pool, &email, &password).await {
                Ok(v) => v,
                Err(e) => {
                    // Not checked (e.g. every hashing turn busy): not a failure.
                    state.auth_failures.give_back(&keys, reservation, None);
                    return Err(e);
                }
            };
            match verified {
                Some(user) => {
                    state.auth_failures.give_back(
                        &keys,
                        reservation,
                        keys.get(1).map(String::as_str),
                    );
                    sign_in(&state, &user).await?;
                    crate::audit::store::record(
                        &state.pool,
                        &super::guard::actor(&user),
                        "auth.login",
                        Some(&user.email),
                        auth.ip,
                        serde_json::json!({}),
                    )
                    .await?;
                    leptos_axum::redirect(&safe_next(next.as_deref().unwrap_or("/")));
                    Ok(())
                }
                None => {
                    let target = email.trim().to_lowercase();
                    crate::audit::store::record(
                        &state.pool,
                        "anonymous",
                        "auth.login_failed",
                        Some(&target),
                        auth.ip,
                        serde_json::json!({}),
                    )
                    .await?;
                    Err(AppError::Unauthorized)
                }
            }
        }
        .await,
    )
}

/// Ends the session on the server and clears the cookie.
#[server(prefix = "/rpc")]
pub async fn logout() -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let state = crate::state::AppState::from_context()?;
            let auth = super::guard::auth();
            if let Some(token) = &auth.token {
                super::store::delete_session(&state.pool, token).await?;
            }
            if let Some(user) = &auth.user {
                crate::audit::store::record(
                    &state.pool,
                    &super::guard::actor(user),
                    "auth.logout",
                    Some(&user.email),
                    auth.ip,
                    serde_json::json!({}),
                )
                .await?;
            }
            set_cookie(session_cookie("", 0, auth.secure));
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// Every user (admin).
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn list_users() -> Result<Vec<UserInfo>, AppError> {
    crate::error::with_status(
        async {
            super::guard::require(Role::Admin)?;
            let state = crate::state::AppState::from_context()?;
            super::store::list_users(&state.pool).await
        }
        .await,
    )
}

/// Adds a user (admin).
#[server(prefix = "/rpc")]
pub async fn add_user(
    email: String,
    name: String,
    password: String,
    role: Role,
) -> Result<UserInfo, AppError> {
    crate::error::with_status(
        async {
            let admin = super::guard::require(Role::Admin)?;
            let state = crate::state::AppState::from_context()?;
            let mut tx = state.pool.begin().await?;
            let user = super::store::create_user(&mut *tx, &email, &name, &password, role).await?;
            crate::audit::store::record(
                &mut *tx,
                &super::guard::actor(&admin),
                "user.create",
                Some(&user.email),
                super::guard::auth().ip,
                serde_json::json!({ "role": role }),
            )
            .await?;
            tx.commit().await?;
            Ok(user)
        }
        .await,
    )
}

/// What an admin changes about a user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UserChange {
    Role(Role),
    Disabled(bool),
    Password(String),
}

/// Changes a user's role, enables/disables them or resets their password (admin).
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn change_user(id: i64, change: UserChange) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let admin = super::guard::require(Role::Admin)?;
            let state = crate::state::AppState::from_context()?;
            let mut tx = state.pool.begin().await?;
            let (action, email, details) = match &change {
                UserChange::Role(role) => (
                    "user.role",
                    super::store::set_role(&mut tx, id, *role).await?,
                    serde_json::json!({ "role": role }),
                ),
                UserChange::Disabled(d) => (
                    if *d { "user.disable" } else { "user.enable" },
                    super::store::set_disabled(&mut tx, id, *d).await?,
                    serde_json::json!({}),
                ),
                UserChange::Password(p) => (
                    "user.password_reset",
                    super::store::set_password(&mut tx, id, p).await?,
                    serde_json::json!({}),
                ),
            };
            crate::audit::store::record(
                &mut *tx,
                &super::guard::actor(&admin),
                action,
                Some(&email),
                super::guard::auth().ip,
                details,
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_follow_sign_in() {
        assert_eq!(safe_next("/events?level=error"), "/events?level=error");
        assert_eq!(safe_next("/"), "/");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/%09/x\u{0}",
            "/events\r\nSet-Cookie: x=1",
            "/a\\b",
            "/\u{a0}/evil.example",
            "evil.example",
            "",
            "/login",
            "/setup?x",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
