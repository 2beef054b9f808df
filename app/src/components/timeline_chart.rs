//! The 7-day timeline: events as bars (left axis), errors and fixes as
//! lines (right axis), with axis labels, a legend and a table for screen
//! readers.

use leptos::prelude::*;

use super::format::{axis_max, count};
use crate::dashboard::types::TimelineDay;
use crate::lang::{Locale, t, td_string, tf, use_i18n, use_locale};

const W: f64 = 640.0;
const H: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 34.0;

/// "2026-11-16" as a compact day: "11/16" / "16.11.".
fn short_date(locale: Locale, date: &str) -> String {
    let parts: Vec<&str> = date.split('-').collect();
    match parts.as_slice() {
        [_, m, d] => {
            let (d, m) = (d.trim_start_matches('0'), m.trim_start_matches('0'));
            match locale {
                Locale::de => format!("{d}.{m}."),
                Locale::en => format!("{m}/{d}"),
            }
        }
        _ => date.to_owned(),
    }
}

fn compact(locale: Locale, v: f64) -> String {
    if v >= 1_000_000.0 {
        format!("{}M", trim(locale, v / 1_000_000.0))
    } else if v >= 1000.0 {
        format!("{}k", trim(locale, v / 1000.0))
    } else {
        trim(locale, v)
    }
}

fn trim(locale: Locale, v: f64) -> String {
    let s = format!("{v:.1}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match locale {
        Locale::de => s.replace('.', ","),
        Locale::en => s.to_owned(),
    }
}

/// Rendered on the server only (`dashboard::figures`): plain values, drawn
/// once.
#[component]
pub fn TimelineChart(days: Vec<TimelineDay>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    let chart = {
        let n = days.len().max(1) as f64;
        let plot_w = W - LEFT - RIGHT;
        let plot_h = H - TOP - BOTTOM;
        let max_events = axis_max(days.iter().map(|d| d.events).max().unwrap_or(0) as f64, 4);
        let max_right = axis_max(days.iter().map(|d| d.errors).max().unwrap_or(0) as f64, 4);
        let slot = plot_w / n;
        let bar_w = (slot * 0.56).min(46.0);
        let x_mid = |i: usize| LEFT + slot * (i as f64 + 0.5);
        let y_left = |v: f64| TOP + plot_h - v / max_events * plot_h;
        let y_right = |v: f64| TOP + plot_h - v / max_right * plot_h;

        let grid = (0..=4)
            .map(|k| {
                let f = k as f64 / 4.0;
                let y = TOP + plot_h - f * plot_h;
                view! {
                    <g>
                        <line class="grid" x1=LEFT x2=W - RIGHT y1=y y2=y />
                        <text class="axis" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">{compact(l, max_events * f)}</text>
                        <text class="axis right" x=W - RIGHT + 6.0 y=y + 4.0 text-anchor="start">{compact(l, max_right * f)}</text>
                    </g>
                }
            })
            .collect_view();
        let bars = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let y = y_left(d.events as f64);
                view! {
                    <g>
                        <rect class="bar" x=x_mid(i) - bar_w / 2.0 y=y width=bar_w height=(TOP + plot_h - y).max(0.0) rx="3">
                            <title>{tf!(l, chart.day_title, date = short_date(l, &d.date), events = count(l, d.events), errors = count(l, d.errors), fixes = count(l, d.fixes))}</title>
                        </rect>
                        <text class="axis" x=x_mid(i) y=H - BOTTOM + 18.0 text-anchor="middle">{short_date(l, &d.date)}</text>
                        {(d.fixes > 0).then(|| view! {
                            <g class="fix-marker">
                                <rect x=x_mid(i) - 15.0 y=TOP - 12.0 width="30" height="17" rx="8.5" />
                                <text x=x_mid(i) y=TOP + 1.0 text-anchor="middle">{format!("✓{}", d.fixes)}</text>
                            </g>
                        })}
                    </g>
                }
            })
            .collect_view();
        let line = |pick: fn(&TimelineDay) -> i64| {
            days.iter()
                .enumerate()
                .map(|(i, d)| format!("{:.1},{:.1}", x_mid(i), y_right(pick(d) as f64)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let dots = |pick: fn(&TimelineDay) -> i64, class: &'static str| {
            days.iter()
                .enumerate()
                .map(|(i, d)| view! { <circle class=class cx=x_mid(i) cy=y_right(pick(d) as f64) r="3.5" /> })
                .collect_view()
        };
        view! {
            {grid}
            {bars}
            <polyline class="line errors" points=line(|d| d.errors) />
            {dots(|d| d.errors, "dot errors")}
            <text class="axis-title" x="12" y=TOP + plot_h / 2.0 transform=format!("rotate(-90 12 {})", TOP + plot_h / 2.0) text-anchor="middle">{td_string!(l, chart.events_axis)}</text>
            <text class="axis-title" x=W - 8.0 y=TOP + plot_h / 2.0 transform=format!("rotate(90 {} {})", W - 8.0, TOP + plot_h / 2.0) text-anchor="middle">{td_string!(l, chart.errors_axis)}</text>
        }
    };
    let summary = {
        let events: i64 = days.iter().map(|d| d.events).sum();
        let errors: i64 = days.iter().map(|d| d.errors).sum();
        let fixes: i64 = days.iter().map(|d| d.fixes).sum();
        tf!(
            l,
            chart.summary,
            events = count(l, events),
            errors = count(l, errors),
            fixes = count(l, fixes)
        )
    };
    view! {
        <div class="chart">
            <ul class="legend" aria-hidden="true">
                <li><span class="swatch bar"></span>{t!(i18n, chart.events)}</li>
                <li><span class="swatch errors"></span>{t!(i18n, chart.errors)}</li>
                <li><span class="swatch fixes">"✓"</span>{t!(i18n, chart.fixes_per_day)}</li>
            </ul>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=summary preserveAspectRatio="xMidYMid meet" data-testid="timeline-chart">
                {chart}
            </svg>
            <table class="visually-hidden">
                <caption>{t!(i18n, chart.caption)}</caption>
                <thead><tr><th>{t!(i18n, chart.date)}</th><th>{t!(i18n, chart.events)}</th><th>{t!(i18n, chart.errors)}</th><th>{t!(i18n, chart.fixes)}</th></tr></thead>
                <tbody>
                    {days.iter().map(|d| view! {
                        <tr><td>{short_date(l, &d.date)}</td><td>{count(l, d.events)}</td><td>{count(l, d.errors)}</td><td>{count(l, d.fixes)}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_numbers_are_compact() {
        assert_eq!(short_date(Locale::de, "2026-11-06"), "6.11.");
        assert_eq!(short_date(Locale::en, "2026-11-06"), "11/6");
        assert_eq!(compact(Locale::en, 2500.0), "2.5k");
        assert_eq!(compact(Locale::de, 2500.0), "2,5k");
        assert_eq!(compact(Locale::en, 1_000_000.0), "1M");
        assert_eq!(compact(Locale::en, 12.0), "12");
    }
}
