//! Maintenance windows: stored, listed, and asked whether one covers a
//! service now.

use chrono::{DateTime, NaiveTime, Utc};
use sqlx::PgExecutor;

use crate::error::{AppError, AppResult};
use crate::probes::maintenance::Window;
use crate::probes::types::MaintenanceWindow;

/// A stored window: the shown form, the service it covers (None: all)
/// and the rule.
#[derive(Debug, Clone)]
pub struct StoredWindow {
    pub shown: MaintenanceWindow,
    pub service_id: Option<i64>,
    pub window: Window,
}

impl StoredWindow {
    /// Whether it covers `service_id` at `at`.
    pub fn covers(&self, service_id: i64, at: DateTime<Utc>) -> bool {
        self.service_id.is_none_or(|s| s == service_id) && self.window.covers(at)
    }
}

/// Whether any window covers `service_id` at `at`.
pub fn in_maintenance(windows: &[StoredWindow], service_id: i64, at: DateTime<Utc>) -> bool {
    windows.iter().any(|w| w.covers(service_id, at))
}

/// Checks a window as sent: one-off (start before end) or weekly (day,
/// `HH:MM`, minutes, a known time zone).
pub fn rule_of(w: &MaintenanceWindow) -> AppResult<Window> {
    let title = w.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::validation("title", "must be 1 to 200 characters"));
    }
    let time = |field: &str, v: &str| {
        DateTime::parse_from_rfc3339(v)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                AppError::validation(field, "must be an RFC 3339 time, e.g. 2026-12-24T18:00:00Z")
            })
    };
    match (&w.starts_at, &w.ends_at, w.weekday) {
        (Some(s), Some(e), None) => {
            let (starts_at, ends_at) = (time("starts_at", s)?, time("ends_at", e)?);
            if ends_at <= starts_at {
                return Err(AppError::validation("ends_at", "must be after starts_at"));
            }
            Ok(Window::Once { starts_at, ends_at })
        }
        (None, None, Some(day)) => {
            if !(0..=6).contains(&day) {
                return Err(AppError::validation(
                    "weekday",
                    "must be 0 (Monday) to 6 (Sunday)",
                ));
            }
            let start = w
                .start_time
                .as_deref()
                .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
                .ok_or_else(|| AppError::validation("start_time", "must be HH:MM"))?;
            let minutes = w
                .duration_minutes
                .filter(|m| (1..=10_080).contains(m))
                .ok_or_else(|| {
                    AppError::validation("duration_minutes", "must be 1 to 10080 (a week)")
                })?;
            let time_zone = w.time_zone.parse::<chrono_tz::Tz>().map_err(|_| {
                AppError::validation("time_zone", "must be an IANA time zone, e.g. Europe/Berlin")
            })?;
            Ok(Window::Weekly {
                weekday: day as u32,
                start,
                minutes: i64::from(minutes),
                time_zone,
            })
        }
        _ => Err(AppError::validation(
            "starts_at",
            "give either starts_at and ends_at (one-off) or weekday, start_time and duration_minutes (weekly)",
        )),
    }
}

/// Every window, with whether it is on now.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn windows(db: impl PgExecutor<'_>) -> AppResult<Vec<StoredWindow>> {
    let rows = sqlx::query!(
        r#"select m.id, m.service_id, s.slug as "service?", m.title, m.starts_at, m.ends_at, m.weekday,
                  m.start_time, m.duration_minutes, m.time_zone
           from maintenance_windows m left join services s on s.id = m.service_id
           order by m.id"#
    )
    .fetch_all(db)
    .await?;
    let now = Utc::now();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let shown = MaintenanceWindow {
            id: r.id,
            service: r.service,
            title: r.title,
            starts_at: r.starts_at.map(|t| t.to_rfc3339()),
            ends_at: r.ends_at.map(|t| t.to_rfc3339()),
            weekday: r.weekday,
            start_time: r.start_time.map(|t| t.format("%H:%M").to_string()),
            duration_minutes: r.duration_minutes,
            time_zone: r.time_zone,
            active: false,
        };
        let window = rule_of(&shown)?;
        let mut shown = shown;
        shown.active = window.covers(now);
        out.push(StoredWindow {
            shown,
            service_id: r.service_id,
            window,
        });
    }
    Ok(out)
}

/// Stores a window (already checked with [`rule_of`]).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create_window(
    db: impl PgExecutor<'_>,
    service_id: Option<i64>,
    w: &MaintenanceWindow,
    rule: &Window,
    actor: &str,
) -> AppResult<i64> {
    let (starts_at, ends_at, weekday, start_time, minutes) = match rule {
        Window::Once { starts_at, ends_at } => (Some(*starts_at), Some(*ends_at), None, None, None),
        Window::Weekly {
            weekday,
            start,
            minutes,
            ..
        } => (
            None,
            None,
            Some(*weekday as i32),
            Some(*start),
            Some(*minutes as i32),
        ),
    };
    Ok(sqlx::query_scalar!(
        r#"insert into maintenance_windows
               (service_id, title, starts_at, ends_at, weekday, start_time, duration_minutes, time_zone, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id"#,
        service_id,
        w.title.trim(),
        starts_at,
        ends_at,
        weekday,
        start_time,
        minutes,
        w.time_zone,
        actor
    )
    .fetch_one(db)
    .await?)
}

#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn delete_window(db: impl PgExecutor<'_>, id: i64) -> AppResult<()> {
    let n = sqlx::query!("delete from maintenance_windows where id = $1", id)
        .execute(db)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound(format!("maintenance window {id}")));
    }
    Ok(())
}
