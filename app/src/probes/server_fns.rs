//! Server functions of the Services pages and the public status page.
//! Viewers see services; operators manage maintenance windows; admins
//! define probes (they may reach private addresses), SLO targets and what
//! the public status page shows.

use leptos::prelude::*;

use super::types::{
    MaintenanceWindow, ProbeInfo, ProbeSpec, ServiceDetail, ServiceStatus, SloTargets,
};
use crate::error::AppError;

/// A service on the overview: its status and the last 90 days.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ServiceRow {
    pub status: ServiceStatus,
    /// Per day, oldest first: uptime % or None without checks.
    pub days: Vec<(String, Option<f64>)>,
}

/// What the public status page may show: no URLs, no error texts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PublicService {
    pub name: String,
    pub state: String,
    pub uptime_90d: Option<f64>,
    pub days: Vec<(String, Option<f64>)>,
    /// Since when it is down, if it is.
    pub down_since: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PublicStatus {
    pub status: String,
    pub generated_at: String,
    pub services: Vec<PublicService>,
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::auth::Role;
    pub use crate::auth::guard::{actor, auth, require};
    pub use crate::state::AppState;

    /// The base URL for heartbeat links, as the request came in.
    pub fn base_url(state: &AppState) -> String {
        let headers = leptos::prelude::use_context::<axum::http::request::Parts>()
            .map(|p| p.headers)
            .unwrap_or_default();
        state.base_url(&headers, auth().secure)
    }

    pub async fn service_id(state: &AppState, slug: &str) -> Result<i64, crate::error::AppError> {
        crate::services::store::find(&state.pool, slug)
            .await?
            .ok_or_else(|| crate::error::AppError::NotFound(format!("service `{slug}`")))
    }

    /// Days of the last 90 as (date, uptime %), oldest first, every day present.
    pub async fn days(
        pool: &sqlx::PgPool,
        service_id: i64,
    ) -> Result<Vec<(String, Option<f64>)>, crate::error::AppError> {
        let rows = crate::probes::store::daily_uptime(pool, service_id, 90).await?;
        let today = chrono::Utc::now().date_naive();
        Ok((0..90)
            .rev()
            .map(|back| {
                let day = today - chrono::Duration::days(back);
                let uptime = rows
                    .iter()
                    .find(|(d, _, _)| *d == day)
                    .and_then(|(_, c, f)| crate::probes::uptime_percent(*c, *f));
                (day.to_string(), uptime)
            })
            .collect())
    }
}
#[cfg(feature = "ssr")]
use ssr::*;

/// Every service with its state and 90-day bars.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn services_overview() -> Result<Vec<ServiceRow>, AppError> {
    crate::error::with_status(
        async {
            require(Role::Viewer)?;
            let state = AppState::from_context()?;
            let doc =
                super::status::current(&state.pool, &state.status_cache, state.started_at).await?;
            let mut rows = Vec::with_capacity(doc.services.len());
            for s in &doc.services {
                let id = service_id(&state, &s.slug).await?;
                rows.push(ServiceRow {
                    status: s.clone(),
                    days: days(&state.pool, id).await?,
                });
            }
            Ok(rows)
        }
        .await,
    )
}

/// One service's page. `range` is 24h, 7d or 30d for the response-time chart.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn get_service_detail(slug: String, range: String) -> Result<ServiceDetail, AppError> {
    crate::error::with_status(
        async {
            require(Role::Viewer)?;
            let state = AppState::from_context()?;
            let id = service_id(&state, &slug).await?;
            let pool = &state.pool;
            let now = chrono::Utc::now();
            let hours = match range.as_str() {
                "24h" | "" => 24,
                "7d" => 24 * 7,
                "30d" => 24 * 30,
                other => {
                    return Err(AppError::validation(
                        "range",
                        format!("`{other}` is not one of 24h, 7d, 30d"),
                    ));
                }
            };
            let windows = super::store::windows(pool).await?;
            let status = super::status::service_status(pool, id, &windows, now).await?;
            let base = base_url(&state);
            let response_times =
                super::store::hourly_latency(pool, id, now - chrono::Duration::hours(hours))
                    .await?
                    .into_iter()
                    .map(|(at, h)| {
                        (
                            at.to_rfc3339(),
                            super::histogram::quantile(&h, 0.5),
                            super::histogram::quantile(&h, 0.95),
                        )
                    })
                    .collect();
            Ok(ServiceDetail {
                status,
                probes: super::store::list(pool, Some(&slug), &base).await?,
                incidents: super::store::incidents(pool, Some(id), 20).await?,
                maintenance: windows
                    .into_iter()
                    .filter(|w| w.service_id.is_none_or(|s| s == id))
                    .map(|w| w.shown)
                    .collect(),
                recovery_runs: super::store::recovery_runs(
                    pool,
                    Some(id),
                    now - chrono::Duration::days(30),
                    20,
                )
                .await?,
                daily_uptime: days(pool, id).await?,
                response_times,
                slo_targets: crate::services::store::slo_targets(pool, id).await?,
                incidents_30d: super::store::incident_stats(
                    pool,
                    Some(id),
                    now - chrono::Duration::days(30),
                    now,
                )
                .await?,
            })
        }
        .await,
    )
}

