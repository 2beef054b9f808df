//! The Events pages: a filterable explorer (filters in the URL, keyset
//! pagination, live tail) and the detail view of one event.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::live_widget::level_class;
use super::server_fns::{event_facets, get_event, search_events};
use super::types::LiveConnection as Connection;
use super::types::{EVENT_RANGES, EventPage, EventQuery, EventView, Level};
use crate::components::deferred::hydrate_later;
use crate::components::format::{clock, date};
use crate::lang::{Locale, t, t_string, td_string, tf, use_i18n, use_locale};
use crate::resource::resource;

/// An event range (`24h`) in words.
fn range_label(locale: Locale, value: &str) -> &'static str {
    match value {
        "1h" => td_string!(locale, events.range_1h),
        "7d" => td_string!(locale, events.range_7d),
        "30d" => td_string!(locale, events.range_30d),
        "365d" => td_string!(locale, events.range_365d),
        _ => td_string!(locale, events.range_24h),
    }
}

fn query_from_url(q: &leptos_router::params::ParamsMap) -> EventQuery {
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
    EventQuery {
        service: get("service"),
        feature: get("feature"),
        level: get("level").and_then(|l| Level::parse(&l)),
        kind: get("kind"),
        q: get("q"),
        fingerprint: get("fingerprint"),
        range: get("range").unwrap_or_default(),
        cursor: get("cursor"),
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
/// Whether a live event belongs in the current list (the stream filters by
/// service, level and type; feature and text are checked here).
fn matches(q: &EventQuery, e: &EventView) -> bool {
    q.feature.as_ref().is_none_or(|f| *f == e.feature)
        && q.q
            .as_ref()
            .is_none_or(|t| e.message.to_lowercase().contains(&t.to_lowercase()))
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query_map = use_query_map();
    let query = Memo::new(move |_| query_from_url(&query_map.get()));
    let page = resource(move || query.get(), search_events);
    let facets = resource(|| (), |_| event_facets());

    view! {
        <Title text=t_string!(i18n, nav.events) />
        <header class="page-header">
            <h1>{t!(i18n, nav.events)}</h1>
        </header>
        // The filters and the results each hydrate in a task of their own
        // (components::deferred).
        {hydrate_later(view! {
        <section class="panel">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let facets = facets.await.ok();
                    view! { <Filters query=query.get_untracked() facets /> }
                })}
            </Suspense>
        </section>
        })}
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, common.loading)}</p> }>
            <ErrorBoundary fallback=move |errors| view! {
                <section class="panel" role="alert">
                    <ul class="error-text">
                        {move || errors.get().into_iter().map(|(_, e)| view! { <li>{crate::error::describe_caught(use_locale(), &e)}</li> }).collect_view()}
                    </ul>
                </section>
            }>
                {move || Suspend::new(async move {
                    page.await.map(|p| view! { <Results page=p query=query.get_untracked() /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Filters(query: EventQuery, facets: Option<super::types::Facets>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let (services, features) = facets.map(|f| (f.services, f.features)).unwrap_or_default();
    let option = |value: String, current: Option<&str>| {
        let selected = current == Some(value.as_str());
        let label = value.clone();
        view! { <option value=value selected=selected>{label}</option> }
    };
    let range = if query.range.is_empty() {
        "24h".to_owned()
    } else {
        query.range.clone()
    };
    view! {
        <Form method="GET" action="/events">
            <div class="filters">
                <label>
                    <span>{t!(i18n, dash.service)}</span>
                    <select name="service">
                        <option value="">{t!(i18n, common.all)}</option>
                        {services.into_iter().map(|s| option(s, query.service.as_deref())).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{t!(i18n, maturity.feature)}</span>
                    <select name="feature">
                        <option value="">{t!(i18n, common.all)}</option>
                        {features.into_iter().map(|f| option(f, query.feature.as_deref())).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{t!(i18n, events.level_at_least)}</span>
                    <select name="level">
                        <option value="">{t!(i18n, common.any)}</option>
                        {Level::ALL
                            .into_iter()
                            .map(|l| option(l.as_str().to_owned(), query.level.map(Level::as_str)))
                            .collect_view()}
                    </select>
                </label>
                <label>
                    <span>{t!(i18n, events.type_starts)}</span>
                    <input type="text" name="kind" placeholder="payment." value=query.kind.clone().unwrap_or_default() />
                </label>
                <label class="grow">
                    <span>{t!(i18n, events.message_contains)}</span>
                    <input type="search" name="q" placeholder="timeout" value=query.q.clone().unwrap_or_default() />
                </label>
                <label>
                    <span>{t!(i18n, events.time)}</span>
                    <select name="range">
                        {EVENT_RANGES
                            .iter()
                            .map(|(value, _)| {
                                let selected = *value == range;
                                view! { <option value=*value selected=selected>{range_label(l, value)}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                {query.fingerprint.clone().map(|fp| view! {
                    <input type="hidden" name="fingerprint" value=fp />
                    <p class="muted small grow" data-testid="group-filter">
                        {t!(i18n, events.one_group)} " "
                        <a href="/events">{t!(i18n, events.show_all)}</a>
                    </p>
                })}
                <div class="filter-actions">
                    <button type="submit" class="btn primary">{t!(i18n, common.apply)}</button>
                    <a class="btn" href="/events">{t!(i18n, common.reset)}</a>
                </div>
            </div>
        </Form>
    }
}

#[component]
fn Results(page: EventPage, query: EventQuery) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let first_page = query.cursor.is_none();
    let rows = RwSignal::new(page.events);
    let tail = RwSignal::new(false);
    let connection = RwSignal::new(Connection::Connecting);
    let next = page.next.map(|cursor| {
        let q = EventQuery {
            cursor: Some(cursor),
            ..query.clone()
        };
        format!("/events?{}", q.to_query_string())
    });
    let newest = EventQuery {
        cursor: None,
        ..query.clone()
    };
    let newest_href = format!("/events?{}", newest.to_query_string());

    // Live tail: a child that exists only while switched on, so switching
    // off closes the stream.
    let tail_view = move || {
        tail.get().then(|| {
            let query = query.clone();
            view! { <LiveTail query rows connection cursor=page.cursor /> }
        })
    };

    hydrate_later(view! {
        <section class="panel">
            <div class="panel-header">
                <h2>{move || if first_page {
                    tf!(l, events.shown, count = rows.get().len())
                } else {
                    tf!(l, events.shown_older, count = rows.get().len())
                }}</h2>
                {first_page.then(|| view! {
                    <label class="switch">
                        <input
                            type="checkbox"
                            data-testid="live-tail"
                            prop:checked=move || tail.get()
                            on:change=move |ev| tail.set(event_target_checked(&ev))
                        />
                        <span>{t!(i18n, events.live_tail)}</span>
                    </label>
                    <Show when=move || tail.get()>
                        <span class=move || match connection.get() {
                            Connection::Live => "status live",
                            Connection::Reconnecting => "status reconnecting",
                            Connection::Connecting => "status connecting",
                        } role="status">
                            <span class="dot" aria-hidden="true"></span>
                            {move || match connection.get() {
                                Connection::Live => td_string!(l, live.live),
                                Connection::Reconnecting => td_string!(l, live.reconnecting),
                                Connection::Connecting => td_string!(l, live.connecting),
                            }}
                        </span>
                    </Show>
                })}
            </div>
            {tail_view}
            <div class="table-wrap" tabindex="0">
                <table class="events-table" data-testid="events-table">
                    <thead>
                        <tr>
                            <th>{t!(i18n, events.time_utc)}</th>
                            <th>{t!(i18n, events.level)}</th>
                            <th>{t!(i18n, events.service_feature)}</th>
                            <th class="hide-sm">{t!(i18n, events.kind)}</th>
                            <th>{t!(i18n, events.message)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || rows.get() key=|e| e.seq let:e>
                            // Each row hydrates in a task of its own: a
                            // page of rows in one would hold the main thread.
                            {hydrate_later(view! { <tr>
                                <td class="nowrap mono small">
                                    <a href=format!("/events/{}", e.id)>{format!("{} {}", date(l, e.occurred_at), clock(e.occurred_at, true))}</a>
                                </td>
                                <td><span class=level_class(e.level)>{e.level.as_str()}</span></td>
                                <td class="nowrap">
                                    {e.service.clone()}
                                    {(!e.feature.is_empty()).then(|| view! { <span class="muted">" · " {e.feature.clone()}</span> })}
                                </td>
                                <td class="mono small hide-sm">{e.kind.clone()}</td>
                                <td class="message">{e.message.clone()}</td>
                            </tr> })}
                        </For>
                    </tbody>
                </table>
            </div>
            <Show when=move || rows.get().is_empty()>
                <p class="muted">{t!(i18n, events.none_match)}</p>
            </Show>
            <nav class="pager" aria-label=t_string!(i18n, common.pages)>
                {(!first_page).then(|| view! { <a class="btn" href=newest_href.clone()>{t!(i18n, events.newest)}</a> })}
                {next.map(|href| view! { <a class="btn" href=href rel="next">{t!(i18n, events.older)}</a> })}
            </nav>
        </section>
    })
}

#[component]
fn LiveTail(
    query: EventQuery,
    rows: RwSignal<Vec<EventView>>,
    connection: RwSignal<Connection>,
    cursor: i64,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let mut params = Vec::new();
        if let Some(s) = &query.service {
            params.push(format!("service={}", super::types::encode(s)));
        }
        if let Some(l) = query.level {
            params.push(format!("level={}", l.as_str()));
        }
        if let Some(k) = &query.kind {
            params.push(format!("type={}", super::types::encode(k)));
        }
        super::live_client::connect(params.join("&"), cursor, connection, move |event| {
            if matches(&query, &event) {
                rows.update(|list| {
                    if !list.iter().any(|e| e.seq == event.seq) {
                        list.insert(0, event);
                        list.truncate(500);
                    }
                });
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (query, rows, connection, cursor);
    let i18n = use_i18n();
    view! { <p class="muted small">{t!(i18n, events.tail_hint)}</p> }
}

#[component]
pub fn EventDetailPage() -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .get()
            .get("id")
            .and_then(|s| uuid::Uuid::parse_str(&s).ok())
    });
    let event = resource(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_event(id).await,
                None => Err(crate::error::AppError::NotFound("event".into())),
            }
        },
    );
    view! {
        <Title text=t_string!(i18n, events.event) />
        <header class="page-header">
            <h1>{t!(i18n, events.event)}</h1>
            <a class="btn" href="/events">{t!(i18n, events.all_events)}</a>
        </header>
        <Suspense fallback=move || view! { <p class="muted">{t!(i18n, common.loading)}</p> }>
            {move || Suspend::new(async move {
                match event.await {
                    Ok(e) => view! { <EventDetail e /> }.into_any(),
                    Err(err) => view! { <section class="panel" role="alert"><p class="error-text">{crate::error::describe(l, &err)}</p></section> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EventDetail(e: EventView) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let attributes = serde_json::to_string_pretty(&e.attributes).unwrap_or_default();
    let row = |label: &'static str, value: String| {
        view! { <div><dt>{label}</dt><dd>{value}</dd></div> }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    view! {
        <section class="panel" data-testid="event-detail">
            <div class="panel-header">
                <h2>
                    <span class=level_class(e.level)>{e.level.as_str()}</span>
                    " "
                    <span class="mono">{e.kind.clone()}</span>
                </h2>
            </div>
            <p class="event-message">{if e.message.is_empty() { td_string!(l, events.no_message).to_owned() } else { e.message.clone() }}</p>
            <dl class="fields">
                {row(td_string!(l, dash.service), e.service.clone())}
                {row(td_string!(l, maturity.feature), if e.feature.is_empty() { "—".into() } else { e.feature.clone() })}
                {row(td_string!(l, events.occurred), e.occurred_at.to_rfc3339())}
                {row(td_string!(l, events.received), e.received_at.to_rfc3339())}
                {row(td_string!(l, events.release), opt(&e.release))}
                {row(td_string!(l, events.environment), opt(&e.environment))}
                {row(td_string!(l, events.user), opt(&e.user))}
                {row(td_string!(l, events.fingerprint), opt(&e.fingerprint))}
                {row(td_string!(l, events.event_id), e.id.to_string())}
                {row(td_string!(l, events.cursor), e.seq.to_string())}
            </dl>
            <h3 class="subhead">{t!(i18n, events.attributes)}</h3>
            <pre tabindex="0" class="json" data-testid="event-attributes"><code>{attributes}</code></pre>
        </section>
    }
}
