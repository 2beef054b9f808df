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