/// Creates (`id` None) or changes a probe of a service (admin).
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn save_probe(
    slug: String,
    id: Option<i64>,
    spec: ProbeSpec,
) -> Result<ProbeInfo, AppError> {
    crate::error::with_status(
        async {
            let admin = require(Role::Admin)?;
            let state = AppState::from_context()?;
            let base = base_url(&state);
            let mut tx = state.pool.begin().await?;
            let (probe, action) = match id {
                None => {
                    let def = spec.apply(None)?;
                    let service = crate::services::store::ensure(&mut *tx, &slug).await?;
                    (
                        super::store::create(&mut tx, service, &def, &base).await?,
                        "probe.create",
                    )
                }
                Some(id) => {
                    let current = super::store::get(&mut *tx, id, &base).await?;
                    if current.service != slug {
                        return Err(AppError::NotFound(format!("probe {id} of `{slug}`")));
                    }
                    let def = spec.apply(Some(&current.definition()))?;
                    (
                        super::store::update(&mut tx, id, &def, &base).await?,
                        "probe.update",
                    )
                }
            };
            crate::audit::store::record(
                &mut *tx,
                &actor(&admin),
                action,
                Some(&format!("{slug}/{}", probe.id)),
                auth().ip,
                serde_json::json!({ "kind": probe.kind, "name": probe.name }),
            )
            .await?;
            tx.commit().await?;
            // The status document shows the change at once.
            state.status_cache.clear();
            Ok(probe)
        }
        .await,
    )
}

/// Deletes a probe (admin).
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn remove_probe(slug: String, id: i64) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let admin = require(Role::Admin)?;
            let state = AppState::from_context()?;
            let mut tx = state.pool.begin().await?;
            let probe = super::store::get(&mut *tx, id, "").await?;
            if probe.service != slug {
                return Err(AppError::NotFound(format!("probe {id} of `{slug}`")));
            }
            super::store::delete(&mut *tx, id).await?;
            crate::audit::store::record(
                &mut *tx,
                &actor(&admin),
                "probe.delete",
                Some(&format!("{slug}/{id}")),
                auth().ip,
                serde_json::json!({ "name": probe.name }),
            )
            .await?;
            tx.commit().await?;
            // The status document shows the change at once.
            state.status_cache.clear();
            Ok(())
        }
        .await,
    )
}

/// Changes a service's SLO targets and its public-status opt-in (admin).
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn save_service_settings(
    slug: String,
    targets: SloTargets,
    public_status: bool,
) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let admin = require(Role::Admin)?;
            targets.check()?;
            let state = AppState::from_context()?;
            let id = service_id(&state, &slug).await?;
            let mut tx = state.pool.begin().await?;
            crate::services::store::change(&mut tx, id, None, Some(public_status), Some(&targets))
                .await?;
            crate::audit::store::record(
                &mut *tx,
                &actor(&admin),
                "service.change",
                Some(&slug),
                auth().ip,
                serde_json::json!({ "slo_targets": targets, "public_status": public_status }),
            )
            .await?;
            tx.commit().await?;
            // The status document shows the change at once.
            state.status_cache.clear();
            Ok(())
        }
        .await,
    )
}

/// Adds a maintenance window (operator).
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn add_maintenance(window: MaintenanceWindow) -> Result<i64, AppError> {
    crate::error::with_status(
        async {
            let user = require(Role::Operator)?;
            let rule = super::store::rule_of(&window)?;
            let state = AppState::from_context()?;
            let service_id = match &window.service {
                Some(slug) => Some(service_id(&state, slug).await?),
                None => None,
            };
            let mut tx = state.pool.begin().await?;
            let id =
                super::store::create_window(&mut *tx, service_id, &window, &rule, &actor(&user))
                    .await?;
            crate::audit::store::record(
                &mut *tx,
                &actor(&user),
                "maintenance.create",
                Some(&window.title),
                auth().ip,
                serde_json::json!({ "id": id, "service": window.service }),
            )
            .await?;
            tx.commit().await?;
            // The status document shows the change at once.
            state.status_cache.clear();
            Ok(id)
        }
        .await,
    )
}

/// Removes a maintenance window (operator).
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn remove_maintenance(id: i64) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let user = require(Role::Operator)?;
            let state = AppState::from_context()?;
            let mut tx = state.pool.begin().await?;
            super::store::delete_window(&mut *tx, id).await?;
            crate::audit::store::record(
                &mut *tx,
                &actor(&user),
                "maintenance.delete",
                Some(&id.to_string()),
                auth().ip,
                serde_json::json!({}),
            )
            .await?;
            tx.commit().await?;
            // The status document shows the change at once.
            state.status_cache.clear();
            Ok(())
        }
        .await,
    )
}

/// The public status page's data: only opted-in services, only their
/// state, uptime bars and outage start; nothing when the page is off.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn get_public_status() -> Result<PublicStatus, AppError> {
    crate::error::with_status(
        async {
            let state = AppState::from_context()?;
            if !state.public_status {
                return Err(AppError::NotFound("status page".into()));
            }
            let doc =
                super::status::current(&state.pool, &state.status_cache, state.started_at).await?;
            let mut services = Vec::new();
            for s in doc.services.iter().filter(|s| s.public_status) {
                let id = service_id(&state, &s.slug).await?;
                let days = days(&state.pool, id).await?;
                let (c, f) = super::store::uptime_counts(
                    &state.pool,
                    Some(id),
                    chrono::Utc::now() - chrono::Duration::days(90),
                    chrono::Utc::now(),
                )
                .await?;
                services.push(PublicService {
                    name: s.name.clone(),
                    state: s.state.clone(),
                    uptime_90d: super::uptime_percent(c, f),
                    days,
                    down_since: s.open_incident.as_ref().map(|i| i.started_at.clone()),
                });
            }
            let status = if services.iter().any(|s| s.state == "down") {
                "down"
            } else if services.iter().any(|s| s.state == "degraded") {
                "degraded"
            } else if services.iter().any(|s| s.state == "maintenance") {
                "maintenance"
            } else {
                "ok"
            };
            Ok(PublicStatus {
                status: status.into(),
                generated_at: doc.generated_at.clone(),
                services,
            })
        }
        .await,
    )
}
