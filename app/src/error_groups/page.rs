//! The Errors pages: the list of error groups (filters and order in the
//! URL, keyset pages, bulk actions), one group with its events, the
//! Releases view, and the DSN card on a service's page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::server_fns::{
    ChangeErrorGroups, RotateServiceDsn, SetServiceOrigins, get_error_group, get_releases,
    get_service_dsn, list_error_groups,
};
use super::types::{
    EventDetail, Exception, Frame, GroupAction, GroupDetail, GroupPage, GroupQuery, GroupSort,
    GroupStatus, GroupSummary, ReleaseRow,
};
use crate::auth::Role;
use crate::components::format::{clock, count, date};
use crate::components::layout::IfRole;
use crate::events::live_widget::level_class;
use crate::events::types::encode;
use crate::lang::{Locale, t, t_string, td_string, tf, use_i18n, use_locale};
use crate::resource::resource;

/// Status in the URL: `all`, one status, or (missing) open.
fn query_from_url(q: &leptos_router::params::ParamsMap) -> GroupQuery {
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
    GroupQuery {
        service: get("service"),
        status: match get("status").as_deref() {
            Some("all") => None,
            Some(s) => GroupStatus::parse(s).or(Some(GroupStatus::Open)),
            None => Some(GroupStatus::Open),
        },
        release: get("release"),
        environment: get("environment"),
        q: get("q"),
        sort: get("sort")
            .and_then(|s| GroupSort::parse(&s))
            .unwrap_or_default(),
        cursor: get("cursor"),
    }
}

fn query_string(q: &GroupQuery, spark: &str) -> String {
    let mut parts = Vec::new();
    let mut push = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", encode(v)));
        }
    };
    push("service", q.service.as_deref());
    push(
        "status",
        Some(q.status.map(GroupStatus::as_str).unwrap_or("all")),
    );
    push("release", q.release.as_deref());
    push("environment", q.environment.as_deref());
    push("q", q.q.as_deref());
    push("sort", Some(q.sort.as_str()));
    push("spark", Some(spark));
    push("cursor", q.cursor.as_deref());
    parts.join("&")
}

/// A group status (`open`, `resolved`, `ignored`, `all`) in words.
fn status_label(l: Locale, status: &str) -> &'static str {
    match status {
        "open" => td_string!(l, groups.open),
        "resolved" => td_string!(l, groups.resolved),
        "ignored" => td_string!(l, groups.ignored),
        _ => td_string!(l, common.all),
    }
}

fn status_badge(l: Locale, status: GroupStatus, waiting: bool) -> impl IntoView {
    let (class, label) = match (status, waiting) {
        (GroupStatus::Open, true) => ("badge info", td_string!(l, groups.open_waiting)),
        (GroupStatus::Open, false) => ("badge bad", td_string!(l, groups.open)),
        (GroupStatus::Resolved, _) => ("badge ok", td_string!(l, groups.resolved)),
        (GroupStatus::Ignored, _) => ("badge", td_string!(l, groups.ignored)),
    };
    view! { <span class=class data-testid="group-status">{label}</span> }
}

fn when(l: Locale, t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| format!("{} {}", date(l, t), clock(t, false)))
        .unwrap_or_else(|| "—".into())
}

/// Bars of a count series as a small SVG, with the total as its text.
fn sparkline(l: Locale, values: Vec<i64>, label: String) -> impl IntoView {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = values.len().max(1) as f64;
    let w = 96.0;
    let h = 24.0;
    let bw = w / n;
    let total: i64 = values.iter().sum();
    let bars = values
        .into_iter()
        .enumerate()
        .filter(|(_, v)| *v > 0)
        .map(|(i, v)| {
            let bh = (v as f64 / max * (h - 2.0)).max(1.5);
            view! {
                <rect x=format!("{:.2}", i as f64 * bw + 0.3) y=format!("{:.2}", h - bh)
                      width=format!("{:.2}", (bw - 0.6).max(0.8)) height=format!("{bh:.2}") />
            }
        })
        .collect_view();
    let text = tf!(
        l,
        groups.spark_label,
        range = label,
        count = count(l, total)
    );
    let aria = text.clone();
    view! {
        <svg class="sparkline" viewBox="0 0 96 24" width="96" height="24" role="img"
             aria-label=aria>
            <title>{text}</title>
            <line class="baseline" x1="0" y1="23.5" x2="96" y2="23.5" />
            {bars}
        </svg>
    }
}

