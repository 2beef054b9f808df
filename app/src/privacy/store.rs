//! SQL of user-data export and erasure.

use std::collections::{BTreeMap, HashSet};

use sqlx::{PgConnection, PgPool};

use crate::error::{AppError, AppResult};
use crate::events::store::rollups::{self, RemovedEvent};
use crate::events::types::{EventView, Level};

fn check(user_ref: &str) -> AppResult<&str> {
    let u = user_ref.trim();
    if u.is_empty() || u.chars().count() > 200 {
        return Err(AppError::validation("user", "must be 1 to 200 characters"));
    }
    if u.contains('\0') {
        return Err(AppError::BadRequest(
            "the user reference must not contain NUL".into(),
        ));
    }
    Ok(u)
}

/// Every stored event of `user_ref`, oldest first.
pub async fn export(db: &PgPool, user_ref: &str) -> AppResult<Vec<EventView>> {
    let user_ref = check(user_ref)?;
    // One snapshot for the events and their payloads.
    let mut tx = db.begin().await?;
    sqlx::query!("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let events = crate::events::store::by_user(&mut tx, user_ref).await?;
    tx.commit().await?;
    Ok(events)
}

/// Deletes every event of `user_ref` in one transaction, subtracting them
/// from the rollups and error groups, and remembers the erasure so no
/// restore brings the data back; returns how many events were erased.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn erase(db: &PgPool, user_ref: &str, actor: &str) -> AppResult<u64> {
    let user_ref = check(user_ref)?;
    let mut tx = db.begin().await?;
    let n = erase_in(&mut tx, user_ref).await?;
    sqlx::query!(
        "insert into privacy_erasures (user_ref_sha256, erased_by)
         values (sha256(convert_to($1, 'UTF8')), $2)
         on conflict (user_ref_sha256) do update set erased_at = now(), erased_by = excluded.erased_by",
        user_ref,
        actor
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Erases again, inside a restore's transaction, every user reference that
/// was erased before: the restored data may be older than the erasure.
/// Returns how many events that removed.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn reapply_erasures(tx: &mut PgConnection) -> AppResult<u64> {
    let refs = sqlx::query_scalar!(
        r#"select d.user_ref as "user_ref!"
           from (select distinct user_ref from events where user_ref is not null) d
           where sha256(convert_to(d.user_ref, 'UTF8')) in (select user_ref_sha256 from privacy_erasures)"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut n = 0;
    for user_ref in refs {
        n += erase_in(tx, &user_ref).await?;
    }
    Ok(n)
}

/// The erasure itself, in the caller's transaction.
async fn erase_in(tx: &mut PgConnection, user_ref: &str) -> AppResult<u64> {
    let gone = sqlx::query!(
        r#"delete from events where user_ref = $1
           returning id, occurred_at, service_id, feature, kind, level, fingerprint, release"#,
        user_ref
    )
    .fetch_all(&mut *tx)
    .await?;
    if gone.is_empty() {
        return Ok(0);
    }
    let ids: Vec<uuid::Uuid> = gone.iter().map(|r| r.id).collect();
    sqlx::query!("delete from event_ids where id = any($1)", &ids)
        .execute(&mut *tx)
        .await?;

    let mut removed = Vec::with_capacity(gone.len());
    let mut groups: BTreeMap<(i64, &str), i64> = BTreeMap::new();
    let mut group_hours: BTreeMap<(i64, &str, chrono::DateTime<chrono::Utc>), i64> =
        BTreeMap::new();
    // (service, release) → (events, errors)
    let mut releases: BTreeMap<(i64, &str), (i64, i64)> = BTreeMap::new();
    for r in &gone {
        let level = Level::from_i16(r.level).ok_or_else(|| {
            AppError::internal(format_args!("event {} has level {}", r.id, r.level))
        })?;
        if level.is_error()
            && let Some(fp) = r.fingerprint.as_deref()
        {
            *groups.entry((r.service_id, fp)).or_default() += 1;
            let hour =
                chrono::DurationRound::duration_trunc(r.occurred_at, chrono::TimeDelta::hours(1))
                    .unwrap_or(r.occurred_at);
            *group_hours.entry((r.service_id, fp, hour)).or_default() += 1;
        }
        if let Some(release) = r.release.as_deref() {
            let e = releases.entry((r.service_id, release)).or_default();
            e.0 += 1;
            e.1 += i64::from(level.is_error());
        }
        removed.push(RemovedEvent {
            occurred_at: r.occurred_at,
            service_id: r.service_id,
            feature: r.feature.clone(),
            kind: r.kind.clone(),
            level,
        });
    }
    rollups::subtract(tx, &removed).await?;

    // Error groups: fewer events, one user fewer, and first/last seen from
    // what remains.
    let mut touched = HashSet::new();
    for ((service_id, fp), n) in &groups {
        let id = sqlx::query_scalar!(
            "update error_groups set event_count = greatest(event_count - $3, 0)
             where service_id = $1 and fingerprint = $2 returning id",
            service_id,
            fp,
            n
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            touched.insert((id, *service_id, (*fp).to_owned()));
        }
    }
    // The per-group hours and the per-release counts lose them too.
    for ((service_id, fp, hour), n) in &group_hours {
        sqlx::query!(
            "update error_group_hourly h set events = greatest(h.events - $4, 0)
             from error_groups g
             where g.id = h.group_id and g.service_id = $1 and g.fingerprint = $2 and h.bucket = $3",
            service_id,
            fp,
            hour,
            n
        )
        .execute(&mut *tx)
        .await?;
    }
    for ((service_id, release), (events, errors)) in &releases {
        sqlx::query!(
            "update releases set events = greatest(events - $3, 0), errors = greatest(errors - $4, 0)
             where service_id = $1 and version = $2",
            service_id,
            release,
            events,
            errors
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        // users_affected follows by trigger (migration 0009).
        "delete from error_group_users where user_ref = $1",
        user_ref
    )
    .execute(&mut *tx)
    .await?;
    for (id, service_id, fp) in touched {
        sqlx::query!(
            r#"update error_groups g set first_seen = r.first, last_seen = r.last
               from (select min(occurred_at) as first, max(occurred_at) as last from events
                     where service_id = $2 and fingerprint = $3 and level >= 3) r
               where g.id = $1"#,
            id,
            service_id,
            fp
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(gone.len() as u64)
}
