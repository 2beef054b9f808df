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
use crate::components::format::timestamp;
use crate::components::layout::IfRole;

fn percent(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.2} %")).unwrap_or_else(|| "–".into())
}

fn ms(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.0} ms"))
        .unwrap_or_else(|| "–".into())
}

#[component]
pub fn ServicesPage() -> impl IntoView {
    let services = Resource::new(|| (), |_| services_overview());
    view! {
        <Title text="Services" />
        <header class="page-header">
            <h1>"Services"</h1>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match services.await {
                    Err(e) => view! { <p class="error-text" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <section class="panel empty-state">
                            <p>"No services yet. A service appears with its first event or probe."</p>
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
                <div><dt>"Uptime 24 h"</dt><dd>{percent(s.uptime_24h)}</dd></div>
                <div><dt>"Uptime 30 d"</dt><dd>{percent(s.uptime_30d)}</dd></div>
                <div><dt>"p95 24 h"</dt><dd>{ms(s.p95_ms_24h)}</dd></div>
                <div><dt>"Probes"</dt><dd>{s.probes}</dd></div>
                <div>
                    <dt>"SLOs"</dt>
                    <dd>{format!("{}/{} met", s.slos.iter().filter(|o| o.met).count(), s.slos.len())}</dd>
                </div>
            </dl>
            {s.open_incident.map(|i| view! {
                <p class="incident-line" role="status">
                    {format!("Down since {}: {}", timestamp(&i.started_at), i.cause)}
                </p>
            })}
        </li>
    }
}

#[component]
pub fn ServiceDetailPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = Memo::new(move |_| params.get().get("slug").unwrap_or_default());
    let range = Memo::new(move |_| query.get().get("range").unwrap_or_else(|| "24h".into()));
    let save = ServerAction::<SaveProbe>::new();
    let remove = ServerAction::<RemoveProbe>::new();
    let settings = ServerAction::<SaveServiceSettings>::new();
    let remove_window = ServerAction::<RemoveMaintenance>::new();
    let added_window = RwSignal::new(0u32);
    let detail = Resource::new(
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
        <Title text=move || format!("Service {}", slug.get()) />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! {
                        <header class="page-header"><h1>"Service"</h1></header>
                        <p class="error-text" role="alert">{e.to_string()}</p>
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
            <p class="panel notice bad" role="status">{format!("Down since {}: {}", timestamp(&i.started_at), i.cause)}</p>
        })}
        <section class="panel">
            <h2>"Last 90 days"</h2>
            <UptimeBar days=d.daily_uptime.clone() />
            <dl class="service-figures">
                <div><dt>"Uptime 24 h"</dt><dd>{percent(s.uptime_24h)}</dd></div>
                <div><dt>"Uptime 30 d"</dt><dd>{percent(s.uptime_30d)}</dd></div>
                <div><dt>"Current response"</dt><dd>{ms(s.response_ms)}</dd></div>
                <div><dt>"Incidents 30 d"</dt><dd>{count}</dd></div>
                <div><dt>"Downtime 30 d"</dt><dd>{crate::components::format::duration(down)}</dd></div>
                <div><dt>"MTTR 30 d"</dt><dd>{mttr.map(crate::components::format::duration).unwrap_or_else(|| "–".into())}</dd></div>
            </dl>
        </section>
        <section class="panel">
            <div class="panel-header">
                <h2>"Response times"</h2>
                <nav class="range-picker" aria-label="Range">{ranges}</nav>
            </div>
            <ResponseChart points=d.response_times.clone() />
        </section>
        <section class="panel">
            <h2>"Service level objectives"</h2>
            <SloTable slos=s.slos.clone() />
            <IfRole role=Role::Admin>
                <ServiceSettingsForm slug=slug_settings.clone() targets=targets.clone() public_status action=settings />
            </IfRole>
        </section>
        <section class="panel">
            <h2>"Probes"</h2>
            <ProbesTable probes=d.probes.clone() slug=slug.clone() remove />
            <IfRole role=Role::Admin>
                <ProbeForm slug=slug_form.clone() action=save />
            </IfRole>
        </section>
        <section class="panel">
            <h2>"Incidents"</h2>
            <IncidentsTable incidents=d.incidents.clone() />
        </section>
        <section class="panel">
            <h2>"Maintenance windows"</h2>
            <MaintenanceList windows=d.maintenance.clone() remove=remove_window />
            <IfRole role=Role::Operator>
                <MaintenanceForm service=Some(slug_window.clone()) added=added_window />
            </IfRole>
        </section>
        <section class="panel">
            <h2>"Recovery runs"</h2>
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
    if probes.is_empty() {
        return view! { <p class="muted">"No probes yet."</p> }.into_any();
    }
    let armed = RwSignal::new(None::<i64>);
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="probes-table">
                <thead>
                    <tr>
                        <th>"Probe"</th>
                        <th>"State"</th>
                        <th class="hide-sm">"Checks"</th>
                        <th class="hide-sm">"Last check"</th>
                        <th>"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {probes.into_iter().map(|p| {
                        let id = p.id;
                        let slug = StoredValue::new(slug.clone());
                        let last = p.last_checked_at.as_deref().map(timestamp).unwrap_or_else(|| "not yet".into());
                        let detail = match (&p.last_error, p.last_duration_ms) {
                            (Some(e), _) => e.clone(),
                            (None, Some(ms)) => format!("{ms:.0} ms"),
                            (None, None) => String::new(),
                        };
                        view! {
                            <tr>
                                <td>
                                    <div>{p.name.clone()}</div>
                                    <div class="small muted mono">{format!("{} · {}", p.kind.as_str(), target_of(&p))}</div>
                                    {p.ping_url.clone().map(|u| view! { <div class="small mono" data-testid="ping-url">{u}</div> })}
                                    {p.cert_expires_at.as_deref().map(|c| view! {
                                        <div class="small muted">{format!("Certificate valid until {}", timestamp(c))}</div>
                                    })}
                                </td>
                                <td>
                                    <StateBadge state=if p.enabled { p.state.as_str().to_owned() } else { "paused".to_owned() } />
                                    <div class="small muted">{detail}</div>
                                </td>
                                <td class="hide-sm small">{format!("every {} s, down after {}", p.interval_seconds, p.failures_before_down)}</td>
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
                                        }>{move || if armed.get() == Some(id) { "Really delete?" } else { "Delete" }}</button>
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
    if windows.is_empty() {
        return view! { <p class="muted">"No maintenance windows."</p> }.into_any();
    }
    view! {
        <ul class="plain-list" data-testid="maintenance-list">
            {windows.into_iter().map(|w| {
                let id = w.id;
                let when = match (&w.starts_at, &w.ends_at, w.weekday) {
                    (Some(s), Some(e), _) => format!("{} – {}", timestamp(s), timestamp(e)),
                    (_, _, Some(day)) => format!(
                        "every {} at {} for {} min ({})",
                        super::forms::weekday_name(day),
                        w.start_time.clone().unwrap_or_default(),
                        w.duration_minutes.unwrap_or(0),
                        w.time_zone
                    ),
                    _ => String::new(),
                };
                view! {
                    <li>
                        <strong>{w.title.clone()}</strong>
                        {w.service.is_none().then(|| view! { " " <span class="badge">"all services"</span> })}
                        {w.active.then(|| view! { " " <span class="badge warn">"on now"</span> })}
                        <div class="small muted">{when}</div>
                        <IfRole role=Role::Operator>
                            <button class="btn small" on:click=move |_| { remove.dispatch(RemoveMaintenance { id }); }>"Remove"</button>
                        </IfRole>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// The dashboard's "Now" strip: how many services are up, degraded, down.
#[component]
pub fn NowStrip() -> impl IntoView {
    let services = Resource::new(|| (), |_| services_overview());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                services.await.ok().filter(|rows| rows.iter().any(|r| r.status.probes > 0)).map(|rows| {
                    let count = |state: &str| rows.iter().filter(|r| r.status.state == state).count();
                    let (up, degraded, down, maintenance) = (count("up"), count("degraded"), count("down"), count("maintenance"));
                    view! {
                        <a class="panel now-strip" href="/services" data-testid="now-strip">
                            <strong>"Now"</strong>
                            <span class="badge ok">{format!("{up} up")}</span>
                            {(degraded > 0).then(|| view! { <span class="badge warn">{format!("{degraded} degraded")}</span> })}
                            {(down > 0).then(|| view! { <span class="badge bad">{format!("{down} down")}</span> })}
                            {(maintenance > 0).then(|| view! { <span class="badge warn">{format!("{maintenance} in maintenance")}</span> })}
                        </a>
                    }
                })
            })}
        </Transition>
    }
}

/// The public status page: only services that opted in, nothing internal.
#[component]
pub fn PublicStatusPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_public_status());
    view! {
        <Title text="Status" />
        <main class="public-status">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Err(_) => view! {
                            <h1>"Status"</h1>
                            <p class="muted">"There is no public status page here."</p>
                        }.into_any(),
                        Ok(s) => {
                            let headline = match s.status.as_str() {
                                "ok" => "All systems operational",
                                "degraded" => "Some systems are degraded",
                                "maintenance" => "Maintenance in progress",
                                _ => "Some systems are down",
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
                                            <p class="small muted">{format!("Uptime over 90 days: {}", percent(svc.uptime_90d))}</p>
                                            {svc.down_since.map(|t| view! { <p class="incident-line">{format!("Down since {}", timestamp(&t))}</p> })}
                                        </li>
                                    }).collect_view()}
                                </ul>
                                <p class="small muted">{format!("Updated {}", timestamp(&s.generated_at))}</p>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </main>
    }
}
