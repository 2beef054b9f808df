//! Presentational parts of the Services pages: state badges, the 90-day
//! uptime bar, the response-time chart, and the tables.

use leptos::prelude::*;

use super::types::{Incident, ProbeInfo, RecoveryRun, SloResult};
use crate::components::format::{axis_max, decimal, duration, timestamp};
use crate::lang::{Locale, t, t_string, td_string, tf, use_i18n, use_locale};

/// A percentage with `places` decimals: `99.950%` / `99,950 %`.
fn pct(l: Locale, v: f64, places: usize) -> String {
    match l {
        Locale::de => format!("{}\u{a0}%", decimal(l, v, places)),
        Locale::en => format!("{}%", decimal(l, v, places)),
    }
}

fn ms(l: Locale, v: f64) -> String {
    format!("{}\u{a0}ms", decimal(l, v, 0))
}

/// The state as a word and a colour (never colour alone).
#[component]
pub fn StateBadge(#[prop(into)] state: String) -> impl IntoView {
    let class = match state.as_str() {
        "up" | "ok" => "badge ok",
        "degraded" | "maintenance" => "badge warn",
        "down" => "badge bad",
        _ => "badge",
    };
    let label = super::page::state_label(use_locale(), &state);
    view! { <span class=class data-state=state>{label}</span> }
}

fn day_class(uptime: Option<f64>) -> &'static str {
    match uptime {
        None => "day none",
        Some(u) if u >= 99.9 => "day good",
        Some(u) if u >= 99.0 => "day fair",
        Some(_) => "day poor",
    }
}

/// 90 daily squares, oldest first, each with its uptime as a tooltip and
/// for screen readers a one-line summary.
#[component]
pub fn UptimeBar(days: Vec<(String, Option<f64>)>) -> impl IntoView {
    let l = use_locale();
    let measured: Vec<f64> = days.iter().filter_map(|d| d.1).collect();
    let summary = if measured.is_empty() {
        td_string!(l, uptime.no_checks_90).to_owned()
    } else {
        let worst = measured.iter().copied().fold(100.0_f64, f64::min);
        tf!(
            l,
            uptime.summary,
            measured = measured.len(),
            days = days.len(),
            worst = pct(l, worst, 2)
        )
    };
    view! {
        <div class="uptime-bar" role="img" aria-label=summary.clone() title=summary>
            {days
                .into_iter()
                .map(|(day, uptime)| {
                    let tip = match uptime {
                        Some(u) => format!("{}: {}", timestamp(l, &day), pct(l, u, 2)),
                        None => format!("{}: {}", timestamp(l, &day), td_string!(l, uptime.no_checks)),
                    };
                    view! { <span class=day_class(uptime) title=tip></span> }
                })
                .collect_view()}
        </div>
    }
}

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 28.0;

/// One hour of the chart: (hour, p50, p95).
type HourPoint = (String, Option<f64>, Option<f64>);

/// p50 and p95 per hour as two lines, with a table for screen readers.
#[component]
pub fn ResponseChart(points: Vec<HourPoint>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    if points.is_empty() {
        return view! { <p class="muted">{t!(i18n, chart.no_http)}</p> }.into_any();
    }
    let n = points.len().max(2) as f64;
    let max = axis_max(points.iter().filter_map(|p| p.2).fold(0.0, f64::max), 4).max(1.0);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| LEFT + plot_w * i as f64 / (n - 1.0);
    let y = |v: f64| TOP + plot_h - v / max * plot_h;
    let line = |pick: fn(&HourPoint) -> Option<f64>| {
        points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| pick(p).map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let p50 = line(|p| p.1);
    let p95 = line(|p| p.2);
    // Dots as well as lines: a single hour is a point, not a line.
    let dots = points
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            [(p.1, "dot p50"), (p.2, "dot p95")]
                .into_iter()
                .filter_map(move |(v, class)| v.map(|v| (x(i), y(v), class)))
        })
        .map(|(cx, cy, class)| view! { <circle cx=cx cy=cy r="3" class=class /> })
        .collect_view();
    let grid = (0..=4)
        .map(|k| {
            let v = max * f64::from(k) / 4.0;
            let gy = y(v);
            view! {
                <line x1=LEFT x2=W - RIGHT y1=gy y2=gy class="grid" />
                <text x=LEFT - 6.0 y=gy + 4.0 text-anchor="end" class="axis">{decimal(l, v, 0)}</text>
            }
        })
        .collect_view();
    let first = points
        .first()
        .map(|p| timestamp(l, &p.0))
        .unwrap_or_default();
    let last = if points.len() > 1 {
        points
            .last()
            .map(|p| timestamp(l, &p.0))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let rows = points
        .iter()
        .map(|(at, a, b)| {
            let fmt = |v: &Option<f64>| v.map(|v| ms(l, v)).unwrap_or_else(|| "–".into());
            view! { <tr><td>{timestamp(l, at)}</td><td>{fmt(a)}</td><td>{fmt(b)}</td></tr> }
        })
        .collect_view();
    view! {
        <figure class="chart response-chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=t_string!(i18n, chart.response_label)>
                {grid}
                <text x=LEFT y=H - 8.0 class="axis">{first}</text>
                <text x=W - RIGHT y=H - 8.0 text-anchor="end" class="axis">{last}</text>
                <polyline points=p95 class="line p95" fill="none" />
                <polyline points=p50 class="line p50" fill="none" />
                {dots}
            </svg>
            <figcaption class="legend">
                <span class="key p50">"p50"</span>
                <span class="key p95">"p95"</span>
                " " {t!(i18n, chart.response_legend)}
            </figcaption>
            <details class="chart-table">
                <summary>{t!(i18n, chart.as_table)}</summary>
                <table>
                    <thead><tr><th>{t!(i18n, chart.hour)}</th><th>"p50"</th><th>"p95"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
    .into_any()
}

fn slo_label(l: Locale, name: &str) -> &'static str {
    match name {
        "p95_ms" => td_string!(l, slo.p95),
        "error_rate" => td_string!(l, dash.error_rate),
        "uptime" => td_string!(l, slo.uptime),
        "dead_letters" => td_string!(l, slo.dead_letters),
        _ => "SLO",
    }
}

