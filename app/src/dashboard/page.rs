//! The Dashboard page: range and service in the URL, refreshed every 30 s
//! while keeping the previous numbers on screen.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::components::error_analysis::ErrorAnalysisPanel;
use super::components::maturity_table::MaturityTable;
use super::components::onboarding::Onboarding;
use super::server_fns::get_dashboard;
use super::types::{Dashboard, DashboardQuery};
use super::window::Range;
use crate::alerts::page::DeadLetterStrip;
use crate::backups::page::BackupHealthWidget;
use crate::components::deferred::hydrate_later;
use crate::components::format::{count, delta_count, delta_points, percent};
use crate::components::kpi_card::{Better, KpiCard};
use crate::components::timeline_chart::TimelineChart;
use crate::events::live_widget::LiveWidget;
use crate::lang::{Locale, t, t_string, td_string, tf, use_i18n, use_locale};
use crate::probes::page::NowStrip;
use crate::resource::resource;

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

fn direction(current: f64, previous: f64) -> i8 {
    let d = current - previous;
    if d.abs() < 0.05 {
        0
    } else if d > 0.0 {
        1
    } else {
        -1
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
    let dashboard = resource(move || (query.get(), tick.get()), |(q, _)| get_dashboard(q));
    let refreshing = RwSignal::new(false);

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
        // The figures, the side widgets and their parts each hydrate in a
        // task of their own (components::deferred).
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
                    dashboard.await.map(|d| view! { <DashboardBody d on_loaded=Callback::new(move |_| tick.update(|t| *t += 1)) /> })
                })}
            </ErrorBoundary>
        </Transition>
        </div>
        })}
        {hydrate_later(view! {
        <aside class="dash-aside">
            <NowStrip />
            <DeadLetterStrip tick />
            <BackupHealthWidget tick />
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

#[component]
fn DashboardBody(d: Dashboard, on_loaded: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let export = |format: &str| {
        let mut url = format!(
            "/export/dashboard?format={format}&range={}",
            d.range.as_str()
        );
        if let Some(s) = &d.service {
            url.push_str("&service=");
            url.push_str(s);
        }
        url
    };
    let k = d.kpis;
    let p = d.previous;
    let weights = d.settings.weights;
    // Weights as given (`0.4`), with the language's decimal separator.
    let weight = |w: f64| match l {
        Locale::de => w.to_string().replace('.', ","),
        Locale::en => w.to_string(),
    };
    let readiness_formula = tf!(
        l,
        formula.readiness,
        a = weight(weights[0]),
        q = weight(weights[1]),
        s = weight(weights[2])
    );
    let usage_formula = tf!(
        l,
        formula.usage,
        target = weight(d.settings.activity_target)
    );
    let range_label = range_label(l, d.range);
    let updated = d.generated_at.get(11..19).unwrap_or_default().to_owned();
    let empty = d.empty;
    view! {
        <div class="toolbar">
            <ServiceFilter range=d.range current=d.service.clone() services=d.services.clone() />
            <span class="muted small">{tf!(l, dash.range_is, range = range_label)}</span>
        </div>
        {empty.then(|| view! { <Onboarding on_loaded /> })}
        <div class="dash-figures" class:hidden=empty>
        {hydrate_later(view! {
        <section class="kpi-grid" aria-label=t_string!(i18n, dash.key_figures)>
            <KpiCard
                id="readiness"
                label=td_string!(l, dash.readiness)
                value=percent(l, k.readiness)
                gauge=k.readiness
                trend=delta_points(l, k.readiness, p.readiness)
                direction=direction(k.readiness, p.readiness)
                better=Better::Up
                formula=readiness_formula
                detail=tf!(l, dash.activity, value = percent(l, k.activity))
            />
            <KpiCard
                id="quality"
                label=td_string!(l, dash.quality)
                value=percent(l, k.quality)
                gauge=k.quality
                trend=delta_points(l, k.quality, p.quality)
                direction=direction(k.quality, p.quality)
                better=Better::Up
                formula=td_string!(l, formula.quality).to_owned()
                detail=tf!(l, dash.errors_in, count = count(l, k.errors), range = range_label)
            />
            <KpiCard
                id="stability"
                label=td_string!(l, dash.stability)
                value=percent(l, k.stability)
                gauge=k.stability
                trend=delta_points(l, k.stability, p.stability)
                direction=direction(k.stability, p.stability)
                better=Better::Up
                formula=td_string!(l, formula.stability).to_owned()
                detail=td_string!(l, dash.last_7_days_lower).to_owned()
            />
            <KpiCard
                id="usage"
                label=td_string!(l, dash.usage)
                value=count(l, k.usage_24h)
                trend=delta_count(l, k.usage_24h, p.usage_24h)
                direction=direction(k.usage_24h as f64, p.usage_24h as f64)
                better=Better::Neutral
                formula=usage_formula
                detail=tf!(l, dash.events_in, count = count(l, k.events), range = range_label)
            />
        </section>
        })}
        <div class="dash-grid">
            {hydrate_later(view! {
            <section class="panel timeline" aria-labelledby="timeline-title">
                <div class="panel-header">
                    <h2 id="timeline-title">{t!(i18n, dash.last_7_days)}</h2>
                    <span class="muted small">{tf!(l, dash.days_in, zone = d.settings.time_zone.clone())}</span>
                </div>
                <TimelineChart days=d.timeline.clone() />
            </section>
            })}
            <ErrorAnalysisPanel errors=d.errors.clone() kpis=d.kpis />
        </div>
        <MaturityTable rows=d.maturity.clone() />
        </div>
        <footer class="dash-footer muted small">
            <span>{t!(i18n, dash.updated)} " " <time datetime=d.generated_at.clone() data-testid="generated-at">{updated}</time> " " {t!(i18n, dash.refreshes)}</span>
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
