//! The Services pages: the overview (state and 90-day bars of every
//! service), one service (charts, probes, SLOs, incidents, maintenance,
//! recovery runs), the dashboard's "Now" strip and the public status page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::components::{
    IncidentsTable, RecoveryRunsTable, ResponseChart, SloTable, StateBadge, UptimeBar, target_of,
};
use super::forms::{MaintenanceForm, ProbeForm, ServiceSettingsForm};
use super::server_fns::{
    RemoveMaintenance, RemoveProbe, SaveProbe, SaveServiceSettings, ServiceRow, get_public_status,
    get_service_detail, services_overview,
};
use super::types::{ProbeInfo, ServiceDetail};
use crate::auth::Role;
use crate::components::format::{decimal, duration, timestamp};
use crate::components::layout::IfRole;
use crate::lang::{Locale, t, t_string, td_string, tf, use_i18n, use_locale};
use crate::resource::resource;

/// An uptime with two decimals: `99.95%` / `99,95 %`.
fn percent(l: Locale, v: Option<f64>) -> String {
    match (v, l) {
        (Some(p), Locale::de) => format!("{}\u{a0}%", decimal(l, p, 2)),
        (Some(p), Locale::en) => format!("{}%", decimal(l, p, 2)),
        (None, _) => "–".into(),
    }
}

fn ms(l: Locale, v: Option<f64>) -> String {
    v.map(|p| format!("{}\u{a0}ms", decimal(l, p, 0)))
        .unwrap_or_else(|| "–".into())
}

/// A probe or service state (`up`, `down`, …) in words.
pub fn state_label(l: Locale, state: &str) -> String {
    match state {
        "up" => td_string!(l, state.up).into(),
        "down" => td_string!(l, state.down).into(),
        "degraded" => td_string!(l, state.degraded).into(),
        "maintenance" => td_string!(l, state.maintenance).into(),
        "paused" => td_string!(l, state.paused).into(),
        "unknown" | "pending" => td_string!(l, state.unknown).into(),
        other => other.to_owned(),
    }
}