#[component]
pub fn ErrorsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query_map = use_query_map();
    let query = Memo::new(move |_| query_from_url(&query_map.get()));
    let spark = Memo::new(move |_| {
        if query_map.get().get("spark").as_deref() == Some("30d") {
            "30d"
        } else {
            "24h"
        }
    });
    let change = ServerAction::<ChangeErrorGroups>::new();
    let page = resource(
        move || (query.get(), change.version().get()),
        |(q, _)| list_error_groups(q),
    );
    view! {
        <Title text=t_string!(i18n, nav.errors) />
        <header class="page-header">
            <h1>{t!(i18n, nav.errors)}</h1>
            {move || {
                let service = query.get().service;
                let href = match &service {
                    Some(s) => format!("/errors/releases?service={}", encode(s)),
                    None => "/errors/releases".into(),
                };
                view! { <a class="btn" href=href>{t!(i18n, groups.releases)}</a> }
            }}
        </header>
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, common.loading)}</p> }>
            <ErrorBoundary fallback=|errors| view! {
                <section class="panel" role="alert">
                    <ul class="error-text">
                        {move || errors.get().into_iter().map(|(_, e)| view! { <li>{crate::error::describe_caught(use_locale(), &e)}</li> }).collect_view()}
                    </ul>
                </section>
            }>
                {move || Suspend::new(async move {
                    page.await.map(|p| {
                        let q = query.get_untracked();
                        let s = spark.get_untracked();
                        view! {
                            <section class="panel">
                                <Filters query=q.clone() page=p.clone() spark=s />
                            </section>
                            <GroupList page=p query=q spark=s change />
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Filters(query: GroupQuery, page: GroupPage, spark: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let option = |value: String, current: Option<&str>| {
        let selected = current == Some(value.as_str());
        let label = value.clone();
        view! { <option value=value selected=selected>{label}</option> }
    };
    let status = query.status.map(GroupStatus::as_str).unwrap_or("all");
    view! {
        <Form method="GET" action="/errors">
            <div class="filters">
                <label>
                    <span>{t!(i18n, dash.service)}</span>
                    <select name="service">
                        <option value="">{t!(i18n, common.all)}</option>
                        {page.services.into_iter().map(|s| option(s, query.service.as_deref())).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{t!(i18n, slo.status)}</span>
                    <select name="status">
                        {["open", "resolved", "ignored", "all"].into_iter().map(|s| {
                            view! { <option value=s selected=s == status>{status_label(l, s)}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{t!(i18n, events.release)}</span>
                    <select name="release">
                        <option value="">{t!(i18n, common.any)}</option>
                        {page.releases.into_iter().map(|r| option(r, query.release.as_deref())).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{t!(i18n, events.environment)}</span>
                    <select name="environment">
                        <option value="">{t!(i18n, common.any)}</option>
                        {page.environments.into_iter().map(|e| option(e, query.environment.as_deref())).collect_view()}
                    </select>
                </label>
                <label class="grow">
                    <span>{t!(i18n, groups.title_contains)}</span>
                    <input type="search" name="q" placeholder="KeyError" value=query.q.clone().unwrap_or_default() />
                </label>
                <label>
                    <span>{t!(i18n, groups.sort_by)}</span>
                    <select name="sort">
                        {[(GroupSort::LastSeen, td_string!(l, groups.sort_last_seen)), (GroupSort::Events, td_string!(l, groups.sort_events)), (GroupSort::Users, td_string!(l, groups.sort_users))]
                            .into_iter()
                            .map(|(s, label)| view! { <option value=s.as_str() selected=s == query.sort>{label}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    <span>{t!(i18n, groups.trend)}</span>
                    <select name="spark">
                        <option value="24h" selected=spark == "24h">{t!(i18n, dash.range_day)}</option>
                        <option value="30d" selected=spark == "30d">{t!(i18n, dash.range_month)}</option>
                    </select>
                </label>
                <div class="filter-actions">
                    <button type="submit" class="btn primary">{t!(i18n, common.apply)}</button>
                    <a class="btn" href="/errors">{t!(i18n, common.reset)}</a>
                </div>
            </div>
        </Form>
    }
}

#[component]
fn GroupList(
    page: GroupPage,
    query: GroupQuery,
    spark: &'static str,
    change: ServerAction<ChangeErrorGroups>,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let first_page = query.cursor.is_none();
    let selected = RwSignal::new(Vec::<i64>::new());
    let all_ids: Vec<i64> = page.groups.iter().map(|g| g.id).collect();
    let all_ids = StoredValue::new(all_ids);
    let next = page.next.clone().map(|cursor| {
        let q = GroupQuery {
            cursor: Some(cursor),
            ..query.clone()
        };
        format!("/errors?{}", query_string(&q, spark))
    });
    let first_href = format!(
        "/errors?{}",
        query_string(
            &GroupQuery {
                cursor: None,
                ..query.clone()
            },
            spark
        )
    );
    let act = move |action: GroupAction| {
        let ids = selected.get_untracked();
        if !ids.is_empty() {
            change.dispatch(ChangeErrorGroups { ids, action });
            selected.set(Vec::new());
        }
    };
    let count_shown = page.groups.len();
    let rows = page
        .groups
        .into_iter()
        .map(|g| view! { <GroupRow g selected spark /> })
        .collect_view();
    view! {
        <section class="panel">
            <div class="panel-header">
                <h2>{match (count_shown == 1, first_page) {
                    (true, true) => td_string!(l, groups.one_group).to_owned(),
                    (true, false) => td_string!(l, groups.one_group_later).to_owned(),
                    (false, true) => tf!(l, groups.n_groups, count = count_shown),
                    (false, false) => tf!(l, groups.n_groups_later, count = count_shown),
                }}</h2>
                <IfRole role=Role::Operator>
                    <div class="button-row bulk-actions" role="group" aria-label=t_string!(i18n, groups.change_selected)>
                        <span class="muted small" aria-live="polite">
                            {move || tf!(l, groups.n_selected, count = selected.get().len())}
                        </span>
                        <button class="btn" data-testid="bulk-resolve" disabled=move || selected.get().is_empty()
                                on:click=move |_| act(GroupAction::Resolve)>{t!(i18n, groups.resolve)}</button>
                        <button class="btn" data-testid="bulk-ignore" disabled=move || selected.get().is_empty()
                                on:click=move |_| act(GroupAction::Ignore)>{t!(i18n, groups.ignore)}</button>
                        <button class="btn" data-testid="bulk-reopen" disabled=move || selected.get().is_empty()
                                on:click=move |_| act(GroupAction::Reopen)>{t!(i18n, groups.reopen)}</button>
                    </div>
                </IfRole>
            </div>
            {move || change.value().get().and_then(|r| r.err()).map(|e| view! {
                <p class="error-text" role="alert">{crate::error::describe(l, &e)}</p>
            })}
            <div class="table-wrap" tabindex="0">
                <table class="groups-table" data-testid="groups-table">
                    <thead>
                        <tr>
                            <th class="check-col">
                                <input type="checkbox" aria-label=t_string!(i18n, groups.select_all)
                                    prop:checked=move || { let s = selected.get(); !s.is_empty() && s.len() == all_ids.with_value(Vec::len) }
                                    on:change=move |ev| {
                                        if event_target_checked(&ev) {
                                            selected.set(all_ids.get_value());
                                        } else {
                                            selected.set(Vec::new());
                                        }
                                    } />
                            </th>
                            <th>{t!(i18n, groups.error)}</th>
                            <th class="num">{t!(i18n, maturity.events)}</th>
                            <th class="num hide-sm">{t!(i18n, groups.users)}</th>
                            <th class="hide-sm">{if spark == "30d" { td_string!(l, dash.range_month) } else { td_string!(l, dash.range_day) }}</th>
                            <th class="hide-sm">{t!(i18n, groups.first_seen)}</th>
                            <th class="hide-sm">{t!(i18n, groups.last_seen)}</th>
                            <th class="hide-sm">{t!(i18n, slo.status)}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {(count_shown == 0).then(|| view! {
                <div class="empty-state">
                    <p>{t!(i18n, groups.none_match)}</p>
                    <p class="muted small">{t!(i18n, groups.none_hint)}</p>
                </div>
            })}
            <nav class="pager" aria-label=t_string!(i18n, common.pages)>
                {(!first_page).then(|| view! { <a class="btn" href=first_href.clone()>{t!(i18n, groups.first_page)}</a> })}
                {next.map(|href| view! { <a class="btn" href=href rel="next">{t!(i18n, groups.next_page)}</a> })}
            </nav>
        </section>
    }
}

#[component]
fn GroupRow(g: GroupSummary, selected: RwSignal<Vec<i64>>, spark: &'static str) -> impl IntoView {
    let l = use_locale();
    let id = g.id;
    let waiting = g.resolve_after_release.is_some();
    let series = if spark == "30d" {
        g.spark_30d.clone()
    } else {
        g.spark_24h.clone()
    };
    let label = if spark == "30d" {
        td_string!(l, events.range_30d)
    } else {
        td_string!(l, events.range_24h)
    };
    view! {
        <tr data-testid="group-row">
            <td class="check-col">
                <input type="checkbox" aria-label=tf!(l, groups.select_one, title = g.title.clone())
                    prop:checked=move || selected.get().contains(&id)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.update(|s| {
                            s.retain(|x| *x != id);
                            if on { s.push(id); }
                        });
                    } />
            </td>
            <td class="group-cell">
                <a class="group-title" href=format!("/errors/{id}")>
                    <span class=level_class(g.level)>{g.level.as_str()}</span>
                    " "
                    {g.title.clone()}
                </a>
                <div class="muted small group-sub">
                    <span>{g.service.clone()}</span>
                    {(!g.culprit.is_empty()).then(|| view! { <span class="mono">" · " {g.culprit.clone()}</span> })}
                </div>
                <div class="only-sm small group-sub">
                    {status_badge(l, g.status, waiting)}
                    <span class="muted">" " {tf!(l, groups.last_short, when = when(l, g.last_seen))}</span>
                </div>
            </td>
            <td class="num">{count(l, g.events)}</td>
            <td class="num hide-sm">{count(l, g.users)}</td>
            <td class="hide-sm">{sparkline(l, series, label.into())}</td>
            <td class="nowrap small hide-sm">{when(l, g.first_seen)}</td>
            <td class="nowrap small hide-sm">{when(l, g.last_seen)}</td>
            <td class="hide-sm">{status_badge(l, g.status, waiting)}</td>
        </tr>
    }
}

#[component]
pub fn ErrorDetailPage() -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let params = use_params_map();
    let query_map = use_query_map();
    let id = Memo::new(move |_| params.get().get("id").and_then(|s| s.parse::<i64>().ok()));
    let event = Memo::new(move |_| query_map.get().get("event"));
    let change = ServerAction::<ChangeErrorGroups>::new();
    let detail = resource(
        move || (id.get(), event.get(), change.version().get()),
        |(id, event, _)| async move {
            match id {
                Some(id) => get_error_group(id, event).await,
                None => Err(crate::error::AppError::NotFound("error group".into())),
            }
        },
    );
    view! {
        <Title text=t_string!(i18n, groups.error) />
        <header class="page-header">
            <h1>{t!(i18n, groups.error)}</h1>
            <a class="btn" href="/errors">{t!(i18n, groups.all_errors)}</a>
        </header>
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, common.loading)}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <GroupView d change /> }.into_any(),
                    Err(err) => view! { <section class="panel" role="alert"><p class="error-text">{crate::error::describe(l, &err)}</p></section> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn GroupView(d: GroupDetail, change: ServerAction<ChangeErrorGroups>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let g = d.group.clone();
    let id = g.id;
    let waiting = g.resolve_after_release.is_some();
    let act = move |action: GroupAction| {
        change.dispatch(ChangeErrorGroups {
            ids: vec![id],
            action,
        });
    };
    let status = g.status;
    let explorer = d
        .event
        .as_ref()
        .and_then(|e| e.fingerprint.clone())
        .map(|fp| {
            format!(
                "/events?service={}&fingerprint={}&level=error&range=30d",
                encode(&g.service),
                encode(&fp)
            )
        });
    let total_30d: i64 = d.daily.iter().map(|(_, n)| n).sum();
    let nav = {
        let newer = d.newer.map(|e| format!("/errors/{id}?event={e}"));
        let older = d.older.map(|e| format!("/errors/{id}?event={e}"));
        view! {
            <nav class="pager event-nav" aria-label=t_string!(i18n, groups.events_of_group)>
                {match newer {
                    Some(h) => view! { <a class="btn" href=h data-testid="newer-event">{t!(i18n, groups.newer)}</a> }.into_any(),
                    None => view! { <span class="btn disabled" aria-disabled="true">{t!(i18n, groups.newer)}</span> }.into_any(),
                }}
                <a class="btn" href=format!("/errors/{id}")>{t!(i18n, groups.latest)}</a>
                {match older {
                    Some(h) => view! { <a class="btn" href=h data-testid="older-event">{t!(i18n, events.older)}</a> }.into_any(),
                    None => view! { <span class="btn disabled" aria-disabled="true">{t!(i18n, events.older)}</span> }.into_any(),
                }}
            </nav>
        }
    };
    view! {
        <section class="panel" data-testid="group-detail">
            <div class="panel-header group-head">
                <h2 class="group-heading">
                    <span class=level_class(g.level)>{g.level.as_str()}</span>
                    " "
                    <span data-testid="group-title">{g.title.clone()}</span>
                </h2>
                {status_badge(l, status, waiting)}
            </div>
            {(!g.culprit.is_empty()).then(|| view! { <p class="mono culprit">{g.culprit.clone()}</p> })}
            <IfRole role=Role::Operator>
                <div class="button-row" role="group" aria-label=t_string!(i18n, groups.change_this)>
                    {(status != GroupStatus::Resolved).then(|| view! {
                        <button class="btn primary" data-testid="resolve" on:click=move |_| act(GroupAction::Resolve)>{t!(i18n, groups.resolve)}</button>
                    })}
                    {(status == GroupStatus::Open && !waiting).then(|| view! {
                        <button class="btn" data-testid="resolve-next" on:click=move |_| act(GroupAction::ResolveInNextRelease)>{t!(i18n, groups.resolve_next)}</button>
                    })}
                    {(status != GroupStatus::Ignored).then(|| view! {
                        <button class="btn" data-testid="ignore" on:click=move |_| act(GroupAction::Ignore)>{t!(i18n, groups.ignore)}</button>
                    })}
                    {(status != GroupStatus::Open || waiting).then(|| view! {
                        <button class="btn" data-testid="reopen" on:click=move |_| act(GroupAction::Reopen)>{t!(i18n, groups.reopen)}</button>
                    })}
                </div>
            </IfRole>
            {move || change.value().get().and_then(|r| r.err()).map(|e| view! {
                <p class="error-text" role="alert">{crate::error::describe(l, &e)}</p>
            })}
            <dl class="fields">
                <div><dt>{t!(i18n, dash.service)}</dt><dd><a href=format!("/services/{}", g.service)>{g.service.clone()}</a></dd></div>
                <div><dt>{t!(i18n, maturity.events)}</dt><dd data-testid="group-events">{count(l, g.events)}</dd></div>
                <div><dt>{t!(i18n, groups.users_affected)}</dt><dd>{count(l, g.users)}</dd></div>
                <div><dt>{t!(i18n, groups.first_seen)}</dt><dd>{when(l, g.first_seen)} {g.first_release.clone().map(|r| tf!(l, groups.in_release, release = r))}</dd></div>
                <div><dt>{t!(i18n, groups.last_seen)}</dt><dd>{when(l, g.last_seen)} {g.last_release.clone().map(|r| tf!(l, groups.in_release, release = r))}</dd></div>
                <div><dt>{t!(i18n, groups.environments)}</dt><dd>{if g.environments.is_empty() { "—".to_owned() } else { g.environments.join(", ") }}</dd></div>
                {g.resolve_after_release.clone().map(|r| view! {
                    <div><dt>{t!(i18n, groups.resolves)}</dt><dd>{tf!(l, groups.resolves_after, release = r)}</dd></div>
                })}
            </dl>
            <h3 class="subhead">{t!(i18n, dash.last_30_days)}</h3>
            <DailyChart days=d.daily.clone() />
            <p class="muted small">{if total_30d == 1 {
                    td_string!(l, groups.one_event_30d).to_owned()
                } else {
                    tf!(l, groups.n_events_30d, count = count(l, total_30d))
                }}
                {explorer.map(|href| view! { " " <a href=href>{t!(i18n, groups.open_in_explorer)}</a> })}
            </p>
        </section>
        {match d.event.clone() {
            Some(e) => view! {
                <section class="panel" data-testid="group-event">
                    <div class="panel-header">
                        <h2>{t!(i18n, events.event)} " " <span class="mono small">{e.id.to_string()}</span></h2>
                        {nav}
                    </div>
                    <p class="muted small">
                        {format!("{} {} UTC", date(l, e.occurred_at), clock(e.occurred_at, true))}
                        {e.release.clone().map(|r| format!(" · {}", tf!(l, groups.release_named, release = r)))}
                        {e.environment.clone().map(|r| format!(" · {r}"))}
                        " · "
                        <a href=format!("/events/{}", e.id)>{t!(i18n, groups.raw_event)}</a>
                    </p>
                    <EventBody detail=d.detail.clone() message=e.message.clone() />
                </section>
            }.into_any(),
            None => view! { <section class="panel"><p class="muted">{t!(i18n, groups.no_event)}</p></section> }.into_any(),
        }}
    }
}

#[component]
fn DailyChart(days: Vec<(String, i64)>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let date = move |d: &str| crate::components::format::timestamp(l, d);
    let max = days.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let n = days.len().max(1) as f64;
    let bw = 300.0 / n;
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, (day, v))| {
            let bh = if *v > 0 {
                (*v as f64 / max * 56.0).max(2.0)
            } else {
                0.0
            };
            view! {
                <rect x=format!("{:.2}", i as f64 * bw + 0.5) y=format!("{:.2}", 60.0 - bh)
                      width=format!("{:.2}", bw - 1.0) height=format!("{bh:.2}")>
                    <title>{format!("{}: {}", date(day), count(l, *v))}</title>
                </rect>
            }
        })
        .collect_view();
    let first = days.first().map(|d| date(&d.0)).unwrap_or_default();
    let last = days.last().map(|d| date(&d.0)).unwrap_or_default();
    view! {
        <figure class="group-chart">
            <svg viewBox="0 0 300 60" preserveAspectRatio="none" role="img"
                 aria-label=t_string!(i18n, groups.chart_label)>
                {bars}
            </svg>
            <figcaption class="muted small"><span>{first}</span><span>{last}</span></figcaption>
            <details class="small">
                <summary>{t!(i18n, chart.as_table)}</summary>
                <table class="chart-table">
                    <thead><tr><th>{t!(i18n, maint_form.day)}</th><th class="num">{t!(i18n, maturity.events)}</th></tr></thead>
                    <tbody>
                        {days.into_iter().filter(|(_, n)| *n > 0).map(|(d, n)| view! {
                            <tr><td>{date(&d)}</td><td class="num">{count(l, n)}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
}

fn pairs_list(items: Vec<(String, String)>) -> impl IntoView {
    view! {
        <dl class="kv">
            {items.into_iter().map(|(k, v)| view! { <div><dt>{k}</dt><dd class="wrap-anywhere">{v}</dd></div> }).collect_view()}
        </dl>
    }
}

#[component]
fn EventBody(detail: EventDetail, message: String) -> impl IntoView {
    let EventDetail {
        exception,
        breadcrumbs,
        request,
        user,
        tags,
        contexts,
        sdk,
        platform,
        server_name,
    } = detail;
    let i18n = use_i18n();
    let has_exception = !exception.is_empty();
    view! {
        {(!has_exception).then(|| view! { <p class="event-message">{message}</p> })}
        {has_exception.then(|| view! {
            <h3 class="subhead">{t!(i18n, payload.exception)}</h3>
            <div class="exceptions" data-testid="exception-chain">
                {exception.into_iter().enumerate().map(|(i, e)| { let caused = i > 0; view! { <ExceptionView e caused /> } }).collect_view()}
            </div>
        })}
        {(!breadcrumbs.is_empty()).then(|| view! {
            <h3 class="subhead">{t!(i18n, payload.breadcrumbs)}</h3>
            <div class="table-wrap" tabindex="0">
                <table class="crumbs" data-testid="breadcrumbs">
                    <thead><tr><th>{t!(i18n, events.time)}</th><th>{t!(i18n, payload.category)}</th><th>{t!(i18n, events.level)}</th><th>{t!(i18n, events.message)}</th></tr></thead>
                    <tbody>
                        {breadcrumbs.into_iter().map(|b| {
                            let data = b.data.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
                            view! {
                                <tr>
                                    <td class="nowrap mono small">{b.timestamp.clone().map(|t| t.get(11..23).unwrap_or(&t).to_owned()).unwrap_or_default()}</td>
                                    <td class="mono small">{b.category}</td>
                                    <td class="small">{b.level}</td>
                                    <td class="wrap-anywhere">{b.message}{(!data.is_empty()).then(|| view! { <span class="muted small">" " {data}</span> })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
        {(!request.is_empty()).then(|| view! { <h3 class="subhead">{t!(i18n, payload.request)}</h3> {pairs_list(request)} })}
        {(!user.is_empty()).then(|| view! { <h3 class="subhead">{t!(i18n, events.user)}</h3> {pairs_list(user)} })}
        {(!tags.is_empty()).then(|| view! {
            <h3 class="subhead">{t!(i18n, payload.tags)}</h3>
            <ul class="tags">
                {tags.into_iter().map(|(k, v)| view! { <li><span class="muted">{k}</span>" "{v}</li> }).collect_view()}
            </ul>
        })}
        {(!contexts.is_empty()).then(|| view! {
            <h3 class="subhead">{t!(i18n, payload.contexts)}</h3>
            <div class="contexts">
                {contexts.into_iter().map(|(name, items)| view! {
                    <div class="context"><h4>{name}</h4>{pairs_list(items)}</div>
                }).collect_view()}
            </div>
        })}
        {(sdk.is_some() || platform.is_some() || server_name.is_some()).then(|| view! {
            <h3 class="subhead">"SDK"</h3>
            <p class="small mono">
                {[sdk, platform.map(|p| format!("platform {p}")), server_name.map(|s| format!("server {s}"))]
                    .into_iter().flatten().collect::<Vec<_>>().join(" · ")}
            </p>
        })}
    }
}

#[component]
fn ExceptionView(e: Exception, caused: bool) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    view! {
        <div class="exception">
            {caused.then(|| view! { <p class="muted small">{t!(i18n, payload.caused_by)}</p> })}
            <p class="exception-title">
                <strong class="mono">{e.kind.clone()}</strong>
                {(!e.value.is_empty()).then(|| view! { ": " {e.value.clone()} })}
            </p>
            {(e.mechanism.is_some() || e.handled.is_some()).then(|| view! {
                <p class="muted small">
                    {e.mechanism.clone().map(|m| format!("mechanism {m}"))}
                    {e.handled.map(|h| format!(" · {}", if h { td_string!(l, payload.handled) } else { td_string!(l, payload.unhandled) }))}
                </p>
            })}
            <ol class="frames">
                {e.frames.into_iter().map(|f| view! { <FrameView f /> }).collect_view()}
            </ol>
        </div>
    }
}

#[component]
fn FrameView(f: Frame) -> impl IntoView {
    let i18n = use_i18n();
    let place = f
        .module
        .clone()
        .or_else(|| f.filename.clone())
        .or_else(|| f.abs_path.clone())
        .unwrap_or_else(|| "?".into());
    let file = f.filename.clone().or_else(|| f.abs_path.clone());
    let line = f.lineno;
    let function = f.function.clone().unwrap_or_else(|| "?".into());
    let has_body = f.context_line.is_some() || !f.vars.is_empty();
    let start = line.map(|l| l - f.pre_context.len() as i64);
    let code: Vec<(Option<i64>, String, bool)> = f
        .pre_context
        .iter()
        .map(|l| (l.clone(), false))
        .chain(f.context_line.iter().map(|l| (l.clone(), true)))
        .chain(f.post_context.iter().map(|l| (l.clone(), false)))
        .enumerate()
        .map(|(i, (text, current))| (start.map(|s| s + i as i64), text, current))
        .collect();
    let class = if f.in_app { "frame in-app" } else { "frame" };
    let summary = view! {
        <summary>
            <span class="mono">{place}</span>
            " " {t!(i18n, payload.in_fn)} " "
            <strong class="mono">{function}</strong>
            {file.map(|file| view! { <span class="muted small mono">" " {file}{line.map(|l| format!(":{l}"))}</span> })}
            {f.in_app.then(|| view! { <span class="badge info small">"app"</span> })}
        </summary>
    };
    let vars = f.vars.clone();
    view! {
        <li class=class data-testid=if f.in_app { "frame-in-app" } else { "frame" }>
            <details open=f.in_app>
                {summary}
                {has_body.then(|| view! {
                    <pre tabindex="0" class="code"><code>
                        {code.into_iter().map(|(n, text, current)| view! {
                            <span class=if current { "line current" } else { "line" }>
                                <span class="ln" aria-hidden="true">{n.map(|n| n.to_string()).unwrap_or_default()}</span>
                                {text}"\n"
                            </span>
                        }).collect_view()}
                    </code></pre>
                    {(!vars.is_empty()).then(|| pairs_list(vars.clone()))}
                })}
                {(!has_body).then(|| view! { <p class="muted small">{t!(i18n, payload.no_context)}</p> })}
            </details>
        </li>
    }
}

#[component]
pub fn ReleasesPage() -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let query_map = use_query_map();
    let service = Memo::new(move |_| query_map.get().get("service").filter(|s| !s.is_empty()));
    let services = resource(|| (), |_| crate::events::server_fns::event_facets());
    let releases = resource(
        move || service.get(),
        |s| async move {
            match s {
                Some(s) => get_releases(s).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Title text=t_string!(i18n, groups.releases) />
        <header class="page-header">
            <h1>{t!(i18n, groups.releases)}</h1>
            <a class="btn" href="/errors">{t!(i18n, groups.back_errors)}</a>
        </header>
        <section class="panel">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = services.await.map(|f| f.services).unwrap_or_default();
                    let current = service.get_untracked();
                    view! {
                        <Form method="GET" action="/errors/releases">
                            <div class="filters">
                                <label>
                                    <span>{t!(i18n, dash.service)}</span>
                                    <select name="service">
                                        <option value="">{t!(i18n, common.choose)}</option>
                                        {list.into_iter().map(|s| {
                                            let selected = current.as_deref() == Some(s.as_str());
                                            view! { <option value=s.clone() selected=selected>{s.clone()}</option> }
                                        }).collect_view()}
                                    </select>
                                </label>
                                <div class="filter-actions"><button class="btn primary" type="submit">{t!(i18n, common.show)}</button></div>
                            </div>
                        </Form>
                    }
                })}
            </Suspense>
        </section>
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, common.loading)}</p> }>
            {move || Suspend::new(async move {
                match releases.await {
                    Ok(Some(rows)) => view! { <ReleaseTable rows service=service.get_untracked().unwrap_or_default() /> }.into_any(),
                    Ok(None) => view! { <p class="muted">{t!(i18n, groups.choose_service)}</p> }.into_any(),
                    Err(e) => view! { <section class="panel" role="alert"><p class="error-text">{crate::error::describe(l, &e)}</p></section> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ReleaseTable(rows: Vec<ReleaseRow>, service: String) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let empty = rows.is_empty();
    view! {
        <section class="panel">
            <div class="table-wrap" tabindex="0">
                <table data-testid="releases-table">
                    <thead>
                        <tr>
                            <th>{t!(i18n, events.release)}</th>
                            <th>{t!(i18n, groups.first_event)}</th>
                            <th class="num">{t!(i18n, maturity.events)}</th>
                            <th class="num">{t!(i18n, dash.error_rate)}</th>
                            <th class="num hide-sm">{t!(i18n, groups.vs_previous)}</th>
                            <th class="num">{t!(i18n, groups.new_groups)}</th>
                            <th class="num hide-sm">{t!(i18n, groups.regressions)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|r| {
                            let href = format!("/errors?service={}&release={}&status=all", encode(&service), encode(&r.version));
                            let change = r.error_rate_change.map(|c| {
                                let class = if c > 0.05 { "bad-text" } else if c < -0.05 { "ok-text" } else { "muted" };
                                view! { <span class=class>{crate::components::format::delta_points(l, c, 0.0)}</span> }
                            });
                            view! {
                                <tr>
                                    <td><a class="mono" href=href>{r.version.clone()}</a>
                                        {r.deployed.then(|| view! { " " <span class="badge info">{t!(i18n, groups.deploy)}</span> })}</td>
                                    <td class="nowrap small">{when(l, Some(r.first_seen))}</td>
                                    <td class="num">{count(l, r.events)}</td>
                                    <td class="num">{crate::components::format::rate(l, r.error_rate)}</td>
                                    <td class="num hide-sm">{change}</td>
                                    <td class="num">{r.new_groups}</td>
                                    <td class="num hide-sm">{r.regressions}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {empty.then(|| view! { <p class="muted">{t!(i18n, groups.no_releases)}</p> })}
        </section>
    }
}

/// The DSN of a service, for its page: copy it into a Sentry SDK.
#[component]
pub fn DsnCard(slug: String) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let rotate = ServerAction::<RotateServiceDsn>::new();
    let origins = ServerAction::<SetServiceOrigins>::new();
    let slug_for_load = slug.clone();
    let dsn = resource(
        move || (rotate.version().get(), origins.version().get()),
        move |_| get_service_dsn(slug_for_load.clone()),
    );
    let slug = StoredValue::new(slug);
    view! {
        <section class="panel" data-testid="dsn-card">
            <div class="panel-header"><h2>{t!(i18n, dsn.title)}</h2></div>
            <Transition fallback=move || view! { <p class="muted">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match dsn.await {
                        Ok(d) => {
                            let origins_text = StoredValue::new(d.allowed_origins.join(" "));
                            view! {
                            <p class="small">{t!(i18n, dsn.intro)} " "
                                <a href=format!("/errors?service={}", encode(&slug.get_value()))>{t!(i18n, nav.errors)}</a>"."</p>
                            <pre tabindex="0" class="secret-box mono" data-testid="dsn"><code>{d.dsn.clone()}</code></pre>
                            <p class="muted small">{if d.allowed_origins.is_empty() {
                                td_string!(l, dsn.no_origins).to_owned()
                            } else {
                                tf!(l, dsn.origins, origins = d.allowed_origins.join(", "))
                            }}</p>
                            <IfRole role=Role::Admin>
                                <ActionForm action=origins attr:class="inline-form dsn-origins">
                                    <input type="hidden" name="service" value=slug.get_value() />
                                    <label>
                                        <span>{t!(i18n, dsn.allowed_origins)}</span>
                                        <input type="text" name="origins" placeholder="https://shop.example"
                                               value=origins_text.get_value() />
                                    </label>
                                    <button class="btn" type="submit">{t!(i18n, dsn.save_origins)}</button>
                                </ActionForm>
                                {move || origins.value().get().and_then(|r| r.err()).map(|e| view! {
                                    <p class="error-text" role="alert">{crate::error::describe(l, &e)}</p>
                                })}
                                <ActionForm action=rotate attr:class="inline-form dsn-rotate">
                                    <input type="hidden" name="service" value=slug.get_value() />
                                    <button class="btn" type="submit" data-testid="rotate-dsn">{t!(i18n, dsn.rotate)}</button>
                                    <span class="muted small">{t!(i18n, dsn.rotate_hint)}</span>
                                </ActionForm>
                            </IfRole>
                        }.into_any()
                        }
                        Err(e) => view! { <p class="error-text">{crate::error::describe(l, &e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos_router::params::ParamsMap;

    #[test]
    fn the_list_opens_on_open_groups_and_round_trips_its_url() {
        let q = query_from_url(&ParamsMap::new());
        assert_eq!(q.status, Some(GroupStatus::Open));
        let mut m = ParamsMap::new();
        m.insert("status", "all".to_string());
        m.insert("sort", "users".to_string());
        m.insert("q", "Key Error".to_string());
        let q = query_from_url(&m);
        assert_eq!(q.status, None);
        assert_eq!(q.sort, GroupSort::Users);
        assert_eq!(
            query_string(&q, "24h"),
            "status=all&q=Key%20Error&sort=users&spark=24h"
        );
    }
}
