//! Server functions of the dashboard (UI only; machines use the REST API).

use leptos::prelude::*;

use super::types::{DashboardParts, DashboardQuery};
use crate::error::AppError;

/// The Dashboard page's parts: every KPI, computed by the same code as
/// `GET /api/v1/dashboard`, and the side widgets' figures, rendered to HTML
/// in the request's language (`dashboard::figures`), with the data of the
/// parts that act in the browser.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn get_dashboard_parts(query: DashboardQuery) -> Result<DashboardParts, AppError> {
    crate::error::with_status(dashboard_parts(query).await)
}

#[cfg(feature = "ssr")]
async fn dashboard_parts(query: DashboardQuery) -> Result<DashboardParts, AppError> {
    use super::figures::{DashboardFigures, Side, SideWidgets, render};
    crate::auth::guard::require(crate::auth::Role::Viewer)?;
    let state = crate::state::AppState::from_context()?;
    let (d, status, backup) = tokio::join!(
        super::store::load(&state.pool, &state.kpi, &query, chrono::Utc::now()),
        crate::probes::status::current(&state.pool, &state.status_cache, state.started_at),
        crate::backups::store::health(&state.pool, &state.backups),
    );
    let mut d = d?;
    // The figures need none of what the browser's parts get: moved out,
    // not copied.
    let service = d.service.take();
    let generated_at = std::mem::take(&mut d.generated_at);
    let services = std::mem::take(&mut d.services);
    let maturity = std::mem::take(&mut d.maturity);
    // The side widgets show what they can: a failure is logged and that
    // widget left out, not the page failed.
    let status = status.inspect_err(AppError::log_if_internal).ok();
    let side = Side {
        dead_letters: status.as_ref().map(|s| s.leitstand.dead_letters),
        services: status.map(|s| s.services.clone()),
        backup: backup.inspect_err(AppError::log_if_internal),
    };
    let locale = crate::lang::request_locale();
    Ok(DashboardParts {
        range: d.range,
        service,
        generated_at,
        services,
        empty: d.empty,
        maturity,
        figures: render(locale, move || view! { <DashboardFigures d /> }),
        side: render(locale, move || view! { <SideWidgets side /> }),
    })
}

/// Base URL and key status for the onboarding panel.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn onboarding_info() -> Result<super::types::OnboardingInfo, AppError> {
    crate::error::with_status(onboarding_info_inner().await)
}

#[cfg(feature = "ssr")]
async fn onboarding_info_inner() -> Result<super::types::OnboardingInfo, AppError> {
    crate::auth::guard::require(crate::auth::Role::Viewer)?;
    let state = crate::state::AppState::from_context()?;
    let origin = use_context::<axum::http::request::Parts>()
        .and_then(|parts| {
            let host = parts
                .headers
                .get(axum::http::header::HOST)?
                .to_str()
                .ok()?
                .to_owned();
            let proto = parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("http")
                .to_owned();
            Some(format!("{proto}://{host}"))
        })
        .unwrap_or_else(|| format!("http://{}", state.leptos_options.site_addr));
    let keys_exist = sqlx::query_scalar!(r#"select exists (select 1 from api_keys) as "e!""#)
        .fetch_one(&state.pool)
        .await?;
    Ok(super::types::OnboardingInfo { origin, keys_exist })
}

/// Creates the installation's first ingest key. Refused once any key
/// exists: further keys are made by administrators.
#[server(prefix = "/rpc")]
pub async fn create_first_key() -> Result<String, AppError> {
    crate::error::with_status(create_first_key_inner().await)
}

#[cfg(feature = "ssr")]
async fn create_first_key_inner() -> Result<String, AppError> {
    let admin = crate::auth::guard::require(crate::auth::Role::Admin)?;
    let state = crate::state::AppState::from_context()?;
    let mut tx = state.pool.begin().await?;
    // Serialise concurrent first-key requests.
    sqlx::query!("lock table api_keys in exclusive mode")
        .execute(&mut *tx)
        .await?;
    let exists = sqlx::query_scalar!(r#"select exists (select 1 from api_keys) as "e!""#)
        .fetch_one(&mut *tx)
        .await?;
    if exists {
        return Err(AppError::Conflict(
            "an API key exists already; create more with `leitstand key create`".into(),
        ));
    }
    let created = crate::keys::store::create(
        &mut tx,
        "first ingest key",
        &[crate::keys::Scope::Ingest],
        None,
        &admin.email,
    )
    .await?;
    crate::audit::store::record(
        &mut *tx,
        &crate::auth::guard::actor(&admin),
        "key.create",
        Some(&created.info.prefix),
        crate::auth::guard::auth().ip,
        serde_json::json!({ "scopes": ["ingest"] }),
    )
    .await?;
    tx.commit().await?;
    Ok(created.secret)
}

/// Back-fills 30 days of demo traffic (only into an empty installation).
#[server(prefix = "/rpc")]
pub async fn load_demo() -> Result<u64, AppError> {
    crate::error::with_status(load_demo_inner().await)
}

#[cfg(feature = "ssr")]
async fn load_demo_inner() -> Result<u64, AppError> {
    let admin = crate::auth::guard::require(crate::auth::Role::Admin)?;
    let state = crate::state::AppState::from_context()?;
    if crate::events::store::total_events(&state.pool).await? > 0 {
        return Err(AppError::Conflict(
            "demo data only loads into an empty installation".into(),
        ));
    }
    let n = crate::demo::backfill(&state.ingest, 20_000, 7, chrono::Utc::now()).await?;
    crate::audit::store::record(
        &state.pool,
        &crate::auth::guard::actor(&admin),
        "demo.load",
        None,
        crate::auth::guard::auth().ip,
        serde_json::json!({ "events": n }),
    )
    .await?;
    Ok(n)
}
