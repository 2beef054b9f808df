//! SQL of users and sessions.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgExecutor};

use super::types::{CurrentUser, Role, UserInfo, check_password, normalize_email};
use crate::error::{AppError, AppResult};

/// Session lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::hours(12),
            absolute: Duration::days(7),
        }
    }
}

/// Longest password accepted at sign-in, in bytes (1024 characters of up
/// to four bytes each, as `check_password` allows).
const MAX_PASSWORD_BYTES: usize = 4 * 1024;

/// Length of a session token (alphanumeric).
const TOKEN_LEN: usize = 43;

/// Whether a cookie value could be one of our session tokens; anything
/// else is not worth a database look-up.
pub fn is_token_shaped(token: &str) -> bool {
    token.len() == TOKEN_LEN && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn parse_role(s: &str) -> Role {
    Role::parse(s).unwrap_or(Role::Viewer)
}

#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn count_users(db: impl PgExecutor<'_>) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(r#"select count(*) as "n!" from users"#)
        .fetch_one(db)
        .await?)
}

/// Creates a user; the password is hashed here.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create_user(
    db: impl PgExecutor<'_>,
    email: &str,
    name: &str,
    password: &str,
    role: Role,
) -> AppResult<UserInfo> {
    let email = normalize_email(email).map_err(|m| AppError::validation("email", m))?;
    check_password(password).map_err(|m| AppError::validation("password", m))?;
    let name = name.trim();
    if name.chars().count() > 100 {
        return Err(AppError::validation(
            "name",
            "must be at most 100 characters",
        ));
    }
    let hash = super::password::hash(password.to_owned()).await?;
    let row = sqlx::query!(
        r#"insert into users (email, name, password_hash, role) values ($1, $2, $3, $4)
           on conflict (email) do nothing
           returning id, created_at"#,
        email,
        name,
        hash,
        role.as_str()
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::Conflict(format!("a user with e-mail {email} exists already")))?;
    Ok(UserInfo {
        id: row.id,
        email,
        name: name.to_owned(),
        role,
        disabled: false,
        last_login_at: None,
        created_at: row.created_at.to_rfc3339(),
    })
}

#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_users(db: impl PgExecutor<'_>) -> AppResult<Vec<UserInfo>> {
    let rows = sqlx::query!(
        "select id, email, name, role, disabled_at, last_login_at, created_at from users order by email"
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| UserInfo {
            id: r.id,
            email: r.email,
            name: r.name,
            role: parse_role(&r.role),
            disabled: r.disabled_at.is_some(),
            last_login_at: r.last_login_at.map(|t| t.to_rfc3339()),
            created_at: r.created_at.to_rfc3339(),
        })
        .collect())
}

/// Checks e-mail and password; returns the user when both match and the
/// account is enabled. Unknown accounts cost as much time as known ones.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn verify_login(
    db: impl PgExecutor<'_>,
    email: &str,
    password: &str,
) -> AppResult<Option<CurrentUser>> {
    let email = email.trim().to_lowercase();
    let row = sqlx::query!(
        "select id, email, name, role, password_hash, disabled_at from users where email = $1",
        email
    )
    .fetch_optional(db)
    .await?;
    // Longer inputs are no password of ours (creation caps them); they
    // still cost a check, so the answer takes as long.
    let too_long = password.len() > MAX_PASSWORD_BYTES;
    let candidate = if too_long {
        String::new()
    } else {
        password.to_owned()
    };
    match row {
        Some(r) => {
            let matches = super::password::verify(candidate, r.password_hash).await?;
            Ok(
                (matches && !too_long && r.disabled_at.is_none()).then(|| CurrentUser {
                    id: r.id,
                    email: r.email,
                    name: r.name,
                    role: parse_role(&r.role),
                }),
            )
        }
        None => {
            super::password::verify(candidate, super::password::dummy_hash().await?).await?;
            Ok(None)
        }
    }
}

/// Starts a session; returns the token for the cookie.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create_session(
    db: &mut PgConnection,
    user_id: i64,
    policy: SessionPolicy,
    ip: Option<std::net::IpAddr>,
    user_agent: Option<&str>,
) -> AppResult<String> {
    let token: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(TOKEN_LEN)
        .map(char::from)
        .collect();
    let expires = Utc::now() + policy.absolute;
    let ip = ip.map(|i| i.to_string());
    let agent = user_agent.map(|a| a.chars().take(300).collect::<String>());
    sqlx::query!(
        "insert into sessions (token_sha256, user_id, expires_at, ip, user_agent) values ($1, $2, $3, $4::text::inet, $5)",
        token_hash(&token),
        user_id,
        expires,
        ip,
        agent
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        "update users set last_login_at = now() where id = $1",
        user_id
    )
    .execute(&mut *db)
    .await?;
    Ok(token)
}