#[component]
pub fn ServicesPage() -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let services = resource(|| (), |_| services_overview());
    view! {
        <Title text=t_string!(i18n, nav.services) />
        <header class="page-header">
            <h1>{t!(i18n, nav.services)}</h1>
        </header>
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, common.loading)}</p> }>
            {move || Suspend::new(async move {
                match services.await {
                    Err(e) => view! { <p class="error-text" role="alert">{crate::error::describe(l, &e)}</p> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <section class="panel empty-state">
                            <p>{t!(i18n, services.empty)}</p>
                        </section>
                    }.into_any(),
                    Ok(rows) => view! {
                        <ul class="service-list" data-testid="service-list">
                            {rows.into_iter().map(|row| view! { <ServiceCard row /> }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ServiceCard(row: ServiceRow) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let s = row.status;
    let href = format!("/services/{}", s.slug);
    view! {
        <li class="panel service-card" data-testid=format!("service-{}", s.slug)>
            <div class="service-head">
                <h2><a href=href>{s.name.clone()}</a></h2>
                <StateBadge state=s.state.clone() />
            </div>
            <UptimeBar days=row.days />
            <dl class="service-figures">
                <div><dt>{t!(i18n, services.uptime_24h)}</dt><dd>{percent(l, s.uptime_24h)}</dd></div>
                <div><dt>{t!(i18n, services.uptime_30d)}</dt><dd>{percent(l, s.uptime_30d)}</dd></div>
                <div><dt>{t!(i18n, services.p95_24h)}</dt><dd>{ms(l, s.p95_ms_24h)}</dd></div>
                <div><dt>{t!(i18n, services.probes)}</dt><dd>{s.probes}</dd></div>
                <div>
                    <dt>"SLOs"</dt>
                    <dd>{tf!(l, services.slos_met, met = s.slos.iter().filter(|o| o.met).count(), total = s.slos.len())}</dd>
                </div>
            </dl>
            {s.open_incident.map(|i| view! {
                <p class="incident-line" role="status">
                    {tf!(l, services.down_since_cause, since = timestamp(l, &i.started_at), cause = i.cause.clone())}
                </p>
            })}
        </li>
    }
}

#[component]
pub fn ServiceDetailPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let i18n = use_i18n();
    let l = use_locale();
    let slug = Memo::new(move |_| params.get().get("slug").unwrap_or_default());
    let range = Memo::new(move |_| query.get().get("range").unwrap_or_else(|| "24h".into()));
    let save = ServerAction::<SaveProbe>::new();
    let remove = ServerAction::<RemoveProbe>::new();
    let settings = ServerAction::<SaveServiceSettings>::new();
    let remove_window = ServerAction::<RemoveMaintenance>::new();
    let added_window = RwSignal::new(0u32);
    let detail = resource(
        move || {
            (
                slug.get(),
                range.get(),
                save.version().get(),
                remove.version().get(),
                settings.version().get(),
                remove_window.version().get(),
                added_window.get(),
            )
        },
        |(slug, range, ..)| get_service_detail(slug, range),
    );
    view! {
        <Title text=move || tf!(l, services.service_title, slug = slug.get()) />
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, common.loading)}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! {
                        <header class="page-header"><h1>{t!(i18n, dash.service)}</h1></header>
                        <p class="error-text" role="alert">{crate::error::describe(l, &e)}</p>
                    }.into_any(),
                    Ok(d) => view! {
                        <ServiceView d slug=slug.get_untracked() range=range.get_untracked()
                            save remove settings remove_window added_window />
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ServiceView(
    d: ServiceDetail,
    slug: String,
    range: String,
    save: ServerAction<SaveProbe>,
    remove: ServerAction<RemoveProbe>,
    settings: ServerAction<SaveServiceSettings>,
    remove_window: ServerAction<RemoveMaintenance>,
    added_window: RwSignal<u32>,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let s = d.status.clone();
    let (count, down, mttr) = d.incidents_30d;
    let ranges = ["24h", "7d", "30d"].map(|r| {
        let current = r == range;
        let href = format!("/services/{slug}?range={r}");
        view! {
            <a href=href class="btn small" aria-current=current.then_some("page")>{r}</a>
        }
    });
    // Each role-bound part re-renders on its own: it gets its own copies.
    let (slug_settings, slug_form, slug_window) = (slug.clone(), slug.clone(), slug.clone());
    let targets = d.slo_targets.clone();
    let public_status = s.public_status;
    view! {
        <header class="page-header">
            <h1>{s.name.clone()}</h1>
            <StateBadge state=s.state.clone() />
        </header>
        {s.open_incident.clone().map(|i| view! {
            <p class="panel notice bad" role="status">{tf!(l, services.down_since_cause, since = timestamp(l, &i.started_at), cause = i.cause.clone())}</p>
        })}
        <section class="panel">
            <h2>{t!(i18n, services.last_90_days)}</h2>
            <UptimeBar days=d.daily_uptime.clone() />
            <dl class="service-figures">
                <div><dt>{t!(i18n, services.uptime_24h)}</dt><dd>{percent(l, s.uptime_24h)}</dd></div>
                <div><dt>{t!(i18n, services.uptime_30d)}</dt><dd>{percent(l, s.uptime_30d)}</dd></div>
                <div><dt>{t!(i18n, services.current_response)}</dt><dd>{ms(l, s.response_ms)}</dd></div>
                <div><dt>{t!(i18n, services.incidents_30d)}</dt><dd>{count}</dd></div>
                <div><dt>{t!(i18n, services.downtime_30d)}</dt><dd>{duration(l, down)}</dd></div>
                <div><dt>{t!(i18n, services.mttr_30d)}</dt><dd>{mttr.map(|m| duration(l, m)).unwrap_or_else(|| "–".into())}</dd></div>
            </dl>
        </section>
        <section class="panel">
            <div class="panel-header">
                <h2>{t!(i18n, services.response_times)}</h2>
                <nav class="range-picker" aria-label=t_string!(i18n, dash.range)>{ranges}</nav>
            </div>
            <ResponseChart points=d.response_times.clone() />
        </section>
        <section class="panel">
            <h2>{t!(i18n, services.slos)}</h2>
            <SloTable slos=s.slos.clone() />
            <IfRole role=Role::Admin>
                <ServiceSettingsForm slug=slug_settings.clone() targets=targets.clone() public_status action=settings />
            </IfRole>
        </section>
        <section class="panel">
            <h2>{t!(i18n, services.probes)}</h2>
            <ProbesTable probes=d.probes.clone() slug=slug.clone() remove />
            <IfRole role=Role::Admin>
                <ProbeForm slug=slug_form.clone() action=save />
            </IfRole>
        </section>
        <section class="panel">
            <h2>{t!(i18n, services.incidents)}</h2>
            <IncidentsTable incidents=d.incidents.clone() />
        </section>
        <section class="panel">
            <h2>{t!(i18n, services.maintenance_windows)}</h2>
            <MaintenanceList windows=d.maintenance.clone() remove=remove_window />
            <IfRole role=Role::Operator>
                <MaintenanceForm service=Some(slug_window.clone()) added=added_window />
            </IfRole>
        </section>
        <section class="panel">
            <h2>{t!(i18n, services.recovery_runs)}</h2>
            <RecoveryRunsTable runs=d.recovery_runs.clone() />
        </section>
        <crate::error_groups::page::DsnCard slug=slug.clone() />
    }
}

#[component]
fn ProbesTable(
    probes: Vec<ProbeInfo>,
    slug: String,
    remove: ServerAction<RemoveProbe>,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    if probes.is_empty() {
        return view! { <p class="muted">{t!(i18n, services.no_probes)}</p> }.into_any();
    }
    let armed = RwSignal::new(None::<i64>);
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="probes-table">
                <thead>
                    <tr>
                        <th>{t!(i18n, services.probe)}</th>
                        <th>{t!(i18n, services.state)}</th>
                        <th class="hide-sm">{t!(i18n, services.checks)}</th>
                        <th class="hide-sm">{t!(i18n, services.last_check)}</th>
                        <th>{t!(i18n, common.actions)}</th>
                    </tr>
                </thead>
                <tbody>
                    {probes.into_iter().map(|p| {
                        let id = p.id;
                        let slug = StoredValue::new(slug.clone());
                        let last = p.last_checked_at.as_deref().map(|t| timestamp(l, t)).unwrap_or_else(|| td_string!(l, services.not_yet).into());
                        let detail = match (&p.last_error, p.last_duration_ms) {
                            (Some(e), _) => e.clone(),
                            (None, Some(v)) => ms(l, Some(v)),
                            (None, None) => String::new(),
                        };
                        view! {
                            <tr>
                                <td>
                                    <div>{p.name.clone()}</div>
                                    <div class="small muted mono">{format!("{} · {}", p.kind.as_str(), target_of(l, &p))}</div>
                                    {p.ping_url.clone().map(|u| view! { <div class="small mono" data-testid="ping-url">{u}</div> })}
                                    {p.cert_expires_at.as_deref().map(|c| view! {
                                        <div class="small muted">{tf!(l, services.cert_until, date = timestamp(l, c))}</div>
                                    })}
                                </td>
                                <td>
                                    <StateBadge state=if p.enabled { p.state.as_str().to_owned() } else { "paused".to_owned() } />
                                    <div class="small muted">{detail}</div>
                                </td>
                                <td class="hide-sm small">{tf!(l, services.every, seconds = p.interval_seconds, failures = p.failures_before_down)}</td>
                                <td class="hide-sm small nowrap">{last}</td>
                                <td class="actions">
                                    <IfRole role=Role::Admin>
                                        <button class="btn small danger" on:click=move |_| {
                                            if armed.get_untracked() == Some(id) {
                                                remove.dispatch(RemoveProbe { slug: slug.get_value(), id });
                                                armed.set(None);
                                            } else {
                                                armed.set(Some(id));
                                            }
                                        }>{move || if armed.get() == Some(id) { td_string!(l, common.really_delete) } else { td_string!(l, common.delete) }}</button>
                                    </IfRole>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn MaintenanceList(
    windows: Vec<super::types::MaintenanceWindow>,
    remove: ServerAction<RemoveMaintenance>,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    if windows.is_empty() {
        return view! { <p class="muted">{t!(i18n, services.no_windows)}</p> }.into_any();
    }
    view! {
        <ul class="plain-list" data-testid="maintenance-list">
            {windows.into_iter().map(|w| {
                let id = w.id;
                let when = match (&w.starts_at, &w.ends_at, w.weekday) {
                    (Some(s), Some(e), _) => format!("{} – {}", timestamp(l, s), timestamp(l, e)),
                    (_, _, Some(day)) => tf!(
                        l,
                        services.weekly,
                        day = super::forms::weekday_name(l, day),
                        time = w.start_time.clone().unwrap_or_default(),
                        minutes = w.duration_minutes.unwrap_or(0),
                        zone = w.time_zone.clone()
                    ),
                    _ => String::new(),
                };
                view! {
                    <li>
                        <strong>{w.title.clone()}</strong>
                        {w.service.is_none().then(|| view! { " " <span class="badge">{t!(i18n, services.all_services_badge)}</span> })}
                        {w.active.then(|| view! { " " <span class="badge warn">{t!(i18n, services.on_now)}</span> })}
                        <div class="small muted">{when}</div>
                        <IfRole role=Role::Operator>
                            <button class="btn small" on:click=move |_| { remove.dispatch(RemoveMaintenance { id }); }>{t!(i18n, common.remove)}</button>
                        </IfRole>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// The dashboard's "Now" strip: how many services are up, degraded, down;
/// nothing while no service has a probe. Rendered on the server only
/// (`dashboard::figures`).
#[cfg(feature = "ssr")]
#[component]
pub fn NowStrip(services: Vec<super::types::ServiceStatus>) -> impl IntoView {
    let l = use_locale();
    services.iter().any(|s| s.probes > 0).then(|| {
        let count = |state: &str| services.iter().filter(|s| s.state == state).count();
        let (up, degraded, down, maintenance) = (count("up"), count("degraded"), count("down"), count("maintenance"));
        view! {
            <a class="panel now-strip" href="/services" data-testid="now-strip">
                <strong>{td_string!(l, services.now)}</strong>
                <span class="badge ok">{tf!(l, services.n_up, count = up)}</span>
                {(degraded > 0).then(|| view! { <span class="badge warn">{tf!(l, services.n_degraded, count = degraded)}</span> })}
                {(down > 0).then(|| view! { <span class="badge bad">{tf!(l, services.n_down, count = down)}</span> })}
                {(maintenance > 0).then(|| view! { <span class="badge warn">{tf!(l, services.n_maintenance, count = maintenance)}</span> })}
            </a>
        }
    })
}

/// The public status page: only services that opted in, nothing internal.
#[component]
pub fn PublicStatusPage() -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let status = resource(|| (), |_| get_public_status());
    view! {
        <Title text="Status" />
        <main class="public-status">
            <crate::lang::LangSwitch />
            <Transition fallback=move || view! { <p class="muted">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Err(_) => view! {
                            <h1>"Status"</h1>
                            <p class="muted">{t!(i18n, status.none)}</p>
                        }.into_any(),
                        Ok(s) => {
                            let headline = match s.status.as_str() {
                                "ok" => td_string!(l, status.ok),
                                "degraded" => td_string!(l, status.degraded),
                                "maintenance" => td_string!(l, status.maintenance),
                                _ => td_string!(l, status.down),
                            };
                            view! {
                                <h1>"Status"</h1>
                                <p class=format!("panel status-headline {}", s.status) role="status">{headline}</p>
                                <ul class="service-list">
                                    {s.services.into_iter().map(|svc| view! {
                                        <li class="panel service-card">
                                            <div class="service-head">
                                                <h2>{svc.name}</h2>
                                                <StateBadge state=svc.state />
                                            </div>
                                            <UptimeBar days=svc.days />
                                            <p class="small muted">{tf!(l, status.uptime_90, value = percent(l, svc.uptime_90d))}</p>
                                            {svc.down_since.map(|t| view! { <p class="incident-line">{tf!(l, services.down_since, since = timestamp(l, &t))}</p> })}
                                        </li>
                                    }).collect_view()}
                                </ul>
                                <p class="small muted">{format!("{} {}", td_string!(l, dash.updated), timestamp(l, &s.generated_at))}</p>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </main>
    }
}
