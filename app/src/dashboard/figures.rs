//! The Dashboard's figures, rendered to HTML on the server: the key
//! figures, the 7-day timeline, the error analysis and the side widgets
//! (services now, deliveries, backups).
//!
//! None of them reacts to anything in the browser: they change when the
//! data does, every 30 s or on Refresh. So the browser gets them as HTML
//! (`get_dashboard_parts`) and sets it into the page, and their views are
//! not compiled into the WebAssembly at all (BENCHMARKS.md: the first
//! view's module a tenth smaller). Links in them are plain links, which the
//! router follows as any other.

use leptos::prelude::*;

use super::types::{Dashboard, Kpis};
use crate::alerts::page::DeadLetterStrip;
use crate::backups::page::BackupHealthWidget;
use crate::backups::types::BackupHealth;
use crate::components::format::{count, delta_count, delta_points, percent};
use crate::components::kpi_card::{Better, KpiCard};
use crate::components::timeline_chart::TimelineChart;
use crate::dashboard::components::error_analysis::ErrorAnalysisPanel;
use crate::dashboard::page::range_label;
use crate::error::AppError;
use crate::lang::{Locale, t, td_string, tf, use_i18n, use_locale};
use crate::probes::page::NowStrip;
use crate::probes::types::ServiceStatus;

/// What the side column shows besides the live list. A part the person
/// may not see (or that failed to load) is left out, as each widget did
/// on its own before.
pub struct Side {
    pub services: Option<Vec<ServiceStatus>>,
    pub dead_letters: Option<i64>,
    pub backup: Result<BackupHealth, AppError>,
}

/// `view` rendered to HTML in `locale`, in an owner of its own (the views'
/// translations read the language from its context).
pub fn render<V: IntoView + 'static>(locale: Locale, view: impl FnOnce() -> V) -> String {
    Owner::new().with(|| {
        crate::lang::provide(locale);
        view().into_view().to_html()
    })
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

/// The key figures, the timeline and the error analysis.
#[component]
pub fn DashboardFigures(d: Dashboard) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let k: Kpis = d.kpis;
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
    view! {
        <section class="kpi-grid" aria-label=td_string!(l, dash.key_figures)>
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
        <div class="dash-grid">
            <section class="panel timeline" aria-labelledby="timeline-title">
                <div class="panel-header">
                    <h2 id="timeline-title">{t!(i18n, dash.last_7_days)}</h2>
                    <span class="muted small">{tf!(l, dash.days_in, zone = d.settings.time_zone.clone())}</span>
                </div>
                <TimelineChart days=d.timeline />
            </section>
            <ErrorAnalysisPanel errors=d.errors kpis=d.kpis />
        </div>
    }
}

/// The side column's widgets above the live list.
#[component]
pub fn SideWidgets(side: Side) -> impl IntoView {
    view! {
        {side.services.map(|services| view! { <NowStrip services /> })}
        {side.dead_letters.map(|count| view! { <DeadLetterStrip count /> })}
        <BackupHealthWidget health=side.backup />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::dashboard::types::{ErrorAnalysis, KpiSettingsView, TopSource, Window};
    use crate::dashboard::window::Range;

    fn dashboard(feature: &str) -> Dashboard {
        Dashboard {
            range: Range::Month,
            service: None,
            generated_at: "2026-12-07T12:00:00Z".into(),
            window: Window {
                from: "2026-11-07T12:00:00Z".into(),
                to: "2026-12-07T12:00:00Z".into(),
            },
            kpis: Kpis {
                usage_24h: 1234,
                ..Kpis::default()
            },
            previous: Kpis::default(),
            timeline: Vec::new(),
            errors: ErrorAnalysis {
                top_sources: vec![TopSource {
                    service: "shop".into(),
                    feature: feature.into(),
                    errors: 1,
                }],
                open: 1,
                fix_rate: 0.0,
                fixes_per_week: 0,
                mttr_seconds: None,
            },
            maturity: Vec::new(),
            settings: KpiSettingsView {
                activity_target: 100.0,
                weights: [0.3, 0.4, 0.3],
                time_zone: "UTC".into(),
            },
            services: vec!["shop".into()],
            empty: false,
        }
    }

    /// What a client sent (a feature's name) reaches the page as text,
    /// never as markup: the HTML is set into the page as it is.
    #[tokio::test]
    async fn names_from_events_are_escaped() {
        // The translations' context spawns a task, as in the server.
        let _ = any_spawner::Executor::init_tokio();
        let d = dashboard("<img src=x onerror=alert(1)>");
        let html = render(Locale::en, move || view! { <DashboardFigures d /> });
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn figures_are_rendered_in_the_language_asked_for() {
        let _ = any_spawner::Executor::init_tokio();
        let d = dashboard("checkout");
        let de = render(Locale::de, move || view! { <DashboardFigures d /> });
        assert!(
            de.contains("Produktionsreife") && de.contains("1.234"),
            "{de}"
        );
        let d = dashboard("checkout");
        let en = render(Locale::en, move || view! { <DashboardFigures d /> });
        assert!(
            en.contains("Production readiness") && en.contains("1,234"),
            "{en}"
        );
    }

    #[test]
    fn a_change_under_a_twentieth_has_no_direction() {
        assert_eq!(direction(50.0, 50.04), 0);
        assert_eq!(direction(50.1, 50.0), 1);
        assert_eq!(direction(49.9, 50.0), -1);
    }
}
