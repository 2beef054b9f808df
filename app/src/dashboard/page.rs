//! The Dashboard page: range and service in the URL, refreshed every 30 s
//! while keeping the previous numbers on screen.

use leptos::html::Div;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::components::maturity_table::{MaturityTable, TableView};
use super::components::onboarding::Onboarding;
use super::server_fns::get_dashboard_parts;
use super::types::{DashboardParts, DashboardQuery};
use super::window::Range;
use crate::components::deferred::hydrate_later;
use crate::components::server_html::ServerHtml;
use crate::events::live_widget::LiveWidget;
use crate::lang::{Locale, t, t_string, td_string, tf, use_i18n, use_locale};
use crate::resource::page_resource;

/// Seconds between automatic refreshes.
pub const REFRESH_SECONDS: u32 = 30;

fn href(range: Range, service: Option<&str>) -> String {
    match service {
        Some(s) => format!("/?range={}&service={}", range.as_str(), s),
        None => format!("/?range={}", range.as_str()),
    }
}

/// A range in words: `24 hours` / `24 Stunden`.
pub fn range_label(locale: Locale, range: Range) -> &'static str {
    match range {
        Range::Day => td_string!(locale, dash.range_day),
        Range::Week => td_string!(locale, dash.range_week),
        Range::Month => td_string!(locale, dash.range_month),
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let i18n = use_i18n();
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.get();
        DashboardQuery {
            range: q
                .get("range")
                .and_then(|r| Range::parse(&r))
                .unwrap_or_default(),
            service: q.get("service").filter(|s| !s.is_empty()),
        }
    });
    let tick = RwSignal::new(0u64);
    let parts = page_resource(
        move || (query.get(), tick.get()),
        |(q, _)| get_dashboard_parts(q),
    );
    let refreshing = RwSignal::new(false);
    let table = TableView::new();
    // The elements holding the server's HTML, kept across refreshes.
    let figures = NodeRef::new();
    let side = NodeRef::new();

    // Auto-refresh; the timer lives only in the browser.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let interval = gloo_timers::callback::Interval::new(REFRESH_SECONDS * 1000, move || {
            tick.update(|t| *t += 1);
        });
        let interval = send_wrapper::SendWrapper::new(interval);
        on_cleanup(move || drop(interval));
    });

    let refresh = move |_| tick.update(|t| *t += 1);

    view! {
        <Title text=t_string!(i18n, dash.title) />
        <header class="page-header">
            <h1>{t!(i18n, dash.title)}</h1>
            <RangePicker query />
            <button class="btn" on:click=refresh aria-label=t_string!(i18n, dash.refresh_now)>
                <span class="refresh-dot" class:spinning=move || refreshing.get() aria-hidden="true"></span>
                {t!(i18n, dash.refresh)}
            </button>
        </header>
        <div class="dash-layout">
        // The page's parts and the side column each hydrate in a task of
        // their own (components::deferred).
        {hydrate_later(view! {
        <div class="dash-main">
        <Transition
            fallback=|| view! { <DashboardSkeleton /> }
            set_pending=refreshing.write_only()
        >
            <ErrorBoundary fallback=move |errors| view! {
                <section class="panel" role="alert">
                    <h2>{t!(i18n, dash.load_failed)}</h2>
                    <ul class="error-text">
                        {move || errors.get().into_iter().map(|(_, e)| view! { <li>{crate::error::describe_caught(use_locale(), &e)}</li> }).collect_view()}
                    </ul>
                </section>
            }>
                {move || Suspend::new(async move {
                    parts.await.map(|p| view! { <DashboardBody p table figures on_loaded=Callback::new(move |_| tick.update(|t| *t += 1)) /> })
                })}
            </ErrorBoundary>
        </Transition>
        </div>
        })}
        {hydrate_later(view! {
        <aside class="dash-aside">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    parts.await.ok().map(|p| view! { <ServerHtml html=p.side node_ref=side /> })
                })}
            </Transition>
            <LiveWidget service=Signal::derive(move || query.get().service) />
        </aside>
        })}
        </div>
    }
}

#[component]
fn RangePicker(query: Memo<DashboardQuery>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = use_locale();
    view! {
        <nav class="segmented" aria-label=t_string!(i18n, dash.range)>
            {Range::ALL
                .into_iter()
                .map(|r| {
                    view! {
                        <a
                            href=move || href(r, query.get().service.as_deref())
                            aria-current=move || (query.get().range == r).then_some("true")
                            title=tf!(locale, dash.last_range, range = range_label(locale, r))
                        >
                            {r.as_str()}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

#[component]
fn ServiceFilter(range: Range, current: Option<String>, services: Vec<String>) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let mut list = services;
    if let Some(c) = &current
        && !list.contains(c)
    {
        list.push(c.clone());
    }
    view! {
        <label class="inline-field">
            <span>{t!(i18n, dash.service)}</span>
            <select
                class="service-filter"
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    let service = (!value.is_empty()).then_some(value);
                    navigate(&href(range, service.as_deref()), Default::default());
                }
            >
                <option value="" selected=current.is_none()>{t!(i18n, dash.all_services)}</option>
                {list
                    .into_iter()
                    .map(|s| {
                        let selected = current.as_deref() == Some(s.as_str());
                        let label = s.clone();
                        view! { <option value=s selected=selected>{label}</option> }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

/// The figures arrive as HTML the server rendered (`dashboard::figures`);
/// what acts in the browser is built here.
#[component]
fn DashboardBody(
    p: DashboardParts,
    table: TableView,
    figures: NodeRef<Div>,
    on_loaded: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let export = |format: &str| {
        let mut url = format!(
            "/export/dashboard?format={format}&range={}",
            p.range.as_str()
        );
        if let Some(s) = &p.service {
            url.push_str("&service=");
            url.push_str(s);
        }
        url
    };
    let updated = p.generated_at.get(11..19).unwrap_or_default().to_owned();
    let empty = p.empty;
    view! {
        <div class="toolbar">
            <ServiceFilter range=p.range current=p.service.clone() services=p.services.clone() />
            <span class="muted small">{tf!(l, dash.range_is, range = range_label(l, p.range))}</span>
        </div>
        {empty.then(|| view! { <Onboarding on_loaded /> })}
        <div class="dash-figures" class:hidden=empty>
            <ServerHtml html=p.figures node_ref=figures />
            <MaturityTable rows=p.maturity state=table />
        </div>
        <footer class="dash-footer muted small">
            <span>{t!(i18n, dash.updated)} " " <time datetime=p.generated_at.clone() data-testid="generated-at">{updated}</time> " " {t!(i18n, dash.refreshes)}</span>
            <span class="export">
                {t!(i18n, dash.export)} ": "
                <a href=export("csv") download>"CSV"</a>
                " · "
                <a href=export("json") download>"JSON"</a>
            </span>
        </footer>
    }
}

#[component]
fn DashboardSkeleton() -> impl IntoView {
    view! {
        <section class="kpi-grid" aria-busy="true">
            {(0..4).map(|_| view! { <article class="card kpi skeleton"><h2>" "</h2><p class="kpi-value">" "</p></article> }).collect_view()}
        </section>
    }
}