/// The user of a valid session, refreshing its last use (at most once a
/// minute). One statement; ended sessions are left to
/// [`purge_expired_sessions`].
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn session_user(
    db: impl PgExecutor<'_>,
    token: &str,
    policy: SessionPolicy,
) -> AppResult<Option<CurrentUser>> {
    let idle_cutoff: DateTime<Utc> = Utc::now() - policy.idle;
    let row = sqlx::query!(
        r#"update sessions s set last_seen_at = case when s.last_seen_at < now() - interval '1 minute'
                                                     then now() else s.last_seen_at end
           from users u
           where s.token_sha256 = $1 and u.id = s.user_id
             and s.expires_at > now() and s.last_seen_at > $2 and u.disabled_at is null
           returning u.id, u.email, u.name, u.role"#,
        token_hash(token),
        idle_cutoff
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| CurrentUser {
        id: r.id,
        email: r.email,
        name: r.name,
        role: parse_role(&r.role),
    }))
}

#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn delete_session(db: impl PgExecutor<'_>, token: &str) -> AppResult<()> {
    sqlx::query!(
        "delete from sessions where token_sha256 = $1",
        token_hash(token)
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Changes a user's role; refuses to remove the last enabled admin.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn set_role(db: &mut PgConnection, user_id: i64, role: Role) -> AppResult<String> {
    ensure_not_last_admin(db, user_id, role != Role::Admin).await?;
    let email = sqlx::query_scalar!(
        "update users set role = $2, updated_at = now() where id = $1 returning email",
        user_id,
        role.as_str()
    )
    .fetch_optional(&mut *db)
    .await?
    .ok_or_else(|| AppError::NotFound("user".into()))?;
    Ok(email)
}

/// Disables or enables a user; disabling ends their sessions.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn set_disabled(
    db: &mut PgConnection,
    user_id: i64,
    disabled: bool,
) -> AppResult<String> {
    ensure_not_last_admin(db, user_id, disabled).await?;
    let email = sqlx::query_scalar!(
        "update users set disabled_at = case when $2 then coalesce(disabled_at, now()) end, updated_at = now()
         where id = $1 returning email",
        user_id,
        disabled
    )
    .fetch_optional(&mut *db)
    .await?
    .ok_or_else(|| AppError::NotFound("user".into()))?;
    if disabled {
        sqlx::query!("delete from sessions where user_id = $1", user_id)
            .execute(&mut *db)
            .await?;
    }
    Ok(email)
}

/// Sets a new password and ends the user's sessions.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn set_password(
    db: &mut PgConnection,
    user_id: i64,
    password: &str,
) -> AppResult<String> {
    check_password(password).map_err(|m| AppError::validation("password", m))?;
    let hash = super::password::hash(password.to_owned()).await?;
    let email = sqlx::query_scalar!(
        "update users set password_hash = $2, updated_at = now() where id = $1 returning email",
        user_id,
        hash
    )
    .fetch_optional(&mut *db)
    .await?
    .ok_or_else(|| AppError::NotFound("user".into()))?;
    sqlx::query!("delete from sessions where user_id = $1", user_id)
        .execute(&mut *db)
        .await?;
    Ok(email)
}

async fn ensure_not_last_admin(
    db: &mut PgConnection,
    user_id: i64,
    removing: bool,
) -> AppResult<()> {
    if !removing {
        return Ok(());
    }
    // Serialise admin changes so two requests cannot remove the last two.
    sqlx::query!("select pg_advisory_xact_lock(hashtext('leitstand_admins'))")
        .fetch_one(&mut *db)
        .await?;
    let others = sqlx::query_scalar!(
        r#"select count(*) as "n!" from users where role = 'admin' and disabled_at is null and id <> $1"#,
        user_id
    )
    .fetch_one(&mut *db)
    .await?;
    let is_admin = sqlx::query_scalar!(
        r#"select exists (select 1 from users where id = $1 and role = 'admin' and disabled_at is null) as "e!""#,
        user_id
    )
    .fetch_one(&mut *db)
    .await?;
    if is_admin && others == 0 {
        return Err(AppError::Conflict(
            "the last enabled admin cannot be removed or disabled".into(),
        ));
    }
    Ok(())
}

/// Deletes sessions that have ended: past their absolute expiry or unused
/// for longer than the idle limit (housekeeping).
pub async fn purge_ended_sessions(
    db: impl PgExecutor<'_>,
    policy: SessionPolicy,
) -> AppResult<u64> {
    let idle_cutoff: DateTime<Utc> = Utc::now() - policy.idle;
    Ok(sqlx::query!(
        "delete from sessions where expires_at <= now() or last_seen_at <= $1",
        idle_cutoff
    )
    .execute(db)
    .await?
    .rows_affected())
}
