//! SQL of services.

use sqlx::PgExecutor;

use super::types::{ServiceInfo, validate_slug};
use crate::error::{AppError, AppResult};

/// The id of the service with this slug, creating it on first sight.
#[tracing::instrument(skip_all, err(level = "debug"), fields(slug = %slug))]
pub async fn ensure(db: impl PgExecutor<'_>, slug: &str) -> AppResult<i64> {
    validate_slug(slug).map_err(|m| AppError::validation("service", m))?;
    // The no-op update makes `returning` yield the existing row too.
    let id = sqlx::query_scalar!(
        r#"insert into services (slug, name) values ($1, $1)
           on conflict (slug) do update set slug = excluded.slug
           returning id"#,
        slug
    )
    .fetch_one(db)
    .await?;
    Ok(id)
}

#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn find(db: impl PgExecutor<'_>, slug: &str) -> AppResult<Option<i64>> {
    Ok(
        sqlx::query_scalar!("select id from services where slug = $1", slug)
            .fetch_optional(db)
            .await?,
    )
}

#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(db: impl PgExecutor<'_>) -> AppResult<Vec<ServiceInfo>> {
    let rows = sqlx::query_as!(
        ServiceInfo,
        "select id, slug, name from services order by slug"
    )
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// A service's SLO targets.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn slo_targets(db: impl PgExecutor<'_>, id: i64) -> AppResult<crate::probes::SloTargets> {
    let r = sqlx::query!(
        "select slo_p95_ms, slo_error_rate_percent, slo_uptime_percent, slo_dead_letters from services where id = $1",
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound("service".into()))?;
    Ok(crate::probes::SloTargets {
        p95_ms: r.slo_p95_ms,
        error_rate_percent: r.slo_error_rate_percent,
        uptime_percent: r.slo_uptime_percent,
        dead_letters: r.slo_dead_letters,
    })
}

/// Changes a service's name, public-status opt-in or SLO targets (what is
/// given; the rest stays).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn change(
    db: &mut sqlx::PgConnection,
    id: i64,
    name: Option<&str>,
    public_status: Option<bool>,
    slo: Option<&crate::probes::SloTargets>,
) -> AppResult<()> {
    if let Some(n) = name {
        let n = n.trim();
        if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
            return Err(AppError::validation("name", "must be 1 to 100 characters"));
        }
    }
    if let Some(t) = slo {
        t.check()?;
    }
    let n = sqlx::query!(
        r#"update services set
               name = coalesce($2, name),
               public_status = coalesce($3, public_status),
               slo_p95_ms = coalesce($4, slo_p95_ms),
               slo_error_rate_percent = coalesce($5, slo_error_rate_percent),
               slo_uptime_percent = coalesce($6, slo_uptime_percent),
               slo_dead_letters = coalesce($7, slo_dead_letters)
           where id = $1"#,
        id,
        name.map(str::trim),
        public_status,
        slo.map(|t| t.p95_ms),
        slo.map(|t| t.error_rate_percent),
        slo.map(|t| t.uptime_percent),
        slo.map(|t| t.dead_letters)
    )
    .execute(&mut *db)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound("service".into()));
    }
    Ok(())
}

/// A fresh DSN public key: 32 lower-case hex digits.
fn new_dsn_key() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The service's DSN public key, created on first use; with `rotate`, a
/// new one (the old one stops working now).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn dsn_key(db: &mut sqlx::PgConnection, id: i64, rotate: bool) -> AppResult<String> {
    let key = sqlx::query_scalar!(
        r#"update services set sentry_key = case when $3 then $2 else coalesce(sentry_key, $2) end
           where id = $1 returning sentry_key as "key!""#,
        id,
        new_dsn_key(),
        rotate
    )
    .fetch_optional(&mut *db)
    .await?
    .ok_or_else(|| AppError::NotFound("service".into()))?;
    Ok(key)
}

/// The service a DSN key belongs to: (id, slug, allowed browser origins).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn by_dsn_key(
    db: impl PgExecutor<'_>,
    key: &str,
) -> AppResult<Option<(i64, String, Vec<String>)>> {
    Ok(sqlx::query!(
        "select id, slug, allowed_origins from services where sentry_key = $1",
        key
    )
    .fetch_optional(db)
    .await?
    .map(|r| (r.id, r.slug, r.allowed_origins)))
}

/// The browser origins whose SDKs may send to a service (by id).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn allowed_origins(db: impl PgExecutor<'_>, id: i64) -> AppResult<Option<Vec<String>>> {
    Ok(
        sqlx::query_scalar!("select allowed_origins from services where id = $1", id)
            .fetch_optional(db)
            .await?,
    )
}

/// Replaces the browser origins a service's DSN accepts.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn set_allowed_origins(
    db: impl PgExecutor<'_>,
    id: i64,
    origins: &[String],
) -> AppResult<()> {
    sqlx::query!(
        "update services set allowed_origins = $2 where id = $1",
        id,
        origins
    )
    .execute(db)
    .await?;
    Ok(())
}