fn slo_value(l: Locale, name: &str, v: Option<f64>) -> String {
    match (name, v) {
        (_, None) => td_string!(l, slo.no_data).into(),
        ("p95_ms", Some(v)) => ms(l, v),
        ("error_rate" | "uptime", Some(v)) => pct(l, v, 3),
        (_, Some(v)) => decimal(l, v, 0),
    }
}

/// A target as given (`99.9`), with the language's decimal separator.
fn plain_number(l: Locale, t: f64) -> String {
    match l {
        Locale::de => t.to_string().replace('.', ","),
        Locale::en => t.to_string(),
    }
}

fn slo_target(l: Locale, name: &str, t: f64) -> String {
    let percent = |n: String| match l {
        Locale::de => format!("{n}\u{a0}%"),
        Locale::en => format!("{n}%"),
    };
    match name {
        "p95_ms" => format!("< {}", ms(l, t)),
        "error_rate" => format!("< {}", percent(plain_number(l, t))),
        "uptime" => format!("> {}", percent(plain_number(l, t))),
        _ => format!("= {}", decimal(l, t, 0)),
    }
}

#[component]
pub fn SloTable(slos: Vec<SloResult>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="slo-table">
                <thead>
                    <tr><th>{t!(i18n, slo.objective)}</th><th class="hide-sm">{t!(i18n, slo.target)}</th><th>{t!(i18n, slo.measured)}</th><th>{t!(i18n, slo.status)}</th></tr>
                </thead>
                <tbody>
                    {slos.into_iter().map(|s| {
                        let budget = s.budget_minutes_left.map(|m| {
                            if m >= 0.0 {
                                tf!(l, slo.left, time = duration(l, m * 60.0))
                            } else {
                                tf!(l, slo.exceeded, time = duration(l, -m * 60.0))
                            }
                        });
                        view! {
                            <tr>
                                <td>
                                    {slo_label(l, &s.name)}
                                    <div class="only-sm small muted">{slo_target(l, &s.name, s.target)}</div>
                                </td>
                                <td class="num hide-sm">{slo_target(l, &s.name, s.target)}</td>
                                <td class="num">
                                    {slo_value(l, &s.name, s.value)}
                                    {budget.map(|b| view! { <div class="small muted">{b}</div> })}
                                </td>
                                <td>
                                    {if s.met {
                                        view! { <span class="badge ok">{t!(i18n, slo.met)}</span> }.into_any()
                                    } else {
                                        view! { <span class="badge bad">{t!(i18n, slo.missed)}</span> }.into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// What a probe checks, in a few words.
pub fn target_of(l: Locale, p: &ProbeInfo) -> String {
    match (&p.url, &p.host, p.port, p.period_seconds) {
        (Some(url), _, _, _) => format!("{} {url}", p.method.clone().unwrap_or_default()),
        (_, Some(host), Some(port), _) => format!("{host}:{port}"),
        (_, _, _, Some(period)) => tf!(
            l,
            services.ping_every,
            period = duration(l, f64::from(period)),
            grace = duration(l, f64::from(p.grace_seconds.unwrap_or(0)))
        ),
        _ => String::new(),
    }
}

#[component]
pub fn IncidentsTable(incidents: Vec<Incident>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    if incidents.is_empty() {
        return view! { <p class="muted">{t!(i18n, services.no_incidents)}</p> }.into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="incidents-table">
                <thead><tr><th>{t!(i18n, services.started)}</th><th>{t!(i18n, services.duration)}</th><th class="hide-sm">{t!(i18n, services.probe)}</th><th>{t!(i18n, services.cause)}</th></tr></thead>
                <tbody>
                    {incidents.into_iter().map(|i| view! {
                        <tr class:open=i.ended_at.is_none()>
                            <td class="nowrap small">{timestamp(l, &i.started_at)}</td>
                            <td class="num">
                                {duration(l, i.duration_seconds as f64)}
                                {i.ended_at.is_none().then(|| view! { " " <span class="badge bad">{t!(i18n, services.ongoing)}</span> })}
                            </td>
                            <td class="hide-sm">{i.probe}</td>
                            <td class="small">{i.cause}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn RecoveryRunsTable(runs: Vec<RecoveryRun>) -> impl IntoView {
    let i18n = use_i18n();
    let l = use_locale();
    if runs.is_empty() {
        return view! {
            <p class="muted">{t!(i18n, services.no_recovery)}</p>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0">
            <table data-testid="recovery-table">
                <thead><tr><th>{t!(i18n, services.started)}</th><th>{t!(i18n, services.exit_code)}</th><th>{t!(i18n, services.duration)}</th><th>{t!(i18n, services.output)}</th></tr></thead>
                <tbody>
                    {runs.into_iter().map(|r| view! {
                        <tr>
                            <td class="nowrap small">{timestamp(l, &r.started_at)}</td>
                            <td class="num">{r.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "–".into())}</td>
                            <td class="num">{r.duration_ms.map(|ms| duration(l, ms / 1000.0)).unwrap_or_else(|| "–".into())}</td>
                            <td class="small">
                                {r.error.map(|e| view! { <div class="error-text">{e}</div> })}
                                {r.output.filter(|o| !o.is_empty()).map(|o| view! { <pre tabindex="0" class="output">{o}</pre> })}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
