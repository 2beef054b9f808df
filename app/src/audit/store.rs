//! SQL of the audit log.

use sqlx::PgExecutor;

use crate::error::AppResult;

/// Appends an entry. `ip` is the client address when there is one.
#[tracing::instrument(skip_all, err(level = "debug"), fields(action = %action))]
pub async fn record(
    db: impl PgExecutor<'_>,
    actor: &str,
    action: &str,
    target: Option<&str>,
    ip: Option<std::net::IpAddr>,
    details: serde_json::Value,
) -> AppResult<()> {
    let ip = ip.map(|ip| ip.to_string());
    sqlx::query!(
        "insert into audit_log (actor, action, target, ip, details) values ($1, $2, $3, $4::text::inet, $5)",
        actor,
        action,
        target,
        ip,
        details
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Entries matching `q`, newest first.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    db: impl PgExecutor<'_>,
    q: &super::types::AuditQuery,
) -> AppResult<Vec<super::types::AuditEntry>> {
    let days = match q.range.as_str() {
        "24h" => 1,
        "7d" => 7,
        "365d" => 365,
        _ => 30,
    };
    let actor =
        (!q.actor.trim().is_empty()).then(|| crate::events::store::like_contains(q.actor.trim()));
    let action =
        (!q.action.trim().is_empty()).then(|| crate::events::store::like_prefix(q.action.trim()));
    let rows = sqlx::query!(
        r#"select id, at, actor, action, target, host(ip) as ip, details
           from audit_log
           where at >= now() - make_interval(days => $1)
             and ($2::text is null or actor ilike $2)
             and ($3::text is null or action like $3)
             and ($4::int8 is null or id < $4)
           order by id desc
           limit $5"#,
        days,
        actor,
        action,
        q.before,
        super::types::AUDIT_PAGE
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| super::types::AuditEntry {
            id: r.id,
            at: r.at.to_rfc3339(),
            actor: r.actor,
            action: r.action,
            target: r.target,
            ip: r.ip,
            details: r.details,
        })
        .collect())
}
